/**
 * Everything the benchmark runs is compiled to plain .mjs first, so no child pays for a
 * TypeScript loader and cold numbers measure only node and the code under test.
 * - child scripts and contenders: bundled, npm packages left external (resolved from
 *   bench/node_modules as `node` would load them for any app);
 * - the bare-SDK Lambda bundle: the function's esbuild options (LAMBDA_BUILD_OPTIONS, kept
 *   equal to scripts/build.ts; `checkLambdaOptions` rebuilds the function with them and
 *   compares the bytes with dist/ to catch drift).
 */
import { build, type BuildOptions } from 'esbuild';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const BENCH_DIR = path.resolve('bench');
export const OUT_DIR = path.join(BENCH_DIR, '.build');
export const FUNCTION_BUNDLE = path.resolve('dist/change-leverage/index.mjs');
export const SDK_ONLY_BUNDLE = path.join(OUT_DIR, 'sdk-only/index.mjs');

/** Same as scripts/build.ts. */
export const LAMBDA_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};

export const CHILD_SCRIPTS = {
  baseline: 'contenders/baseline.ts',
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
  return { functionCheck: await checkLambdaOptions() };
}

export interface LambdaOptionsCheck {
  same: boolean;
  benchBytes: number;
  distBytes: number;
}

async function checkLambdaOptions(): Promise<LambdaOptionsCheck> {
  const outfile = path.join(OUT_DIR, 'function-check/index.mjs');
  await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: ['functions/change-leverage/index.ts'], outfile });
  const same = readFileSync(outfile).equals(readFileSync(FUNCTION_BUNDLE));
  return { same, benchBytes: statSync(outfile).size, distBytes: statSync(FUNCTION_BUNDLE).size };
}
