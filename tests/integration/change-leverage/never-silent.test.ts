// Paths that used to end with no outcome at all, through the built bundle:
// - an EventBridge event and a scheduled (direct) event whose async retries ran out reach the
//   function again as Lambda's on-failure records, through the same fan-out the stack deploys
//   (on-failure topic -> feeding queue + archive queue), and end as FAILED on the result topic;
// - an invalid event too big to echo ends as exactly one REJECTED outcome that fits SNS.
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { attributesOf } from '../../../functions/adapters/sns/outcome-publisher.ts';
import type { Outcome as PublishedOutcome } from '../../../functions/domain/outcome.ts';
import { InvocationError } from '../../../local/lambda/lambda-host.ts';
import { createSqsPoller, drainQueue, type SqsPoller } from '../../../local/aws/index.ts';
import { type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { enqueue, eventBridgeEnvelope, riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

const ACCOUNT_ID_IN_ARNS = '123456789012';
/** SNS refuses a message over 256 KiB, body and message attributes together. */
const SNS_LIMIT = 256 * 1024;
/** Lambda's async retries: the first attempt and 2 more (maximumRetryAttempts in infra/functions.yml). */
const ATTEMPTS = 3;

let guard: LocalLeverageGuard;
let topicArn: string;
let feedingQueueUrl: string;
let archiveQueueUrl: string;
let onFailurePoller: SqsPoller;

async function queue(sqs: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '1' } }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url: url!, arn: Attributes!.QueueArn! };
}

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'never-silent' });
  const { sns, sqs } = guard.aws.clients;
  // As infra/queues.yml deploys it: Lambda's on-failure destination is a topic; one queue feeds
  // the function, the other keeps every record for redrive. Raw delivery: the bodies are the records.
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'never-silent-async-failures' }))).TopicArn!;
  const feeding = await queue(sqs, 'never-silent-async-failures');
  const archive = await queue(sqs, 'never-silent-async-failures-dlq');
  for (const { arn } of [feeding, archive]) {
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: arn, Attributes: { RawMessageDelivery: 'true' } }));
  }
  feedingQueueUrl = feeding.url;
  archiveQueueUrl = archive.url;
  onFailurePoller = createSqsPoller({
    sqs,
    queueUrl: feeding.url,
    queueArn: feeding.arn,
    batchSize: 10,
    visibilityTimeoutSeconds: 1,
    invoke: (event: SQSEvent) => guard.host.invoke<SQSBatchResponse>(event),
  });
});
afterAll(() => guard?.close());
beforeEach(() => guard.simulator.reset());

/**
 * Lambda's side of an async invocation: invoke, and on an error retry, up to ATTEMPTS in all;
 * then publish the invocation record to the on-failure destination, as Lambda does.
 */
