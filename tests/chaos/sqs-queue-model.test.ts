/** The queue model the chaos suite trusts to behave like SQS + Lambda's event source mapping. */
import { SqsQueueModel } from '../support/chaos/sqs-queue-model.ts';

const ids = (batch: ReturnType<SqsQueueModel['receive']>) => batch?.messages.map((m) => m.messageId);

function queueOf(bodies: number, options: { maxReceiveCount?: number; batchSize?: number } = {}) {
  const queue = new SqsQueueModel({ maxReceiveCount: options.maxReceiveCount ?? 3, batchSize: options.batchSize ?? 10, now: () => 1_764_064_800_000 });
  for (let n = 0; n < bodies; n++) queue.send(`body-${n}`);
  return queue;
}

test('batches of up to batchSize in arrival order, as SQS records with an incremented receive count', () => {
  const queue = queueOf(12);
  const batch = queue.receive()!;
  expect(ids(batch)).toEqual(['msg-0', 'msg-1', 'msg-2', 'msg-3', 'msg-4', 'msg-5', 'msg-6', 'msg-7', 'msg-8', 'msg-9']);
  expect(batch.event.Records[0]).toMatchObject({
    messageId: 'msg-0',
    body: 'body-0',
    eventSource: 'aws:sqs',
    attributes: { ApproximateReceiveCount: '1' },
  });
});

test('records listed in batchItemFailures stay (in place), the others are deleted', () => {
  const queue = queueOf(3);
  const batch = queue.receive()!;
  const settlement = queue.settle(batch, { returned: { batchItemFailures: [{ itemIdentifier: 'msg-1' }] } });
  expect(settlement).toEqual({ deleted: ['msg-0', 'msg-2'], kept: ['msg-1'] });
  const again = queue.receive()!;
  expect(ids(again)).toEqual(['msg-1']);
  expect(again.event.Records[0]!.attributes.ApproximateReceiveCount).toBe('2');
});

test.each([
  ['a throw', { threw: new Error('boom') }],
  ['a response that is not a batch response', { returned: 'ok' }],
  ['batchItemFailures that is not a list', { returned: { batchItemFailures: 'msg-0' } }],
  ['an empty itemIdentifier', { returned: { batchItemFailures: [{ itemIdentifier: '' }] } }],
  ['an itemIdentifier not in the batch', { returned: { batchItemFailures: [{ itemIdentifier: 'msg-9' }] } }],
])('%s keeps the whole batch', (_name, result) => {
  const queue = queueOf(2);
  const settlement = queue.settle(queue.receive()!, result);
  expect(settlement.kept).toEqual(['msg-0', 'msg-1']);
  expect(settlement.wholeBatchKept).toBeDefined();
  expect(queue.depth).toBe(2);
});

test.each([
  ['undefined', { returned: undefined }],
  ['null', { returned: null }],
  ['{}', { returned: {} }],
  ['an empty batchItemFailures', { returned: { batchItemFailures: [] } }],
])('an empty answer (%s) acknowledges the whole batch', (_name, result) => {
    const queue = queueOf(2);
    expect(queue.settle(queue.receive()!, result).deleted).toEqual(['msg-0', 'msg-1']);
    expect(queue.depth).toBe(0);
});

test('a record received maxReceiveCount times moves to the DLQ on the next receive, not before', () => {
  const queue = queueOf(2, { maxReceiveCount: 2 });
  const keepFirst = { returned: { batchItemFailures: [{ itemIdentifier: 'msg-0' }] } };
  queue.settle(queue.receive()!, keepFirst);
  const second = queue.receive()!;
  expect(second.messages[0]!.receiveCount).toBe(2);
  queue.settle(second, keepFirst);
  expect(queue.dlq).toEqual([]);
  const third = queue.receive();
  expect(third?.deadLettered.map((m) => m.messageId)).toEqual(['msg-0']);
  expect(third?.messages).toEqual([]);
  expect(queue.depth).toBe(0);
});

test('the DLQ move happens while filling a batch, so the next records fill it', () => {
  const queue = queueOf(3, { maxReceiveCount: 1, batchSize: 2 });
  queue.settle(queue.receive()!, { returned: { batchItemFailures: [{ itemIdentifier: 'msg-0' }] } });
  const batch = queue.receive()!;
  expect(batch.deadLettered.map((m) => m.messageId)).toEqual(['msg-0']);
  expect(ids(batch)).toEqual(['msg-2']);
});
