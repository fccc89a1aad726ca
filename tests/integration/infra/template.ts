// Helpers for the infra tests: package the stack once, read the template, and evaluate the few
// CloudFormation intrinsics the template's conditions use, so a test can ask "which resources
// exist when RiskQueueMode=fifo?" without deploying anything.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const ROOT = process.cwd();
export const BUNDLE_DIR = path.join(ROOT, 'dist/change-leverage');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Resource {
  Type: string;
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: JsonObject;
  DependsOn?: string | string[];
}

export interface Template {
  Parameters: Record<string, { Type: string; Default?: string; AllowedValues?: string[] }>;
  Conditions: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: Json; Condition?: string; Description?: string }>;
}

export interface Packaged {
  template: Template;
  /** Resolved osls params of the packaged stage: `default` merged with the stage's own. */
  params: Record<string, unknown>;
  artifact: string;
  /** Where osls wrote the templates and state: .serverless/ unless packageStack got `outDir`. */
  outDir: string;
  bundleDir: string;
  stubbed: boolean;
  seconds: number;
  output: string;
}

export interface PackageOptions {
  /** `--package <dir>`: write the templates there instead of .serverless/. */
  outDir?: string;
  /** `--param=name=value` overrides. */
  params?: Record<string, string>;
}

/**
 * Runs `npm run package` as an operator would, minus AWS credentials. The bundle is the built
 * one when it exists; otherwise (the function is still being written) a stub in a temp dir, never
 * in dist/ or functions/. The zip always goes to a temp dir.
 * Beware: osls empties .serverless/ on every package, `--package <dir>` or not, so package into
 * .serverless/ last.
 */
export function packageStack(stage = 'dev', options: PackageOptions = {}): Packaged {
  const work = mkdtempSync(path.join(tmpdir(), 'leverage-guard-infra-'));
  const stubbed = !existsSync(path.join(BUNDLE_DIR, 'index.mjs'));
  const bundleDir = stubbed ? work : BUNDLE_DIR;
  if (stubbed) {
    writeFileSync(path.join(work, 'index.mjs'), 'export const handler = async () => ({ batchItemFailures: [] });\n');
  }
  const artifact = path.join(work, 'change-leverage.zip');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEVERAGE_GUARD_BUNDLE_DIR: bundleDir,
    LEVERAGE_GUARD_ARTIFACT: artifact,
    AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-credentials'),
    AWS_CONFIG_FILE: path.join(work, 'no-config'),
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[name];
  const started = Date.now();
  const outDir = options.outDir ?? path.join(ROOT, '.serverless');
  const args = ['--stage', stage];
  if (options.outDir) args.push('--package', options.outDir);
  for (const [name, value] of Object.entries(options.params ?? {})) args.push(`--param=${name}=${value}`);
  const result = spawnSync('npm', ['run', '--silent', 'package', '--', ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0) throw new Error(`npm run package failed (${result.status ?? result.error?.message}):\n${output}`);
  const seconds = (Date.now() - started) / 1000;
  const template = JSON.parse(
    readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const state = JSON.parse(readFileSync(path.join(outDir, 'serverless-state.json'), 'utf8'));
  const allParams = state.service.initialServerlessConfig.params as Record<string, Record<string, unknown>>;
  const params = { ...allParams.default, ...(allParams[stage] ?? {}) };
  return { template, params, artifact, outDir, bundleDir, stubbed, seconds, output };
}

/**
 * The project's Python test tools (moto, cfn-lint and its serverless rules, checkov) in .venv:
 * scripts/setup-python.sh installs them, or does nothing when their requirements files are unchanged.
 */
export function ensurePythonTools(): void {
  const setup = spawnSync('bash', ['scripts/setup-python.sh'], { cwd: ROOT, encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`scripts/setup-python.sh failed:\n${setup.stderr}`);
}

/** The file names and contents of a zip (deflate or stored entries). */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file} is not a zip`);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const data = zip.subarray(dataAt, dataAt + compressed);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** CloudFormation parameter values as the stack would see them: Defaults overridden by `overrides`. */
export function parameterValues(template: Template, overrides: Record<string, string> = {}): Record<string, Json> {
  const values: Record<string, Json> = {};
  for (const [name, parameter] of Object.entries(template.Parameters)) {
    const raw = overrides[name] ?? parameter.Default ?? '';
    values[name] = parameter.Type === 'CommaDelimitedList' ? raw.split(',') : raw;
  }
  return values;
}

/** Evaluates the intrinsics used in Conditions: Ref (parameters), Fn::Equals, Fn::Not, Fn::Join, Condition. */
export function evaluate(node: Json, template: Template, parameters: Record<string, Json>): Json {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    return Array.isArray(node) ? node.map((item) => evaluate(item, template, parameters)) : node;
  }
  const [fn, args] = Object.entries(node)[0] ?? [];
  switch (fn) {
    case 'Ref': {
      if (typeof args !== 'string' || !(args in parameters)) throw new Error(`unknown parameter ${String(args)}`);
      return parameters[args] ?? null;
    }
    case 'Condition':
      return evaluate(template.Conditions[args as string] ?? null, template, parameters);
    case 'Fn::Equals': {
      const [a, b] = (args as Json[]).map((item) => evaluate(item, template, parameters));
      return JSON.stringify(a) === JSON.stringify(b);
    }
    case 'Fn::Not':
      return !evaluate((args as Json[])[0] ?? null, template, parameters);
    case 'Fn::Join': {
      const [separator, list] = args as [string, Json];
      return (evaluate(list, template, parameters) as Json[]).join(separator);
    }
    default:
      throw new Error(`cannot evaluate ${String(fn)}`);
  }
}

export function conditionHolds(template: Template, condition: string, overrides: Record<string, string> = {}): boolean {
  const expression = template.Conditions[condition];
  if (expression === undefined) throw new Error(`no condition ${condition}`);
  return evaluate(expression, template, parameterValues(template, overrides)) === true;
}

/** Logical ids of the resources the stack would create with these parameter values. */
export function resourcesCreated(template: Template, overrides: Record<string, string> = {}): Set<string> {
  return new Set(
    Object.entries(template.Resources)
      .filter(([, resource]) => !resource.Condition || conditionHolds(template, resource.Condition, overrides))
      .map(([id]) => id),
  );
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id a `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` points at, if it is one. */
export function target(node: Json | undefined): string | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  if (typeof node.Ref === 'string') return node.Ref;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every string inside a node, Fn::Sub templates included, for "no `*`" checks. */
export function strings(node: Json | undefined): string[] {
  if (typeof node === 'string') return [node];
  if (!node || typeof node !== 'object') return [];
  return (Array.isArray(node) ? node : Object.values(node)).flatMap((item) => strings(item));
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
