/**
 * Regressions found by the chaos property: each bug it found, as one fixed scenario asserting the
 * correct behaviour. A newly found bug gets its scenario here, failing until it is fixed; nothing
 * is tolerated.
 */
import '../support/chaos/quiet-logs.ts';
import { type BinanceSimulator, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import { checkInvariants } from '../support/chaos/invariants.ts';
import { CHAOS_REQUEST_TIMEOUT_MS } from '../support/chaos/property.ts';
import { runChaosScenario } from '../support/chaos/run-scenario.ts';
import { ACCOUNTS, type ChaosScenario, PATHS, SYMBOLS } from '../support/chaos/scenario.ts';

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

const desk1Solusdt = (leverage: number) =>
  ({ kind: 'valid', account: ACCOUNTS.indexOf('desk-1'), symbol: SYMBOLS.indexOf('SOLUSDT'), leverage, omitAccount: false }) as const;
const outcomesOf = (trace: Awaited<ReturnType<typeof runChaosScenario>>) => trace.published.map((p) => [p.outcome.eventId, p.outcome.symbol, p.outcome.status]);

describe('found by the chaos property, fixed', () => {
  // A reduce-only event whose change reached the exchange but whose record was handed back (its
  // APPLIED outcome could not be published) was redelivered without a state table, read the
  // leverage it had set itself and ended SKIPPED NOT_A_REDUCTION. A redelivery that reads the
  // leverage now first checks whether its own change is in force (change-leverage.ts, decideAndApply).
  test('a reduce-only event redelivered after its change applied ends APPLIED, not SKIPPED', async () => {
    const trace = await runChaosScenario(
      { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
      scenario({
        waves: [[{ kind: 'valid', account: ACCOUNTS.indexOf('desk-2'), symbol: SYMBOLS.indexOf('ETHUSDT'), leverage: 17, omitAccount: false, reduceOnly: true }]],
        snsFailures: [true],
      }),
    );
    expect(trace.writes.map((w) => w.leverage)).toEqual([17]);
    expect(trace.published.map((p) => p.outcome)).toMatchObject([{ status: 'APPLIED', leverage: 17 }]);
    expect(checkInvariants(trace)).toEqual([]);
  });

  // Regression: a change that executed behind an unknown status, whose read-back failed, met a WAF
  // 403 page on redelivery and ended REJECTED while its leverage was in force. A 4xx without
  // Binance's error body is now retried (Binance never judged the request), and the next delivery
  // re-sends the same leverage (harmless) and reports APPLIED.
  test('an event whose unconfirmed change applied is not REJECTED on redelivery', async () => {
    const trace = await runChaosScenario(
      { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
      scenario({
        waves: [[desk1Solusdt(7)]],
        exchangeFaults: [
          { fault: { type: 'timeout', apply: true }, path: PATHS.leverage, times: 1 },
          { fault: { type: 'internalError' }, path: PATHS.symbolConfig, times: 1 },
          { fault: { type: 'nonJson', status: 403 }, path: PATHS.leverage, times: 1 },
        ],
      }),
    );
    expect(new Set(trace.writes.map((w) => w.leverage))).toEqual(new Set([7]));
    expect(trace.published.map((p) => p.outcome)).toMatchObject([{ status: 'APPLIED', leverage: 7 }]);
    expect(checkInvariants(trace)).toEqual([]);
  });

  // Regression: a claim whose change is unconfirmed ends as `retrying`, so the key keeps the newer
  // event's issuedAt in flight and an older redelivered event is SUPERSEDED instead of overtaking it.
  test('an older event does not overtake a newer one whose change is unconfirmed', async () => {
    const trace = await runChaosScenario(
      { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
      scenario({
        waves: [[desk1Solusdt(5)], [desk1Solusdt(6)]],
        exchangeFaults: [
          { fault: { type: 'internalError' }, path: PATHS.leverage, times: 1 },
          { fault: { type: 'timeout', apply: true }, path: PATHS.leverage, times: 1 },
          { fault: { type: 'internalError' }, path: PATHS.symbolConfig, times: 1 },
        ],
        stateStore: true,
        queueMode: 'standard',
        visibilityRounds: 2,
      }),
    );
    expect(trace.writes.map((w) => w.leverage)).not.toContain(5);
    expect(outcomesOf(trace)).toEqual([
      ['evt-1', 'SOLUSDT', 'SKIPPED'],
      ['evt-2', 'SOLUSDT', 'APPLIED'],
    ]);
    expect(checkInvariants(trace)).toEqual([]);
  });
});

describe('found by the chaos property, fixed earlier', () => {
  // Was: a failed release after an applied change lost the order record (release wrote lastIssuedAt),
  // so an older redelivered event overtook the newer one. Fixed in adb0748 (pending issuedAt in the claim).
  test('a failed release after an applied change does not let an older event overtake it', async () => {
    const trace = await runChaosScenario(
      { sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS },
      scenario({
        waves: [[desk1Solusdt(5)], [desk1Solusdt(6)]],
        exchangeFaults: [{ fault: { type: 'internalError' }, path: PATHS.leverage, times: 1 }],
        stateStore: true,
        // DynamoDB calls: evt-1 claim, release; evt-2 claim, release with its decision ✗.
        stateFailures: [false, false, false, 'before'],
        queueMode: 'standard',
        visibilityRounds: 2,
      }),
    );
    expect(trace.stateFailures).toMatchObject([{ operation: 'TransactWriteItems', pk: 'key#desk-1#SOLUSDT + done#desk-1#SOLUSDT#evt-2' }]);
    expect(trace.writes.map((w) => w.leverage)).toEqual([6]);
    expect(outcomesOf(trace)).toEqual([
      ['evt-2', 'SOLUSDT', 'APPLIED'],
      ['evt-1', 'SOLUSDT', 'SKIPPED'],
    ]);
    expect(checkInvariants(trace)).toEqual([]);
  });

  // Was: a targets event blocked as a whole on its final receive (pause, time budget, held, credentials)
  // published FAILED for every target, including those already decided on an earlier delivery. Fixed in adb0748.
  test('a target completed on an earlier delivery gets no FAILED when the final receive is blocked', async () => {
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
        // The first DynamoDB call is ETHUSDT's earlier-decision check.
        stateFailures: ['before'],
      }),
    );
    const statuses = (symbol: string) => trace.published.filter((p) => p.outcome.symbol === symbol).map((p) => p.outcome.status);
    expect(statuses('BTCUSDT')).toEqual(['APPLIED']);
    expect(statuses('ETHUSDT')).toEqual(['FAILED']);
    expect(checkInvariants(trace)).toEqual([]);
  });
});
