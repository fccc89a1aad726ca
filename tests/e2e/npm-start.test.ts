// `npm start` as a newcomer runs it: the real command in the repository root, CI-like
// environment, output read as text. Expectations for the default set come from its event file.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_STACK_FILE } from '../../local/run/stack-file.ts';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_EVENTS = path.join(REPO_ROOT, 'local/events/default.json');
const RUN_TIMEOUT_MS = 90_000;

jest.setTimeout(RUN_TIMEOUT_MS + 10_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `npm start -- <args>` in its own process group, collecting its output. */
function spawnNpmStart(args: string[]) {
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: signals reach npm, tsx and the run as a terminal's Ctrl-C would, and a
    // hung run is stopped with all its children (moto, the function containers).
    detached: true,
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const signal = (name: NodeJS.Signals) => child.pid && process.kill(-child.pid, name);
  const exited = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => signal('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...output });
    });
  });
  return { output, signal, exited };
}

/** Runs `npm start -- <args>` and resolves when it exits by itself (or is killed at the timeout). */
function npmStart(args: string[]): Promise<Run> {
  return spawnNpmStart(args).exited;
}

async function waitForOutput(output: { stdout: string }, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = output.stdout.match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output:\n${output.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Row = Record<string, string>;

/** The summary table: header line starting with `eventId`, a rule of ─, rows until a blank line. */
function summaryRows(stdout: string): Row[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('eventId '));
  if (start < 0) throw new Error(`no summary table in:\n${stdout}`);
  const columns = lines[start]!.trim().split(/\s{2,}/);
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (line.trim() === '') break;
    const cells = line.trim().split(/\s{2,}/);
    rows.push(Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? ''])));
  }
  return rows;
}

/** Lines printed as outcomes arrive: `[  1.4s] APPLIED  <eventId>  <account>/<symbol> ...`. */
function outcomeLines(stdout: string): { status: string; eventId: string; symbol: string }[] {
  return [...stdout.matchAll(/^\[\s*\d+\.\d+s\] ([A-Z_]+)\s+(\S+)\s+[^/\s]+\/(\S+)\s/gm)].map(([, status, eventId, symbol]) => ({
    status: status!,
    eventId: eventId!,
    symbol: symbol!,
  }));
}

