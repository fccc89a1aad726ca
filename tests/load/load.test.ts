// CI-sized load run (tests/load/load-run.ts): 600 events through the local stack while the
// simulator enforces a weight limit the run cannot fit into one minute. The function must pace
// itself across minute windows without a single 429, lose nothing and duplicate nothing.
// Throughput is printed, never asserted. Takes about 1.5 minutes (it waits for a minute boundary
// by design); `npm run load` is the full-size run.
import { formatReport, LOAD_DEFAULTS, type LoadReport, runLoad } from './load-run.ts';

const EVENTS = 600;
/**
 * About 845 weight for 600 events (1 per change, 5 per reduce-only read, 1 for the time call):
 * more than one minute's budget (450 = 90 % of 500), less than two, so pacing has to hold
 * requests back until a later minute, and the run ends within about two windows.
 */
const WEIGHT_LIMIT = 500;
const BUDGET = Math.floor(WEIGHT_LIMIT * 0.9);

jest.setTimeout(170_000);

let report: LoadReport;

beforeAll(async () => {
  report = await runLoad({
    ...LOAD_DEFAULTS,
    events: EVENTS,
    weightLimit: WEIGHT_LIMIT,
    pollers: 1,
    timeoutMs: 130_000,
    // At least 30 s in the first window: enough to fill its budget even on a slow machine.
    minSecondsLeftInFirstMinute: 30,
  });
  console.log(formatReport(report));
});

test('every event has exactly one outcome, and nothing else was published', () => {
  expect(report.missing).toEqual([]);
  expect(report.duplicated).toEqual([]);
  expect(report.unexpected).toBe(0);
  const total = Object.values(report.outcomesByStatus).reduce((sum, n) => sum + n, 0);
  expect(total).toBe(EVENTS);
  // Valid events below every position's notional cap: applied, or skipped (reduce-only, no reduction).
  expect(Object.keys(report.outcomesByStatus).every((status) => ['APPLIED', 'SKIPPED'].includes(status))).toBe(true);
});

test('the simulator answered no 429 and no 418', () => {
  expect(report.status429).toBe(0);
  expect(report.status418).toBe(0);
});

test('the DLQ is empty and nothing is left on the queue', () => {
  expect(report.dlq).toBe(0);
  expect(report.leftOnQueue).toBe(0);
});

test('pacing engaged: the limit bound, the weight spread over minutes, no minute over the limit', () => {
  // More weight than one minute allows, so the run had to span windows…
  expect(report.totalWeight).toBeGreaterThan(WEIGHT_LIMIT);
  expect(report.windows.length).toBeGreaterThanOrEqual(2);
  // …no minute went over the limit (or, with one container that sees everything, over its budget)…
  expect(report.maxUsedWeight).toBeLessThanOrEqual(WEIGHT_LIMIT);
  expect(report.maxUsedWeight).toBeLessThanOrEqual(BUDGET);
  // …and a minute before the last was filled up to the budget and then held: the pacer, not the
  // clock, split the work (without pacing that minute would have run on into 429s).
  const beforeLast = report.windows.slice(0, -1).map((w) => w.weight);
  expect(Math.max(...beforeLast)).toBeGreaterThanOrEqual(BUDGET - 10);
  // The function handed nothing back for its budget: every wait fitted the invocation.
  expect(report.handBacksByCode).toEqual({});
});
