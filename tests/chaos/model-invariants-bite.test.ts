/**
 * The model invariants are only worth something if they fail for a guard that breaks them. Each
 * test breaks every container in one way (a wrapper around a client or the handler, no change to
 * functions/) and expects the model property, restricted to the invariant that break is about,
 * to find a violation. The invariants not here already fail on the code as issue 8 found it (see
 * the regressions); once it is fixed, each of them needs a mutant here too.
 */
import '../support/chaos/quiet-logs.ts';
import fc from 'fast-check';
import { type AwsJsonCall, AwsServiceError } from '../../functions/adapters/aws-json/aws-json-client.ts';
import type { ModelInvariant } from '../support/chaos/model-invariants.ts';
import { modelConcurrencyProperty } from '../support/chaos/model-property.ts';
import type { ContainerMutation } from '../support/chaos/model-world.ts';

const SEED = 4242;
const MAX_RUNS = 400;

/** A state table whose claims ignore issuedAt (and any in-flight marker): only the lease is checked. */
const claimsIgnoreOrder = (real: AwsJsonCall): AwsJsonCall =>
  (operation, input) => {
    type Update = { ConditionExpression?: string; UpdateExpression?: string };
    const onlyTheLease = (update: Update): Update =>
      /SET lockOwner/.test(update.UpdateExpression ?? '') ? { ...update, ConditionExpression: update.ConditionExpression?.split(' AND ')[0] } : update;
    const request = input as { TransactItems?: { Update?: Update }[] };
    if (operation !== 'TransactWriteItems' || !request.TransactItems) return real(operation, input);
    return real(operation, { ...input, TransactItems: request.TransactItems.map((item) => (item.Update ? { Update: onlyTheLease(item.Update) } : item)) });
  };

/** A pause switch whose parameter always looks missing (the value is still read, so the run knows it). */
const pauseIgnored = (real: AwsJsonCall): AwsJsonCall =>
  async (operation, input) => {
    await real(operation, input).catch(() => undefined);
    throw new AwsServiceError('ParameterNotFound', 'pretending the parameter does not exist', 400);
  };

const mutants: [string, ModelInvariant, ContainerMutation][] = [
  ['that ignores its pause switch', 'pauseFailsClosed', { ssm: pauseIgnored }],
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
