// The npm package as a TypeScript risk system consumes it: what scripts/build-package.ts (run by
// `npm pack`) builds resolves through package.json `exports` and `bin`, type-checks in a strict
// consumer project, and runs without this repository's TypeScript sources.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const ROOT = process.cwd();
const consumer = mkdtempSync(path.join(tmpdir(), 'leverage-guard-consumer-'));

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build-package.ts'], { cwd: ROOT, stdio: 'pipe' });
  // The package as installed: node_modules/leverage-guard (a link to this checkout's root).
  mkdirSync(path.join(consumer, 'node_modules'));
  symlinkSync(ROOT, path.join(consumer, 'node_modules/leverage-guard'));
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
});

test('types: a strict NodeNext consumer type-checks against the exported declarations', () => {
  writeFileSync(
    path.join(consumer, 'producer.ts'),
    `import { buildRiskEvent, InvalidRiskEventError, type Outcome, type RiskEvent } from 'leverage-guard';
const event: RiskEvent = buildRiskEvent({ eventId: 'x', symbol: 'BTCUSDT', leverage: 5 });
const status: Outcome['status'] = 'APPLIED';
// @ts-expect-error: not an outcome status (were the declarations unresolved, Outcome would be any and this line an error)
const wrong: Outcome['status'] = 'DONE';
console.log(JSON.stringify(event), status, wrong, InvalidRiskEventError.name);
`,
  );
  const tsc = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), 'producer.ts', '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--target', 'ES2023', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules/@types')],
    { cwd: consumer, encoding: 'utf8' },
  );
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
});

test('runtime: the exported helper validates like the function; the JSON Schemas are exported too', () => {
  writeFileSync(
    path.join(consumer, 'run.mjs'),
    `import { buildRiskEvent } from 'leverage-guard';
import { createRequire } from 'node:module';
const schema = createRequire(import.meta.url)('leverage-guard/schemas/risk-event.schema.json');
try { buildRiskEvent({ eventId: 'x', symbol: 'BTCUSDT', leverage: 2.5 }); } catch (error) { console.log(error.name, error.message); }
console.log(schema.$schema);
`,
  );
  const run = spawnSync(process.execPath, ['run.mjs'], { cwd: consumer, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe('InvalidRiskEventError leverage: must be a whole number, got 2.5\nhttps://json-schema.org/draft/2020-12/schema\n');
});

test('bin: the bundled CLI runs on its own (what the launcher runs where no TypeScript source is shipped)', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
  expect(pkg.bin['leverage-guard']).toBe('bin/leverage-guard.mjs');
  expect(pkg.files).toEqual(expect.arrayContaining(['bin/', 'dist/cli/', 'schemas/']));
  expect(pkg.files.some((entry) => entry.startsWith('cli') || entry.startsWith('functions'))).toBe(false);
  const file = path.join(consumer, 'events.json');
  writeFileSync(file, JSON.stringify([{ eventId: 'a', symbol: 'BTCUSDT', leverage: 5 }, { eventId: 'b', symbol: 'btc', leverage: 5 }]));
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/leverage-guard.mjs'), 'validate', file], { cwd: consumer, encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stdout).toContain('INVALID  events[1] (b): symbol: must be an uppercase UM symbol');
});