async function invokeAsyncUntilLambdaGivesUp(payload: unknown, requestId: string): Promise<void> {
  let lastError: InvocationError | undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    lastError = await guard.invoke(payload).then(
      () => undefined,
      (error: unknown) => error as InvocationError,
    );
    if (!lastError) throw new Error('the invocation succeeded: nothing for the on-failure destination');
  }
  const record = {
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId,
      functionArn: `arn:aws:lambda:ap-northeast-1:${ACCOUNT_ID_IN_ARNS}:function:leverage-guard-dev-change-leverage:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: ATTEMPTS,
    },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: lastError!.errorType, errorMessage: lastError!.message, trace: [] },
  };
  await guard.aws.clients.sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(record) }));
}

describe('async events whose retries ran out', () => {
  test('an EventBridge event: FAILED on the topic with the last error, nothing sent to the exchange, the record kept for redrive', async () => {
    guard.simulator.injectFault({ fault: { type: 'internalError' }, path: '/papi/v1/um/leverage', times: -1 });
    const detail = riskEvent({ accountId: 'desk-2', symbol: 'XRPUSDT', leverage: 4, metadata: { rule: 'var-99' } });
    const envelope = eventBridgeEnvelope(detail);
    await invokeAsyncUntilLambdaGivesUp(envelope, 'req-eb-1');
    expect(await guard.readOutcomes(1, 1000)).toEqual([]); // silent until now: that was the bug

    const exchangeRequests = guard.simulator.requests().length;
    const poll = await onFailurePoller.pollOnce();
    expect(poll).toMatchObject({ received: 1, deleted: 1, retried: [] });
    expect(guard.simulator.requests()).toHaveLength(exchangeRequests);

    const [outcome, ...more] = await guard.readOutcomes(1);
    expect(more).toEqual([]);
    expect(outcome!.body).toMatchObject({
      eventId: detail.eventId,
      accountId: 'desk-2',
      symbol: 'XRPUSDT',
      requestedLeverage: 4,
      status: 'FAILED',
      trigger: 'eventbridge',
      metadata: { rule: 'var-99' },
      error: {
        code: -1001,
        message: expect.stringMatching(new RegExp(`^Lambda gave up on the asynchronous invocation \\(RetriesExhausted after ${ATTEMPTS} attempts\\); last error: .*-1001`)),
        retryable: true,
      },
    });
    expect(outcome!.attributes).toEqual({ status: 'FAILED', symbol: 'XRPUSDT', accountId: 'desk-2' });
    expect(outcome!.message.body).not.toContain(ACCOUNT_ID_IN_ARNS);
    expect(outcome!.message.body).not.toContain('arn:');

    expect(await drainQueue(guard.aws.clients.sqs, feedingQueueUrl)).toEqual([]);
    const [kept] = await drainQueue(guard.aws.clients.sqs, archiveQueueUrl);
    expect(JSON.parse(kept!.body).requestPayload).toEqual(envelope);
  });

  test('a scheduled (direct) event: FAILED only for the symbol without an outcome; the one applied on the first attempt keeps its APPLIED', async () => {
    guard.simulator.injectFault({ fault: { type: 'internalError' }, symbol: 'ETHUSDT', times: -1 });
    const scheduled = riskEvent({
      eventId: `weekly-deleverage-${Date.now()}`,
      symbol: undefined,
      leverage: undefined,
      targets: [
        { symbol: 'BTCUSDT', leverage: 3 },
        { symbol: 'ETHUSDT', leverage: 2 },
      ],
      reason: 'Friday 20:00 UTC de-leveraging',
      issuedAt: new Date().toISOString(),
    });
    await invokeAsyncUntilLambdaGivesUp(scheduled, 'req-schedule-1');
    const [applied, ...others] = await guard.readOutcomes(2, 2000);
    expect(others).toEqual([]);
    expect(applied!.body).toMatchObject({ eventId: scheduled.eventId, symbol: 'BTCUSDT', status: 'APPLIED' });

    const exchangeRequests = guard.simulator.requests().length;
    expect(await onFailurePoller.pollOnce()).toMatchObject({ received: 1, deleted: 1, retried: [] });
    expect(guard.simulator.requests()).toHaveLength(exchangeRequests);

    const outcomes = await guard.readOutcomes(2, 2000);
    expect(outcomes.map((o) => [o.body.eventId, o.body.symbol, o.body.status, o.body.trigger, (o.body.error as { code?: unknown })?.code])).toEqual([
      [scheduled.eventId, 'ETHUSDT', 'FAILED', 'direct', -1001],
    ]);
    expect(outcomes[0]!.body.reason).toBe(scheduled.reason);
    await drainQueue(guard.aws.clients.sqs, archiveQueueUrl);
  });

  test('an on-failure record arriving on the risk-event queue itself is recognised the same way', async () => {
    const event = riskEvent({ symbol: 'SOLUSDT' });
    const record = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: { requestId: 'req-2', functionArn: `arn:aws:lambda:ap-northeast-1:${ACCOUNT_ID_IN_ARNS}:function:f`, condition: 'EventAgeExceeded', approximateInvokeCount: 0 },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: null,
    };
    await enqueue(guard, [record]);
    expect(await guard.poller.pollOnce()).toMatchObject({ received: 1, deleted: 1 });
    const [outcome] = await guard.readOutcomes(1);
    expect(outcome!.body).toMatchObject({ eventId: event.eventId, symbol: 'SOLUSDT', status: 'FAILED', trigger: 'direct', error: { code: 'EVENT_AGE_EXCEEDED' } });
    expect(guard.simulator.requests()).toEqual([]);
  });
});

describe('an oversized invalid event', () => {
  const thousandsOfBadTargets = () =>
    riskEvent({ symbol: undefined, leverage: undefined, targets: Array.from({ length: 5000 }, (_, i) => ({ symbol: `bad-${i}`, leverage: '5x' })) });

  function snsBytes(outcome: PublishedOutcome, raw: string): number {
    const attributes = Object.entries(attributesOf(outcome)).reduce(
      (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType!) + Buffer.byteLength(value.StringValue!),
      0,
    );
    return Buffer.byteLength(raw) + attributes;
  }

  test('on SQS: exactly one REJECTED outcome, under 256 KiB, and the record acknowledged', async () => {
    const event = thousandsOfBadTargets();
    await enqueue(guard, [event]);
    expect(await guard.poller.pollOnce()).toMatchObject({ received: 1, deleted: 1, retried: [] });
    const outcomes = await guard.readOutcomes(2, 2000);
    expect(outcomes).toHaveLength(1);
    const [outcome] = outcomes;
    expect(outcome!.body).toMatchObject({
      eventId: event.eventId,
      status: 'REJECTED',
      error: { code: 'INVALID_EVENT', message: 'targets: must hold at most 50 targets, got an array', retryable: false },
    });
    expect(snsBytes(outcome!.body as unknown as PublishedOutcome, outcome!.message.body)).toBeLessThan(SNS_LIMIT);
    expect(await drainQueue(guard.aws.clients.sqs, guard.resources.dlqUrl)).toEqual([]);
  });

  test('invoked directly: one REJECTED outcome and a normal return (no pointless retry)', async () => {
    const event = thousandsOfBadTargets();
    await expect(guard.invoke(event)).resolves.toMatchObject({ outcomes: [{ status: 'REJECTED', code: 'INVALID_EVENT' }] });
    const outcomes = await guard.readOutcomes(2, 2000);
    expect(outcomes.map((o) => [o.body.eventId, o.body.status])).toEqual([[event.eventId, 'REJECTED']]);
  });
});
