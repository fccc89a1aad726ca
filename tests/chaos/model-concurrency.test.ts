/**
 * Model-based concurrency: two or three containers, each wired as index.ts wires it (own caches,
 * own clock), drain one SQS queue concurrently against one exchange a person also changes, one
 * state table, Secrets Manager and SNS, while time passes across MAX_EVENT_AGE_SECONDS, leases and
 * visibility timeouts, keys rotate and every dependency fails now and then. fast-check picks the
 * scenario and the interleaving of every I/O call; the invariants (tests/support/chaos/
 * model-invariants.ts) are checked after every run. `npm run chaos:long -- --model` runs it longer.
 */
import '../support/chaos/quiet-logs.ts';
import fc from 'fast-check';
import { modelConcurrencyProperty } from '../support/chaos/model-property.ts';

const SEED = Number(process.env.CHAOS_SEED ?? 20261130);
const NUM_RUNS = Number(process.env.CHAOS_MODEL_RUNS ?? 1500);

test(`decisions hold under any interleaving of containers, people, time and failures (seed ${SEED}, ${NUM_RUNS} runs)`, async () => {
  await fc.assert(modelConcurrencyProperty(), { seed: SEED, numRuns: NUM_RUNS, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false });
}, 120_000);
