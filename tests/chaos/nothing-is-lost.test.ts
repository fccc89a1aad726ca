/**
 * Chaos: nothing is ever lost. Random batches against random faults at the exchange (every fault
 * the simulator can inject), Secrets Manager and SNS, replayed through SQS redeliveries until the
 * queue drains, through the REAL handler and exchange client. The invariants are in
 * tests/support/chaos/invariants.ts; `npm run chaos:long` runs the same property for longer.
 */
import '../support/chaos/quiet-logs.ts';
import fc from 'fast-check';
import { type BinanceSimulator, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import { nothingIsLostProperty } from '../support/chaos/property.ts';

const SEED = Number(process.env.CHAOS_SEED ?? 20261125);
const NUM_RUNS = Number(process.env.CHAOS_RUNS ?? 100);

let sim: BinanceSimulator;

beforeAll(async () => {
  sim = await startBinanceSimulator();
});

afterAll(async () => {
  await sim.close();
});

test(`every record ends with exactly one outcome or in the DLQ, in order, whatever fails (seed ${SEED}, ${NUM_RUNS} runs)`, async () => {
  await fc.assert(nothingIsLostProperty(sim), { seed: SEED, numRuns: NUM_RUNS, endOnFailure: true });
}, 120_000);
