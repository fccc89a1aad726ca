/**
 * The chaos invariants are only worth something if they fail for a handler that loses, reorders
 * or double-reports records. Each test breaks the real handler in one way (a wrapper, no change
 * to functions/) and expects the same property, same generator, to find a violation of the
 * invariant that break is about.
 */
import '../support/chaos/quiet-logs.ts';
import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { type BinanceSimulator, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import type { InvokableHandler } from '../support/chaos/handler-factory.ts';
import { nothingIsLostProperty } from '../support/chaos/property.ts';

const SEED = 4242;
const MAX_RUNS = 60;

let sim: BinanceSimulator;

beforeAll(async () => {
  sim = await startBinanceSimulator();
});

afterAll(async () => {
  await sim.close();
});

type Mutant = (real: InvokableHandler) => InvokableHandler;

const records = (event: unknown) => (event as SQSEvent).Records;

const mutants: [string, Mutant, RegExp][] = [
  [
    'acknowledges every record, even those it handed back',
    (real) => async (event, context) => {
      await real(event, context);
      return { batchItemFailures: [] };
    },
    /acknowledged without an outcome|deleted with outcomes \[none\]/,
  ],
  [
    'throws after publishing (the whole batch comes back)',
    (real) => async (event, context) => {
      await real(event, context);
      throw new Error('crashed after the work was done');
    },
    /the SQS invocation threw/,
  ],
  [
    'processes the batch in reverse order',
    (real) => (event, context) => real({ Records: [...records(event)].reverse() }, context),
    /reached the exchange after the newer/,
  ],
  [
    'never knows it is on the final receive',
    (real) => (event, context) =>
      real({ Records: records(event).map((r) => ({ ...r, attributes: { ...r.attributes, ApproximateReceiveCount: '1' } })) }, context),
    /dead-lettered with outcomes \[none\]/,
  ],
  [
    'answers with a record id that is not in the batch',
    (real) => async (event, context) => {
      const response = (await real(event, context)) as { batchItemFailures: { itemIdentifier: string }[] };
      return { batchItemFailures: [...response.batchItemFailures, { itemIdentifier: 'not-in-this-batch' }] };
    },
    /whole batch kept: invalid itemIdentifier/,
  ],
];

test.each(mutants)('a handler that %s violates the invariants', async (_name, mutant, violation) => {
  const result = await fc.check(nothingIsLostProperty(sim, { env: { wrapHandler: mutant } }), { seed: SEED, numRuns: MAX_RUNS, endOnFailure: true });
  expect(result.failed).toBe(true);
  expect(String(result.errorInstance)).toMatch(violation);
}, 120_000);