/** `Totals: APPLIED 13, REJECTED 3 (16 events, 17 outcomes)` → counts by status. */
function totals(stdout: string): Record<string, number> {
  const line = stdout.match(/^Totals: (.*) \(/m)?.[1];
  if (!line) throw new Error(`no totals line in:\n${stdout}`);
  return Object.fromEntries(line.split(', ').map((part) => [part.replace(/ \d+$/, ''), Number(part.match(/\d+$/)![0])]));
}

/** Fails with the whole output, which says why far better than an exit code alone. */
function expectExit(run: Run, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
}

interface Expectation {
  status: string;
  leverage?: number;
  code?: number | string;
}

interface DefaultFile {
  sqs: { eventId: string }[];
  eventBridge: { detail: { eventId: string } }[];
  scheduled: { event: { eventId: string } }[];
  /** Keyed by eventId, or eventId/SYMBOL for one of an event's several outcomes. */
  expect: Record<string, Expectation>;
}

test('npm start sends the default set through the real flow, prints every outcome and a summary, exits 0', async () => {
  const file = JSON.parse(readFileSync(DEFAULT_EVENTS, 'utf8')) as DefaultFile;
  const sentIds = [
    ...file.sqs.map((e) => e.eventId),
    ...file.eventBridge.map((e) => e.detail.eventId),
    ...file.scheduled.map((e) => e.event.eventId),
  ];
  const expected = Object.entries(file.expect).map(([key, expectation]) => {
    const [eventId, symbol] = key.split('/') as [string, string | undefined];
    return { key, eventId, symbol, ...expectation };
  });
  // The default set states an expectation for every event, or this test checks less than it seems.
  expect([...new Set(expected.map((e) => e.eventId))].sort()).toEqual([...sentIds].sort());

  const started = Date.now();
  const run = await npmStart([]);
  const seconds = (Date.now() - started) / 1000;

  expectExit(run, 0);
  expect(seconds).toBeLessThan(60);
  const rows = summaryRows(run.stdout);
  expect(rows).toHaveLength(expected.length);
  for (const { key, eventId, symbol, status, leverage, code } of expected) {
    const row = rows.find((r) => r.eventId === eventId && (symbol === undefined || r.symbol === symbol));
    const result = row?.['leverage / error'] ?? '';
    expect({ key, status: row?.status }).toEqual({ key, status });
    // `8x`, or `20x → 8x` when the leverage before the change is known.
    if (leverage !== undefined) expect({ key, leverage: result.split(' ').at(-1) }).toEqual({ key, leverage: `${leverage}x` });
    if (code !== undefined) expect({ key, code: result.split(' ')[0] }).toEqual({ key, code: String(code) });
  }
  // Each outcome was printed as it arrived, with the status the table reports.
  const arrived = outcomeLines(run.stdout);
  expect(arrived).toHaveLength(expected.length);
  for (const line of arrived) {
    const expectation = file.expect[`${line.eventId}/${line.symbol}`] ?? file.expect[line.eventId];
    expect({ ...line, status: expectation?.status }).toEqual(line);
  }

  // The transient 503 was handed back and applied on redelivery; each channel's reported trigger.
  expect(run.stdout).toMatch(/handed back to SQS: demo-transient-503/);
  expect(rows.find((r) => r.eventId === 'demo-transient-503')!.tries).toBe('2');
  expect(rows.find((r) => r.eventId === 'demo-eb-eth')!.trigger).toBe('eventbridge');
  expect(rows.find((r) => r.eventId === 'weekly-deleverage')!.trigger).toBe('direct (scheduler)');

  const counts: Record<string, number> = {};
  for (const { status } of expected) counts[status] = (counts[status] ?? 0) + 1;
  expect(totals(run.stdout)).toEqual(counts);
  expect(run.stdout).toContain(`(${sentIds.length} events, ${expected.length} outcomes)`);
  expect(run.stdout).toContain('DLQ: 0 message(s)');
  expect(run.stdout).toMatch(/^OK: every event reached a final outcome/m);
  // Function logs stay out of the output unless --verbose.
  expect(run.stdout).not.toMatch(/"level":/);
}, RUN_TIMEOUT_MS + 10_000);

describe('with --events', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'npm-start-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a plain array of risk events is sent via SQS and each gets its outcome', async () => {
    const events = path.join(dir, 'array.json');
    writeFileSync(
      events,
      JSON.stringify([
        { eventId: 'e2e-applied', accountId: 'desk-2', symbol: 'ETHUSDT', leverage: 3 },
        { eventId: 'e2e-too-high', accountId: 'desk-3', symbol: 'DOGEUSDT', leverage: 80 },
        'not json {',
      ]),
    );

    const run = await npmStart(['--events', events]);

    expectExit(run, 0);
    const rows = summaryRows(run.stdout);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ eventId: 'e2e-applied', trigger: 'sqs', account: 'desk-2', symbol: 'ETHUSDT', status: 'APPLIED', 'leverage / error': '3x' });
    expect(rows[1]).toMatchObject({ eventId: 'e2e-too-high', status: 'REJECTED', 'leverage / error': expect.stringMatching(/^-4028 /) });
    // No eventId: the function reports the SQS message id, which the run matched to what it sent.
    expect(rows[2]).toMatchObject({ status: 'REJECTED', 'leverage / error': expect.stringMatching(/^INVALID_EVENT .*not valid JSON/) });
    expect(run.stdout).toContain('Totals: APPLIED 1, REJECTED 2 (3 events)');
  }, RUN_TIMEOUT_MS + 10_000);

  test('--env configures the function, --accounts adds an account with positions, --json shows what subscribers get', async () => {
    const accounts = path.join(dir, 'accounts.json');
    writeFileSync(accounts, JSON.stringify([
      { name: 'desk-9', positions: { BTCUSDT: { positionAmt: '1.5', entryPrice: '90000' }, ETHUSDT: { positionAmt: '-3', entryPrice: '3000' } }, leverage: { BTCUSDT: 20, ETHUSDT: 15 } },
    ]));
    const events = path.join(dir, 'configured.json');
    // The run exits 0 only if every outcome matches: the cap from --env, dry run from --env, and
    // desk-9's two open positions from --accounts (a Binance account the simulator did not have).
    writeFileSync(events, JSON.stringify({
      sqs: [
        { eventId: 'e2e-capped', accountId: 'desk-9', symbol: 'BTCUSDT', leverage: 5 },
        { eventId: 'e2e-all-open', accountId: 'desk-9', symbols: 'ALL_OPEN_POSITIONS', leverage: 2 },
      ],
      expect: {
        // Above its cap of 3 at 20x: the cap is what would be set (issue 8, a cap never blocks a reduction).
        'e2e-capped': { status: 'DRY_RUN', leverage: 3 },
        'e2e-all-open/BTCUSDT': { status: 'DRY_RUN', leverage: 2 },
        'e2e-all-open/ETHUSDT': { status: 'DRY_RUN', leverage: 2 },
      },
    }));

    const run = await npmStart(['--events', events, '--accounts', accounts, '--env', 'LEVERAGE_CAPS={"BTCUSDT":3}', '--env', 'DRY_RUN=true', '--json']);

    expectExit(run, 0);
    expect(run.stdout).toContain('env        LEVERAGE_CAPS={"BTCUSDT":3} DRY_RUN=true');
    // --json: after each outcome line, the message and its SNS message attributes.
    const printed = [...run.stdout.matchAll(/^ {9}\{\n[\s\S]*?^ {9}\}$/gm)].map(([block]) => JSON.parse(block.replace(/^ {9}/gm, '')));
    expect(printed).toHaveLength(3);
    expect(printed).toContainEqual({
      outcome: expect.objectContaining({ eventId: 'e2e-capped', status: 'DRY_RUN', requestedLeverage: 5, leverage: 3, currentLeverage: 20, capped: true }),
      messageAttributes: { status: 'DRY_RUN', symbol: 'BTCUSDT', accountId: 'desk-9' },
    });
  }, RUN_TIMEOUT_MS + 10_000);

  test('--env refuses what wires the function to the simulator and moto, and values the function would refuse', async () => {
    const wired = await npmStart(['--env', 'BINANCE_PAPI_URL=https://papi.binance.com']);
    expectExit(wired, 2);
    expect(wired.stderr).toContain('--env BINANCE_PAPI_URL: set by the local run');
    const invalid = await npmStart(['--env', 'LEVERAGE_CAPS=ten']);
    expectExit(invalid, 2);
    expect(invalid.stderr).toContain('--env: invalid configuration: LEVERAGE_CAPS');
  }, RUN_TIMEOUT_MS + 10_000);

  test('an outcome that contradicts the file\'s expectation makes the run fail', async () => {
    const events = path.join(dir, 'wrong-expectation.json');
    writeFileSync(
      events,
      JSON.stringify({
        scheduled: [{ eventId: 'e2e-scheduled', accountId: 'default', symbol: 'LTCUSDT', leverage: 7 }],
        expect: { 'e2e-scheduled': { status: 'APPLIED', leverage: 8 } },
      }),
    );

    const run = await npmStart(['--events', events]);

    expectExit(run, 1);
    expect(run.stdout).toMatch(/NOT OK: 1 problem\(s\):\n\s+e2e-scheduled \(scheduler\): leverage 7, expected 8/);
  }, RUN_TIMEOUT_MS + 10_000);

  test('a malformed events file is a usage error, reported before anything starts', async () => {
    const events = path.join(dir, 'malformed.json');
    writeFileSync(events, JSON.stringify({ sqs: [], sq: [{ eventId: 'x' }] }));

    const run = await npmStart(['--events', events]);

    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('unknown field sq'),
    });
    expect(run.stdout).not.toContain('simulator');
  });
});

