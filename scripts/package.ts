// `npm run package [-- --stage prod --region eu-west-1 --param="alarmEmail=ops@example.com"]`
//
// Packages the stack offline, with no AWS credentials, into .serverless/:
//   1. builds the bundle (`npm run build` -> dist/change-leverage/index.mjs), the one build path;
//   2. zips it into dist/change-leverage.zip (deterministic: same bundle, same bytes, so an
//      unchanged function is not re-uploaded), the function's `package.artifact`;
//   3. runs `osls package`, which writes the CloudFormation templates and state to .serverless/.
//
// Tests point it elsewhere with two variables (never used for real deployments):
//   LEVERAGE_GUARD_BUNDLE_DIR  package this directory's index.mjs as is; skips the build
//   LEVERAGE_GUARD_ARTIFACT    write the zip here (serverless.yml reads the same variable)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const bundleDirOverride = process.env.LEVERAGE_GUARD_BUNDLE_DIR;
const bundleDir = resolve(root, bundleDirOverride ?? 'dist/change-leverage');
const artifact = resolve(root, process.env.LEVERAGE_GUARD_ARTIFACT ?? 'dist/change-leverage.zip');
const bundleFiles = ['index.mjs'];

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`package: \`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})`);
    process.exit(result.status || 1);
  }
}

/** A stored-deflate zip with fixed timestamps: the same files always give the same bytes. */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const DOS_TIME = 0; // 00:00:00
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const body = deflateRawSync(file.data, { level: 9 });
    const crc = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    local.copy(central, 6, 4, 28); // version needed .. name length: same fields as the local header
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
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
  mkdirSync(dirname(artifact), { recursive: true });
  writeFileSync(artifact, zip(bundleFiles.map((name) => ({ name, data: readFileSync(join(bundleDir, name)) }))));
  console.log(`package: ${relative(root, artifact)} <- ${bundleFiles.join(', ')}`);

  const args = process.argv.slice(2);
  if (!args.includes('--stage') && !args.some((arg) => arg.startsWith('--stage='))) args.push('--stage', 'dev');
  run(join(root, 'node_modules/.bin/osls'), ['package', ...args], {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    LEVERAGE_GUARD_ARTIFACT: artifact,
  });
  console.log(`package: .serverless/ ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
