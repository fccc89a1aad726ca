// The Lambda-like SQS poller against a real moto server: record shape, partial batch responses,
// redrive to the DLQ after maxReceiveCount, whole-batch failures and FIFO attributes.
import { createHash } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  createLocalStack,
  createSqsPoller,
  drainQueue,
  interpretBatchResponse,
  readOutcomes,
  resetMoto,
  startLocalAws,
  type LocalAws,
  type LocalStack,
  type SqsPollerOptions,
} from '../../../local/aws/index.ts';

jest.setTimeout(20_000);

const VISIBILITY_SECONDS = 1;
const MAX_RECEIVE_COUNT = 2;
// Long enough to see a record come back after its visibility timeout (and be moved to the DLQ).
const DRAIN = { idleMs: VISIBILITY_SECONDS * 1000 + 1500, maxMs: 15_000 };

let local: LocalAws;
beforeAll(async () => {
  local = await startLocalAws();
});
afterAll(async () => {
  await local?.stop();
});

async function freshStack(fifo = false): Promise<LocalStack> {
  await resetMoto(local.endpoint);
  return createLocalStack(local.clients, {
    name: 'poller-test',
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    fifo,
    credentials: {},
  });
}

/** A poller whose handler records every record it sees and fails the bodies listed. */
function recordingPoller(stack: LocalStack, failBodies: string[] = [], overrides: Partial<SqsPollerOptions> = {}) {
  const seen: SQSRecord[] = [];
  const poller = createSqsPoller({
    sqs: local.clients.sqs,
    queueUrl: stack.queueUrl,
    queueArn: stack.queueArn,
    batchSize: 10,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    invoke: async (event: SQSEvent): Promise<SQSBatchResponse> => {
      seen.push(...event.Records);
      return {
        batchItemFailures: event.Records.filter((r) => failBodies.includes(r.body)).map((r) => ({
          itemIdentifier: r.messageId,
        })),
      };
    },
    ...overrides,
  });
  return { poller, seen };
}

async function send(stack: LocalStack, bodies: string[], fifoGroup?: string): Promise<void> {
  for (const [i, body] of bodies.entries()) {
    await local.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: body,
        ...(fifoGroup ? { MessageGroupId: fifoGroup, MessageDeduplicationId: `dedup-${i}-${body}` } : {}),
      }),
    );
  }
}

const receiveCounts = (seen: SQSRecord[], body: string): string[] =>
  seen.filter((r) => r.body === body).map((r) => r.attributes.ApproximateReceiveCount);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('record shape', () => {
  test('matches what Lambda delivers, and the receive count grows on redelivery', async () => {
    const stack = await freshStack();
    const body = JSON.stringify({ accountId: 'acc-1', leverage: 5 });
    await local.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrl,
        MessageBody: body,
        MessageAttributes: {
          source: { DataType: 'String', StringValue: 'risk-engine' },
          priority: { DataType: 'Number', StringValue: '3' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 255]) },
        },
      }),
    );
    const { poller, seen } = recordingPoller(stack, [body]);

    const first = await poller.pollOnce();
    expect(first).toMatchObject({ received: 1, deleted: 0, retried: [seen[0]?.messageId] });
    const record = seen[0]!;
    expect(Object.keys(record).sort()).toEqual(
      [
        'attributes',
        'awsRegion',
        'body',
        'eventSource',
        'eventSourceARN',
        'md5OfBody',
        'md5OfMessageAttributes',
        'messageAttributes',
        'messageId',
        'receiptHandle',
      ].sort(),
    );
    expect(record).toMatchObject({
      body,
      md5OfBody: createHash('md5').update(body).digest('hex'),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: stack.queueArn,
      awsRegion: 'us-east-1',
    });
    expect(record.attributes).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    });
    expect(record.messageAttributes).toEqual({
      source: { stringValue: 'risk-engine', stringListValues: [], binaryListValues: [], dataType: 'String' },
      priority: { stringValue: '3', stringListValues: [], binaryListValues: [], dataType: 'Number' },
      blob: { binaryValue: 'AQL/', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
    });

    // Not visible again until the visibility timeout passes.
    expect((await poller.pollOnce()).received).toBe(0);
    await sleep(VISIBILITY_SECONDS * 1000 + 100);
    const { poller: acking, seen: again } = recordingPoller(stack);
    expect(await acking.pollOnce()).toMatchObject({ received: 1, deleted: 1, retried: [] });
    expect(again[0]?.messageId).toBe(record.messageId);
    expect(again[0]?.receiptHandle).not.toBe(record.receiptHandle);
    expect(again[0]?.attributes.ApproximateReceiveCount).toBe('2');
    expect(again[0]?.attributes.ApproximateFirstReceiveTimestamp).toBe(record.attributes.ApproximateFirstReceiveTimestamp);
    expect(await drainQueue(local.clients.sqs, stack.queueUrl)).toEqual([]);
  });
});

