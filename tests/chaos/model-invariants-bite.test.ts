/**
 * The model invariants are only worth something if they fail for a guard that breaks them. Each
 * test breaks every container in one way (a wrapper around a client or the handler, no change to
 * functions/) and expects the model property, restricted to the invariant that break is about,
 * to find a violation. (The other invariants already fail on the code as issue 8 found it; these
 * are the ones that would otherwise pass vacuously.)
 */
import '../support/chaos/quiet-logs.ts';
import fc from 'fast-check';
import type { AwsJsonCall } from '../../functions/adapters/aws-json/aws-json-client.ts';
import type { ModelInvariant } from '../support/chaos/model-invariants.ts';
import { modelConcurrencyProperty } from '../support/chaos/model-property.ts';
import type { ContainerMutation } from '../support/chaos/model-world.ts';

const SEED = 4242;
const MAX_RUNS = 400;

/** A state table whose claims ignore issuedAt: only the lease is checked. */
const claimsIgnoreOrder = (real: AwsJsonCall): AwsJsonCall =>
  (operation, input) => {
    const request = input as { ConditionExpression?: string };
    const condition = request.ConditionExpression?.split(' AND (attribute_not_exists(lastIssuedAtMs)')[0];
    return real(operation, condition === undefined ? input : { ...input, ConditionExpression: condition });
  };

const mutants: [string, ModelInvariant, ContainerMutation][] = [
  ['whose claims ignore the order of issuedAt', 'olderNeverOverwritesNewer', { dynamodb: claimsIgnoreOrder }],
  [
    'that acknowledges every record, even those it handed back',
    'acknowledgedOnlyAfterPublished',
    {
      handler: (real) => async (event, context) => {
        await real(event, context);
        return { batchItemFailures: [] };
      },
    },
  ],
  ['whose clock is 14 minutes fast without knowing it', 'truthfulReasons', { unreportedClockOffsetMs: 840_000 }],
];

test.each(mutants)('a guard %s violates %s', async (_name, invariant, mutation) => {
  const result = await fc.check(modelConcurrencyProperty({ mutation, invariants: [invariant] }), { seed: SEED, numRuns: MAX_RUNS, endOnFailure: true });
  expect(result.failed).toBe(true);
  expect(String(result.errorInstance)).toContain(`[${invariant}]`);
}, 60_000);
