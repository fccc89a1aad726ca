/**
 * Known bugs the chaos property found, one fixed scenario each, asserting the correct behaviour.
 * They are skipped until fixed; meanwhile the property tolerates exactly these (KNOWN_BUGS in
 * tests/support/chaos/invariants.ts) so it keeps looking for new ones. When one is fixed: unskip
 * its test and remove its KNOWN_BUGS entry.
 */
import '../support/chaos/quiet-logs.ts';
import { type BinanceSimulator, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import { checkInvariants } from '../support/chaos/invariants.ts';
import { CHAOS_REQUEST_TIMEOUT_MS } from '../support/chaos/property.ts';
import { runChaosScenario } from '../support/chaos/run-scenario.ts';
import { ACCOUNTS, type ChaosScenario, SYMBOLS } from '../support/chaos/scenario.ts';

let sim: BinanceSimulator;

beforeAll(async () => {
  sim = await startBinanceSimulator();
});

afterAll(async () => {
  await sim.close();
});

const scenario = (overrides: Partial<ChaosScenario>): ChaosScenario => ({
  maxReceiveCount: 3,
  batchSize: 10,
  credentialsTtlMs: 60_000,
  waves: [],
  exchangeFaults: [],
  secretsFailures: [],
  snsFailures: [],
  invocations: [],
  stateStore: false,
  stateFailures: [],
  queueMode: 'fifo',
  visibilityRounds: 1,
  ...overrides,
});

// BUG: functions/domain/policy.ts:46 (checkReduction, called from functions/domain/change-leverage.ts:80)
// skips a reduce-only change when `requested >= currentLeverage`. When a reduce-only event's change
// reached the exchange but the record was handed back (its APPLIED outcome could not be published,
// or the read-back after an unknown execution failed), the redelivery reads the leverage this very
// event set, finds it equal to the request and publishes SKIPPED NOT_A_REDUCTION ("current leverage
// 17 is not above the requested 17"): the only outcome says nothing changed, and the change is
// invisible to subscribers. Input: desk-2 ETHUSDT (leverage 20), {"mode":"reduce-only","leverage":17},
// first SNS publish fails. Expected: one APPLIED outcome, leverage 17. Actual: one SKIPPED outcome.
// (A fix: treat requested === current as already in force, i.e. APPLIED, and skip only when requested > current.)
test.skip('BUG: a reduce-only event redelivered after its change applied ends APPLIED, not SKIPPED', async () => {
  const trace = await runChaosScenario(
    { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
    scenario({
      waves: [[{ kind: 'valid', account: ACCOUNTS.indexOf('desk-2'), symbol: SYMBOLS.indexOf('ETHUSDT'), leverage: 17, omitAccount: false, reduceOnly: true }]],
      snsFailures: [true],
    }),
  );
  expect(trace.writes).toEqual([{ account: 'desk-2', symbol: 'ETHUSDT', leverage: 17 }]);
  expect(trace.published.map((p) => p.outcome)).toMatchObject([{ status: 'APPLIED', leverage: 17 }]);
  expect(checkInvariants(trace, { tolerateKnownBugs: false })).toEqual([]);
});

// BUG: functions/domain/change-leverage.ts:94 (changeLeverage, read-back at :108) and :53
// (executeTarget turns any permanent error into REJECTED). An attempt whose change executed behind an
// unknown status (here a timeout after the simulator applied it) and whose read-back failed is
// handed back; nothing remembers that the change may be in force. If the redelivery's request then
// gets a permanent error that is not Binance's own (a WAF/CDN 403 page: HTTP_403), the event ends
// REJECTED ("the request itself is wrong"), while the leverage it asked for is in force.
// Input: desk-1 SOLUSDT (leverage 20) → 7; faults: POST timeout (applied), GET symbolConfig 500,
// POST 403 HTML. Expected: APPLIED 7 (e.g. read back before reporting a permanent error for a change
// that may have executed on an earlier delivery), or at least not REJECTED. Actual: REJECTED HTTP_403,
// exchange at 7.
test.skip('BUG: an event whose unconfirmed change applied is not REJECTED on redelivery', async () => {
  const trace = await runChaosScenario(
    { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
    scenario({
      waves: [[{ kind: 'valid', account: ACCOUNTS.indexOf('desk-1'), symbol: SYMBOLS.indexOf('SOLUSDT'), leverage: 7, omitAccount: false }]],
      exchangeFaults: [
        { fault: { type: 'timeout', apply: true }, path: '/papi/v1/um/leverage', times: 1 },
        { fault: { type: 'internalError' }, path: '/papi/v1/um/symbolConfig', times: 1 },
        { fault: { type: 'nonJson', status: 403 }, path: '/papi/v1/um/leverage', times: 1 },
      ],
    }),
  );
  expect(trace.writes).toEqual([{ account: 'desk-1', symbol: 'SOLUSDT', leverage: 7 }]);
  expect(trace.published.map((p) => p.outcome)).toMatchObject([{ status: 'APPLIED', leverage: 7 }]);
  expect(checkInvariants(trace, { tolerateKnownBugs: false })).toEqual([]);
});

// BUG: functions/domain/change-leverage.ts:87-88 (applyWithClaim) treats a failed claim release as
// harmless ("it expires with its lease"), but after an applied change the release is what records
// the event's issuedAt (functions/adapters/dynamodb/state-store.ts:80, release: SET lastIssuedAtMs).
// If that one write fails, the key keeps the issuedAt of an older change, so an OLDER event that was
// handed back earlier (standard queue: it reappears after its visibility timeout) claims the key once
// the lease is gone and is applied over the newer one: the ordering the state store exists for is lost.
// Input: desk-1 SOLUSDT; evt-1 ×5 fails (500 -1001) and is handed back; evt-2 ×6 (issued later)
// applies, its release fails; evt-1 is redelivered. Expected: evt-1 SKIPPED SUPERSEDED, leverage 6.
// Actual: evt-1 APPLIED, leverage 5 (both outcomes APPLIED). (Fixes: record lastIssuedAt in the claim's
// conditional write, or retry/hand back when the release of an applied change fails.)
test.skip('BUG: a failed release after an applied change does not let an older event overtake it', async () => {
  const trace = await runChaosScenario(
    { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
    scenario({
      waves: [
        [{ kind: 'valid', account: ACCOUNTS.indexOf('desk-1'), symbol: SYMBOLS.indexOf('SOLUSDT'), leverage: 5, omitAccount: false }],
        [{ kind: 'valid', account: ACCOUNTS.indexOf('desk-1'), symbol: SYMBOLS.indexOf('SOLUSDT'), leverage: 6, omitAccount: false }],
      ],
      exchangeFaults: [{ fault: { type: 'internalError' }, path: '/papi/v1/um/leverage', times: 1 }],
      stateStore: true,
      // State store calls: evt-1 isCompleted, claim, release(false); evt-2 isCompleted, claim, release(true) ✗.
      stateFailures: [false, false, false, false, false, true],
      queueMode: 'standard',
      visibilityRounds: 2,
    }),
  );
  expect(trace.stateFailures).toMatchObject([{ method: 'release', ref: { eventId: 'evt-2' } }]);
  expect(trace.writes.map((w) => w.leverage)).toEqual([6]);
  expect(trace.published.map((p) => [p.outcome.eventId, p.outcome.status])).toEqual([
    ['evt-2', 'APPLIED'],
    ['evt-1', 'SKIPPED'],
  ]);
  expect(checkInvariants(trace, { tolerateKnownBugs: false })).toEqual([]);
});

// BUG: functions/domain/process-batch.ts:131 and :142 (processCommand). When a record is blocked as
// a whole (PAUSED / PAUSE_SWITCH_UNAVAILABLE, TIME_BUDGET_EXHAUSTED, EARLIER_EVENT_PENDING) or fails
// before its targets run (credentials), every known target gets the same verdict, without asking the
// state store which targets already completed on an earlier delivery. On the final receive that
// publishes FAILED for targets that already have their terminal outcome.
// Input: {targets: [ETHUSDT ×1, BTCUSDT ×8]} on `default`, MAX_RECEIVE_COUNT 2, state store; receive 1:
// the ETHUSDT completion check fails (STATE_STORE_UNAVAILABLE), BTCUSDT is APPLIED and marked completed;
// receive 2 runs while paused. Expected: ETHUSDT FAILED (PAUSED), nothing more for BTCUSDT.
// Actual: BTCUSDT gets APPLIED, then FAILED (PAUSED): two contradicting outcomes for one target.
test.skip('BUG: a target completed on an earlier delivery gets no FAILED when the final receive is blocked', async () => {
  const trace = await runChaosScenario(
    { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
    scenario({
      maxReceiveCount: 2,
      waves: [[{ kind: 'valid', account: ACCOUNTS.indexOf('default'), symbol: SYMBOLS.indexOf('ETHUSDT'), leverage: 1, omitAccount: false, extraSymbols: [SYMBOLS.indexOf('BTCUSDT')] }]],
      invocations: [
        { budgetMs: 4000, coldStart: false, pauseMs: 0, paused: 'no' },
        { budgetMs: 4000, coldStart: false, pauseMs: 0, paused: 'yes' },
      ],
      stateStore: true,
      stateFailures: [true],
    }),
  );
  const outcomes = (symbol: string) => trace.published.filter((p) => p.outcome.symbol === symbol).map((p) => p.outcome.status);
  expect(outcomes('BTCUSDT')).toEqual(['APPLIED']);
  expect(outcomes('ETHUSDT')).toEqual(['FAILED']);
  expect(checkInvariants(trace, { tolerateKnownBugs: false })).toEqual([]);
});