test('--serve polls until Ctrl-C, takes events on its HTTP endpoint and prints their outcomes', async () => {
  const serve = spawnNpmStart(['--serve']);
  try {
    const [, httpUrl] = await waitForOutput(serve.output, /^\s+http\s+(http:\/\/127\.0\.0\.1:\d+)/m);
    await waitForOutput(serve.output, /Outcomes as they arrive/);
    expect(serve.output.stdout).toMatch(/export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+ /);

    const response = await fetch(`${httpUrl}/events`, {
      method: 'POST',
      body: JSON.stringify({ eventId: 'e2e-serve', accountId: 'desk-3', symbol: 'LTCUSDT', leverage: 9 }),
    });
    expect(response.status).toBe(202);
    await waitForOutput(serve.output, /^\[\s*\d+\.\d+s\] APPLIED\s+e2e-serve\s+desk-3\/LTCUSDT\s+9x\s/m);

    // The CLI finds the running local stack by itself (--local: the file --serve wrote).
    const eventFile = path.join(mkdtempSync(path.join(tmpdir(), 'npm-start-cli-')), 'event.json');
    writeFileSync(eventFile, JSON.stringify({ eventId: 'e2e-cli', accountId: 'desk-1', symbol: 'SOLUSDT', leverage: 4 }));
    const cli = spawnSync(process.execPath, ['bin/leverage-guard.mjs', 'send', eventFile, '--local'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
    await waitForOutput(serve.output, /^\[\s*\d+\.\d+s\] APPLIED\s+e2e-cli\s+desk-1\/SOLUSDT\s+4x\s/m);
  } finally {
    serve.signal('SIGINT');
  }
  const run = await serve.exited;
  expect(existsSync(path.join(REPO_ROOT, LOCAL_STACK_FILE))).toBe(false);
  expect(run.stdout).toMatch(/SIGINT: stopping/);
  expect(run.stdout).toMatch(/^e2e-serve\s+sqs\s+desk-3\s+LTCUSDT\s+9x\s+APPLIED/m);
}, RUN_TIMEOUT_MS + 10_000);
