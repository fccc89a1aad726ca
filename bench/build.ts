/**
 * Everything the benchmark runs is compiled to plain .mjs first, so no child pays for a
 * TypeScript loader and cold numbers measure only node and the code under test.
 * - child scripts and contenders: bundled, npm packages left external (resolved from
 *   bench/node_modules as `node` would load them for any app);
 * - the bare-SDK Lambda bundle: the function's esbuild options (LAMBDA_BUILD_OPTIONS, kept
 *   shared with scripts/build.ts via scripts/bundle-options.ts; `checkLambdaOptions` rebuilds the function with them and
 *   compares the bytes with dist/ to catch drift).
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LAMBDA_BUILD_OPTIONS } from '../scripts/bundle-options.ts';

export const BENCH_DIR = path.resolve('bench');
export const OUT_DIR = path.join(BENCH_DIR, '.build');
export const FUNCTION_BUNDLE = path.resolve('dist/change-leverage/index.mjs');
const FUNCTION_ENTRY = 'functions/change-leverage/index.ts';
export const SDK_ONLY_BUNDLE = path.join(OUT_DIR, 'sdk-only/index.mjs');

export { LAMBDA_BUILD_OPTIONS };

export const CHILD_SCRIPTS = {
  baseline: 'contenders/baseline.ts',
  baselineOverSend: 'contenders/baseline-over-send.ts',
  leverageGuard: 'contenders/leverage-guard.ts',
  connector: 'contenders/connector.ts',
  ccxtPapi: 'contenders/ccxt-papi.ts',
  ccxtUnified: 'contenders/ccxt-unified.ts',
  init: 'children/init.ts',
  batch: 'children/batch.ts',
} as const;

export type ChildScript = keyof typeof CHILD_SCRIPTS;

export function childPath(script: ChildScript): string {
  return path.join(OUT_DIR, CHILD_SCRIPTS[script].replace(/\.ts$/, '.mjs'));
}

/**
 * Variants of the function bundle for init attribution, built with the same options:
 * - leave-one-out: one group of modules replaced by an inert stub (a Proxy that absorbs every
 *   call, construction and property read, so the module still evaluates);
 * - builtins-via-require: node:http / node:https reached through process.getBuiltinModule
 *   instead of an ES import (measures what that change would save).
 * Stubbed bundles are only for timing the import; their handler cannot run.
 */
export const INIT_VARIANTS = [
  { id: 'no-powertools', label: 'function without Powertools logger', plugin: () => stubModules(/^@aws-lambda-powertools\//) },
  { id: 'no-middy', label: 'function without middy', plugin: () => stubModules(/^@middy\//) },
  // No valibot variant: the configuration is a valibot schema parsed at cold start, so a bundle
  // without it cannot start (its import cost is in the full bundle's figure).
  {
    id: 'no-exchange-http',
    label: 'function without its http module (functions/adapters/http/keep-alive-client.ts)',
    plugin: () => stubModules(/adapters\/http\/keep-alive-client\.ts$/),
  },
  // SNS goes through functions/adapters/sns/publish-batch.ts: Secrets Manager's is the one SDK client left.
  { id: 'no-sdk', label: 'function without the AWS SDK client (Secrets Manager)', plugin: () => stubModules(/^@aws-sdk\/client-secrets-manager$/) },
  {
    id: 'builtins-via-require',
    label: 'function with node:http/https taken from process.getBuiltinModule, not an ES import',
    plugin: () => builtinsWithoutEsImport(),
  },
] as const;

export function variantPath(id: string): string {
  return path.join(OUT_DIR, 'variants', id, 'index.mjs');
}

/** ESM stub exporting every name the real module exports (read from the real module). */
async function stubSource(specifier: string, resolveDir: string): Promise<string> {
  const real = specifier.startsWith('.') ? pathToFileURL(path.resolve(resolveDir, specifier)).href : specifier;
  const names = Object.keys((await import(real)) as object).filter((name) => name !== 'default');
  return [
    'const stub = new Proxy(function () {}, {',
    "  get: (_target, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => '' : stub),",
    '  apply: () => stub,',
    '  construct: () => stub,',
    '});',
    'export default stub;',
    ...names.map((name) => `export { stub as ${JSON.stringify(name)} };`),
  ].join('\n');
}

function stubModules(filter: RegExp): Plugin {
  return {
    name: 'stub-modules',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'stub', pluginData: args.resolveDir }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, async (args) => ({
        contents: await stubSource(args.path, args.pluginData as string),
        loader: 'js',
      }));
    },
  };
}

/**
 * An ES import of a built-in makes Node read every export, and node:http's lazy WebSocket,
 * CloseEvent and MessageEvent getters load Node's internal undici. This shim re-exports only the
 * plain data properties of the CommonJS module object, which stays untouched.
 */
function builtinsWithoutEsImport(): Plugin {
  return {
    name: 'builtins-without-es-import',
    setup(b) {
      b.onResolve({ filter: /^(node:)?https?$/ }, (args) => ({ path: args.path.replace(/^(node:)?/, 'node:'), namespace: 'builtin-shim' }));
      b.onLoad({ filter: /.*/, namespace: 'builtin-shim' }, (args) => {
        const module = process.getBuiltinModule(args.path) as Record<string, unknown>;
        const names = Object.entries(Object.getOwnPropertyDescriptors(module))
          .filter(([name, descriptor]) => 'value' in descriptor && /^[A-Za-z_$][\w$]*$/.test(name))
          .map(([name]) => name);
        return {
          contents: [
            `const m = process.getBuiltinModule(${JSON.stringify(args.path)});`,
            'export default m;',
            ...names.map((name) => `export const ${name} = m.${name};`),
          ].join('\n'),
          loader: 'js',
        };
      });
    },
  };
}

export async function buildAll(): Promise<{ functionCheck: LambdaOptionsCheck }> {
  await build({
    entryPoints: Object.values(CHILD_SCRIPTS).map((file) => path.join(BENCH_DIR, file)),
    outdir: OUT_DIR,
    outbase: BENCH_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node22',
    format: 'esm',
    logLevel: 'warning',
  });
  await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [path.join(BENCH_DIR, 'lambda/sdk-only.ts')], outfile: SDK_ONLY_BUNDLE });
  for (const variant of INIT_VARIANTS) {
    await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [FUNCTION_ENTRY], outfile: variantPath(variant.id), plugins: [variant.plugin()] });
  }
  return { functionCheck: await checkLambdaOptions() };
}

export interface LambdaOptionsCheck {
  same: boolean;
  benchBytes: number;
  distBytes: number;
}

async function checkLambdaOptions(): Promise<LambdaOptionsCheck> {
  const outfile = path.join(OUT_DIR, 'function-check/index.mjs');
  await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [FUNCTION_ENTRY], outfile });
  const same = readFileSync(outfile).equals(readFileSync(FUNCTION_BUNDLE));
  return { same, benchBytes: statSync(outfile).size, distBytes: statSync(FUNCTION_BUNDLE).size };
}
