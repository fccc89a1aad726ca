// `npm run package [-- --stage prod --region eu-west-1 --package <dir> --param="alarmEmail=ops@example.com"]`
//
// Packages the stack offline, with no AWS credentials, into ONE self-contained directory
// (.serverless/ unless --package <dir>): the CloudFormation templates, osls' state and the function
// zip, with no absolute path inside, so `osls deploy --package <dir>` deploys exactly these bytes
// from any checkout of the same commit.
//   1. builds the bundle (`npm run build` -> dist/change-leverage/index.mjs), the one build path;
//   2. zips it into dist/change-leverage.zip with fflate (deterministic: fixed timestamps, so the
//      same bundle gives the same bytes and an unchanged function is not re-uploaded);
//   3. runs `osls package`, which resolves and checks every param (infra/safety-params.cjs: a bad
//      value or --param override fails here with one `param <name>: ...` line) and writes the
//      templates and state;
//   4. copies the zip into the directory and points the state at it (osls would otherwise look for
//      the zip at its build-time path when deploying).
//
// Tests point it elsewhere with two variables (never used for real deployments):
//   LEVERAGE_GUARD_BUNDLE_DIR  package this directory's index.mjs as is; skips the build
//   LEVERAGE_GUARD_ARTIFACT    write the zip here (serverless.yml reads the same variable)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type Zippable, zipSync } from 'fflate';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const bundleDirOverride = process.env.LEVERAGE_GUARD_BUNDLE_DIR;
const bundleDir = resolve(root, bundleDirOverride ?? 'dist/change-leverage');
const artifact = resolve(root, process.env.LEVERAGE_GUARD_ARTIFACT ?? 'dist/change-leverage.zip');
const bundleFiles = ['index.mjs'];
/** The name osls gives a function's own artifact (package.individually): what `deploy --package` looks for. */
const FUNCTION_ARTIFACT = 'change-leverage.zip';
// The DOS epoch: zip timestamps carry no information, and a fixed one keeps the bytes reproducible.
const ZIP_TIME = new Date(1980, 0, 1);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`package: \`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(result.status || 1);
  }
}

/** The bundle as a zip: deflated, rw-r--r--, fixed timestamps; the same files always give the same bytes. */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const entries: Zippable = {};
  // os 3 (Unix) with a regular file's mode, so Lambda sees a readable file.
  for (const { name, data } of files) entries[name] = [new Uint8Array(data), { level: 9, mtime: ZIP_TIME, os: 3, attrs: 0o100644 << 16 }];
  return Buffer.from(zipSync(entries));
}

/** What a failed `osls package` said, reduced to our own `param <name>: ...` lines when there are any. */
export function paramFailures(output: string): string[] {
  const lines = output.match(/param [A-Za-z]+: [^\n]*/g) ?? [];
  return [...new Set(lines.map((line) => line.trim()))];
}

function packageDir(args: string[]): string {
  const at = args.findIndex((arg) => arg === '--package' || arg.startsWith('--package='));
  if (at < 0) return join(root, '.serverless');
  return resolve(root, args[at]!.includes('=') ? args[at]!.split('=')[1]! : args[at + 1]!);
}

/** Make the package directory deployable on its own: the zip inside, the state pointing at it. */
function selfContain(dir: string): void {
  copyFileSync(artifact, join(dir, FUNCTION_ARTIFACT));
  const stateFile = join(dir, 'serverless-state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  for (const fn of Object.values(state.service.functions as Record<string, { package?: { artifact?: string } }>)) {
    // Without an artifact path, `osls deploy --package <dir>` uses <dir>/<function>.zip.
    if (fn.package) delete fn.package.artifact;
  }
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (text.includes(root) || text.includes(dirname(artifact))) {
      console.error(`package: ${file} still contains a path of this machine; the package would not deploy elsewhere`);
      process.exit(1);
    }
  }
}

function main(): void {
  const started = Date.now();
  if (bundleDirOverride) {
    console.log(`package: using the bundle in ${relative(root, bundleDir) || '.'} (LEVERAGE_GUARD_BUNDLE_DIR), no build`);
  } else {
    run('npm', ['run', '--silent', 'build']);
  }
  const missing = bundleFiles.filter((file) => !existsSync(join(bundleDir, file)));
  if (missing.length) {
    console.error(`package: ${missing.join(', ')} missing in ${bundleDir}; run \`npm run build\` first`);
    process.exit(1);
  }
  if (basename(artifact) !== FUNCTION_ARTIFACT) {
    console.error(`package: the zip must be named ${FUNCTION_ARTIFACT} (the name osls gives the function's artifact), not ${basename(artifact)}`);
    process.exit(1);
  }
  mkdirSync(dirname(artifact), { recursive: true });
  writeFileSync(artifact, zip(bundleFiles.map((name) => ({ name, data: readFileSync(join(bundleDir, name)) }))));
  console.log(`package: ${relative(root, artifact)} <- ${bundleFiles.join(', ')}`);

  const args = process.argv.slice(2);
  if (!args.includes('--stage') && !args.some((arg) => arg.startsWith('--stage='))) args.push('--stage', 'dev');
  const osls = spawnSync(join(root, 'node_modules/.bin/osls'), ['package', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', LEVERAGE_GUARD_ARTIFACT: artifact },
  });
  const output = `${osls.stdout ?? ''}${osls.stderr ?? ''}`;
  if (osls.status !== 0) {
    const failures = paramFailures(output);
    // A rejected param is the operator's to fix: say which and why, not osls' stack trace.
    if (failures.length) for (const failure of failures) console.error(`package: ${failure}`);
    else console.error(`${output}\npackage: osls package failed (${osls.error?.message ?? `exit ${osls.status}`})`);
    process.exit(osls.status || 1);
  }
  process.stdout.write(output);
  const dir = packageDir(args);
  selfContain(dir);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`package: ${relative(root, dir)}/ ready in ${seconds} s; deploy it with \`npx osls deploy --package ${relative(root, dir)}\` and the same --stage, --region and --param`);
}

main();
