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