describe('partial batch responses and redrive', () => {
  test('a record the handler keeps failing goes to the DLQ after maxReceiveCount; its batch mates are deleted', async () => {
    const stack = await freshStack();
    await send(stack, ['ok-1', 'poison', 'ok-2']);
    const { poller, seen } = recordingPoller(stack, ['poison']);

    const drained = await poller.runUntilDrained(DRAIN);

    expect(drained.timedOut).toBe(false);
    expect(drained.batches[0]).toMatchObject({ received: 3, deleted: 2 });
    expect(receiveCounts(seen, 'ok-1')).toEqual(['1']);
    expect(receiveCounts(seen, 'ok-2')).toEqual(['1']);
    expect(receiveCounts(seen, 'poison')).toEqual(['1', '2']);
    expect(await drainQueue(local.clients.sqs, stack.queueUrl)).toEqual([]);
    const dead = await drainQueue(local.clients.sqs, stack.dlqUrl);
    expect(dead.map((m) => m.body)).toEqual(['poison']);
    // The count travels with the message into the DLQ (it keeps growing there).
    expect(Number(dead[0]?.attributes.ApproximateReceiveCount)).toBeGreaterThan(MAX_RECEIVE_COUNT);
  });

  test('a handler that throws leaves the whole batch for redelivery', async () => {
    const stack = await freshStack();
    await send(stack, ['a', 'b']);
    let calls = 0;
    const { poller, seen } = recordingPoller(stack, [], {
      invoke: async (event) => {
        calls += 1;
        seen.push(...event.Records);
        if (calls === 1) throw new Error('boom');
        return { batchItemFailures: [] };
      },
    });

    const first = await poller.pollOnce();
    expect(first).toMatchObject({ received: 2, deleted: 0, batchFailure: 'handler threw: boom' });
    expect(first.retried).toHaveLength(2);

    const drained = await poller.runUntilDrained(DRAIN);
    expect(drained.deleted).toBe(2);
    expect(receiveCounts(seen, 'a')).toEqual(['1', '2']);
    expect(receiveCounts(seen, 'b')).toEqual(['1', '2']);
  });

  test('a malformed response (unknown itemIdentifier) fails the whole batch', async () => {
    const stack = await freshStack();
    await send(stack, ['x', 'y']);
    const { poller } = recordingPoller(stack, [], {
      invoke: async () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }),
    });

    const result = await poller.pollOnce();
    expect(result).toMatchObject({ received: 2, deleted: 0 });
    expect(result.batchFailure).toMatch(/invalid itemIdentifier/);
  });

  test.each<[string, unknown, 'ack' | number | 'fail']>([
    ['undefined (void handler)', undefined, 'ack'],
    ['null', null, 'ack'],
    ['empty object', {}, 'ack'],
    ['empty list', { batchItemFailures: [] }, 'ack'],
    ['null list', { batchItemFailures: null }, 'ack'],
    ['one valid failure', { batchItemFailures: [{ itemIdentifier: 'm1' }] }, 1],
    ['string', 'ok', 'fail'],
    ['array', [], 'fail'],
    ['list is not an array', { batchItemFailures: 'm1' }, 'fail'],
    ['empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }, 'fail'],
    ['null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }, 'fail'],
    ['misspelt key', { batchItemFailures: [{ itemIdentifer: 'm1' }] }, 'fail'],
    ['null item', { batchItemFailures: [null] }, 'fail'],
  ])('Lambda rule for response: %s', (_name, response, expected) => {
    const verdict = interpretBatchResponse(response, new Set(['m1', 'm2']));
    if (expected === 'fail') expect(verdict).toHaveProperty('batchFailure');
    else expect(verdict).toEqual({ failedIds: new Set(expected === 'ack' ? [] : ['m1']) });
  });
});

describe('FIFO queue', () => {
  test('records carry MessageGroupId, SequenceNumber and MessageDeduplicationId; redrive works', async () => {
    const stack = await freshStack(true);
    expect(stack.queueUrl).toMatch(/\.fifo$/);
    expect(stack.dlqUrl).toMatch(/\.fifo$/);
    await send(stack, ['f-1', 'f-poison'], 'account-7');
    const { poller, seen } = recordingPoller(stack, ['f-poison']);

    await poller.runUntilDrained(DRAIN);

    expect(seen[0]?.attributes).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      MessageGroupId: 'account-7',
      MessageDeduplicationId: 'dedup-0-f-1',
      SequenceNumber: expect.stringMatching(/^\d+$/),
    });
    expect(receiveCounts(seen, 'f-1')).toEqual(['1']);
    expect(receiveCounts(seen, 'f-poison')).toEqual(['1', '2']);
    const dead = await drainQueue(local.clients.sqs, stack.dlqUrl);
    expect(dead.map((m) => [m.body, m.attributes.MessageGroupId])).toEqual([['f-poison', 'account-7']]);
  });
});

describe('continuous mode', () => {
  test('start() keeps invoking until stop(); a handler publishing to SNS produces readable outcomes', async () => {
    const stack = await freshStack();
    const { poller } = recordingPoller(stack, [], {
      invoke: async (event) => {
        for (const record of event.Records) {
          await local.clients.sns.send(
            new PublishCommand({
              TopicArn: stack.topicArn,
              Message: JSON.stringify({ eventId: record.body, status: 'applied' }),
              MessageAttributes: { status: { DataType: 'String', StringValue: 'applied' } },
            }),
          );
        }
        return { batchItemFailures: [] };
      },
    });
    poller.start();
    try {
      await send(stack, ['e-1', 'e-2', 'e-3']);
      const outcomes = await readOutcomes<{ eventId: string }>(local.clients.sqs, stack.outcomesQueueUrl, {
        count: 3,
        timeoutMs: 5000,
      });
      expect(outcomes.map((o) => o.body.eventId).sort()).toEqual(['e-1', 'e-2', 'e-3']);
      expect(outcomes.every((o) => o.attributes.status === 'applied')).toBe(true);
    } finally {
      await poller.stop();
    }
  });
});
