/**
 * The fuzz harness: the REAL handler (createChangeLeverageHandler, via the shared factory) with a
 * fake exchange, the real Secrets Manager and SNS adapters over fakes, and the checks every bad
 * input must pass.
 */
import '../chaos/quiet-logs.ts';
import fc from 'fast-check';
import type { Outcome } from '../../../functions/domain/outcome.ts';
import { FakeSecretsManager, FakeSns } from '../chaos/aws-fakes.ts';
import { buildHandler, invoke, secretsManagerCredentials, snsPublisher } from '../chaos/handler-factory.ts';
import { lambdaContext } from '../chaos/lambda-context.ts';
import { SqsQueueModel } from '../chaos/sqs-queue-model.ts';
import { FakeExchange } from '../fakes.ts';
import { type BadInput, badInput, freshEventId, type ValidInput, validInput } from './inputs.ts';

export const sns = new FakeSns();
const exchange = new FakeExchange();
const handler = buildHandler(
  { exchange, credentials: secretsManagerCredentials(new FakeSecretsManager(), 60_000), publisher: snsPublisher(sns) },
  { maxReceiveCount: 3, requestTimeoutMs: 250 },
);

const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort().join();

export function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort().join()).toBe(prototypeNames);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

/** Runs `invocation`, returning the outcomes SNS accepted meanwhile. */
async function publishedDuring<T>(invocation: () => Promise<T>): Promise<{ result: T; outcomes: Outcome[] }> {
  const before = sns.published.length;
  exchange.calls.length = 0;
  const result = await invocation();
  return { result, outcomes: sns.published.slice(before).map((p) => p.outcome) };
}

/** The one REJECTED INVALID_EVENT outcome a bad input must get, with a message that says why. */
export function expectRejectedAsInvalid(outcomes: Outcome[], input: BadInput, fallbackId: string): void {
  const eventId = input.eventId ?? fallbackId;
  const mine = outcomes.filter((o) => o.eventId === eventId);
  expect(mine).toHaveLength(1);
  const [outcome] = mine as [Outcome];
  expect(outcome.status).toBe('REJECTED');
  expect(outcome.error).toMatchObject({ code: 'INVALID_EVENT', retryable: false });
  const message = outcome.error!.message;
  expect(message.trim()).not.toBe('');
  for (const part of input.mentions) expect(message).toContain(part);
  if (input.mentionsOneOf.length > 0 && !input.mentionsOneOf.some((part) => message.includes(part))) {
    throw new Error(`message ${JSON.stringify(message)} names none of the unknown fields ${JSON.stringify(input.mentionsOneOf)}`);
  }
}

const eventBridgeEnvelope = (id: string, detail: unknown) => ({
  version: '0',
  id,
  'detail-type': 'RiskLimitBreached',
  source: 'leverage-guard.fuzz',
  account: '123456789012',
  time: '2026-11-25T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

export type BatchItem = { bad: BadInput; valid?: undefined } | { valid: ValidInput; bad?: undefined };

/** One SQS batch: bad and valid bodies, in any order. */
export const sqsBatch: fc.Arbitrary<BatchItem[]> = fc.array(
  fc.oneof({ weight: 3, arbitrary: badInput.map((bad) => ({ bad })) }, { weight: 1, arbitrary: validInput.map((valid) => ({ valid })) }),
  { minLength: 1, maxLength: 10 },
);

export async function expectSqsBatchHandled(items: BatchItem[]): Promise<void> {
  const queue = new SqsQueueModel({ maxReceiveCount: 3 });
  const messages = items.map((item) => ({ item, messageId: queue.send(item.bad?.text ?? item.valid!.text, freshEventId('fz-msg')).messageId }));
  const batch = queue.receive()!;
  const { result, outcomes } = await publishedDuring(() => invoke(handler, batch.event, lambdaContext(30_000)));
  expect(result).toEqual({ returned: { batchItemFailures: [] } });
  expect(queue.settle(batch, result).kept).toEqual([]);
  expect(outcomes).toHaveLength(items.reduce((sum, item) => sum + (item.valid?.targets.length ?? 1), 0));
  for (const { item, messageId } of messages) {
    if (item.bad) expectRejectedAsInvalid(outcomes, item.bad, messageId);
    else {
      const mine = outcomes.filter((o) => o.eventId === item.valid.eventId).map((o) => ({ symbol: o.symbol, status: o.status, leverage: o.leverage }));
      expect(mine).toEqual(expect.arrayContaining(item.valid.targets.map((t) => ({ ...t, status: 'APPLIED' }))));
      expect(mine).toHaveLength(item.valid.targets.length);
    }
  }
  expectPrototypeClean();
}

/** EventBridge and direct invocations carry one decoded event; a bad one returns normally, REJECTED. */
export async function expectSingleEventHandled(kind: 'eventBridge' | 'direct', input: BadInput): Promise<void> {
  const recordId = freshEventId(`fz-${kind}`);
  const value: unknown = JSON.parse(input.text);
  const event = kind === 'eventBridge' ? eventBridgeEnvelope(recordId, value) : value;
  const { result, outcomes } = await publishedDuring(() => invoke(handler, event, lambdaContext(30_000, recordId)));
  expect(result).toEqual({ returned: { eventId: input.eventId ?? recordId, outcomes: [expect.objectContaining({ status: 'REJECTED' })] } });
  expect(outcomes).toHaveLength(1);
  expectRejectedAsInvalid(outcomes, input, recordId);
  expectPrototypeClean();
}
