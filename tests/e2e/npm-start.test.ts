// `npm start` as a newcomer runs it: the real command in the repository root, CI-like
// environment, output read as text. Expectations for the default set come from its event file.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

/** Lines printed as outcomes arrive: `[  1.4s] APPLIED  <eventId> ...`. */
function outcomeLines(stdout: string): { status: string; eventId: string }[] {
  return [...stdout.matchAll(/^\[\s*\d+\.\d+s\] (APPLIED|REJECTED|FAILED)\s+(\S+)\s/gm)].map(([, status, eventId]) => ({
    status: status!,
    eventId: eventId!,
  }));
}

const explain = (run: Run) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

interface DefaultFile {
  sqs: { eventId: string }[];
  eventBridge: { detail: { eventId: string } }[];
  scheduled: { event: { eventId: string } }[];
  expect: Record<string, { status: string; leverage?: number; code?: number | string }>;
}

test('npm start sends the default set through the real flow, prints every outcome and a summary, exits 0', async () => {
  const file = JSON.parse(readFileSync(DEFAULT_EVENTS, 'utf8')) as DefaultFile;
  const sentIds = [
    ...file.sqs.map((e) => e.eventId),
    ...file.eventBridge.map((e) => e.detail.eventId),
    ...file.scheduled.map((e) => e.event.eventId),
  ];
  // The default set must state an expectation for every event, or this test checks less than it seems.
  expect(Object.keys(file.expect).sort()).toEqual([...sentIds].sort());

  const started = Date.now();
  const run = await npmStart([]);
  const seconds = (Date.now() - started) / 1000;

  expect({ code: run.code, seconds: seconds < 60 }).toEqual({ code: 0, seconds: true });
  const rows = summaryRows(run.stdout);
  expect(rows.map((row) => row.eventId).sort()).toEqual([...sentIds].sort());
  for (const [eventId, expected] of Object.entries(file.expect)) {
    const row = rows.find((r) => r.eventId === eventId)!;
    const result = row['leverage / error']!;
    expect({ eventId, status: row.status }).toEqual({ eventId, status: expected.status });
    if (expected.leverage !== undefined) expect({ eventId, result }).toEqual({ eventId, result: `${expected.leverage}x` });
    if (expected.code !== undefined) expect({ eventId, code: result.split(' ')[0] }).toEqual({ eventId, code: String(expected.code) });
  }
  // Each outcome was printed as it arrived, with the status the table reports.
  const arrived = outcomeLines(run.stdout);
  expect(arrived.map((line) => line.eventId).sort()).toEqual([...sentIds].sort());
  for (const line of arrived) expect(line.status).toBe(file.expect[line.eventId]!.status);

  // The transient 503 was handed back and applied on redelivery; the trigger each channel reports.
  expect(run.stdout).toMatch(/handed back to SQS: demo-transient-503/);
  expect(rows.find((r) => r.eventId === 'demo-transient-503')!.tries).toBe('2');
  expect(rows.find((r) => r.eventId === 'demo-eb-eth')!.trigger).toBe('eventbridge');
  expect(rows.find((r) => r.eventId === 'weekly-deleverage')!.trigger).toBe('direct (scheduler)');

  const counts = new Map<string, number>();
  for (const { status } of Object.values(file.expect)) counts.set(status, (counts.get(status) ?? 0) + 1);
  const totals = ['APPLIED', 'REJECTED', 'FAILED'].filter((s) => counts.has(s)).map((s) => `${s} ${counts.get(s)}`);
  expect(run.stdout).toContain(`Totals: ${totals.join(', ')} (${sentIds.length} events)`);
  expect(run.stdout).toContain('DLQ: 0 message(s)');
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

    expect(run.code).toBe(0);
    const rows = summaryRows(run.stdout);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ eventId: 'e2e-applied', trigger: 'sqs', account: 'desk-2', symbol: 'ETHUSDT', status: 'APPLIED', 'leverage / error': '3x' });
    expect(rows[1]).toMatchObject({ eventId: 'e2e-too-high', status: 'REJECTED', 'leverage / error': expect.stringMatching(/^-4028 /) });
    // No eventId: the function reports the SQS message id, which the run matched to what it sent.
    expect(rows[2]).toMatchObject({ status: 'REJECTED', 'leverage / error': expect.stringMatching(/^INVALID_EVENT .*not valid JSON/) });
    expect(run.stdout).toContain('Totals: APPLIED 1, REJECTED 2 (3 events)');
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

    expect(run.code).toBe(1);
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
    await waitForOutput(serve.output, /^\[\s*\d+\.\d+s\] APPLIED\s+e2e-serve\s+desk-3\/LTCUSDT\s+9x → 9x/m);
  } finally {
    serve.signal('SIGINT');
  }
  const run = await serve.exited;
  expect(run.stdout).toMatch(/SIGINT: stopping/);
  expect(run.stdout).toMatch(/^e2e-serve\s+sqs\s+desk-3\s+LTCUSDT\s+9x\s+APPLIED/m);
}, RUN_TIMEOUT_MS + 10_000);
