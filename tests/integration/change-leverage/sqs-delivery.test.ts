// SQS delivery semantics through the built bundle: partial batch responses, nothing acknowledged
// without a published outcome, FAILED + DLQ on the final receive, per-key ordering.
import { DeleteTopicCommand } from '@aws-sdk/client-sns';
import { drainQueue } from '../../../local/aws/index.ts';
import { type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { enqueue, posts, riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

let guard: LocalLeverageGuard;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'sqs-delivery', maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
});
afterAll(() => guard?.close());
beforeEach(() => guard.simulator.reset());

async function expectNoMoreOutcomes(): Promise<void> {
  expect(await guard.readOutcomes(1, 1500)).toEqual([]);
}

test('a mixed batch: valid events applied, bad ones rejected with specific errors, all acknowledged', async () => {
  const valid = riskEvent({ accountId: 'desk-2', symbol: 'ETHUSDT', leverage: 7, metadata: { ticket: 'R-1' } });
  const typo = riskEvent({ levrage: 3 });
  const ids = await enqueue(guard, [valid, 'not json {', typo, riskEvent({ leverage: '5' })]);

  const poll = await guard.poller.pollOnce();
  expect(poll).toMatchObject({ received: 4, deleted: 4, retried: [] });

  const outcomes = await guard.readOutcomes(4);
  const byEvent = new Map(outcomes.map((o) => [o.body.eventId, o]));
  expect(byEvent.get(valid.eventId as string)?.body).toMatchObject({
    eventId: valid.eventId,
    accountId: 'desk-2',
    symbol: 'ETHUSDT',
    requestedLeverage: 7,
    status: 'APPLIED',
    leverage: 7,
    maxNotionalValue: expect.any(String),
    trigger: 'sqs',
    metadata: { ticket: 'R-1' },
    durationMs: expect.any(Number),
  });
  expect(byEvent.get(valid.eventId as string)?.attributes).toEqual({ status: 'APPLIED', symbol: 'ETHUSDT', accountId: 'desk-2' });
  expect(guard.simulator.leverageOf('desk-2', 'ETHUSDT')).toBe(7);

  // Unparseable: eventId falls back to the SQS messageId.
  expect(byEvent.get(ids[1]!)?.body).toMatchObject({
    status: 'REJECTED',
    error: { code: 'INVALID_EVENT', message: expect.stringContaining('not valid JSON'), retryable: false },
  });
  expect(byEvent.get(typo.eventId as string)?.body.error).toMatchObject({
    code: 'INVALID_EVENT',
    message: expect.stringMatching(/^levrage: unknown field \(allowed: eventId, accountId, symbol, leverage/),
  });
  expect(outcomes.map((o) => o.body.status).sort()).toEqual(['APPLIED', 'REJECTED', 'REJECTED', 'REJECTED']);
  expect(posts(guard)).toHaveLength(1);
});

test('a Binance business error is a permanent REJECTED with the Binance code, acknowledged', async () => {
  const tooHigh = riskEvent({ symbol: 'SOLUSDT', leverage: 100 });
  const unknownSymbol = riskEvent({ symbol: 'NOPEUSDT' });
  await enqueue(guard, [tooHigh, unknownSymbol]);

  expect(await guard.poller.pollOnce()).toMatchObject({ received: 2, deleted: 2, retried: [] });
  const outcomes = await guard.readOutcomes(2);
  const codes = Object.fromEntries(outcomes.map((o) => [o.body.eventId, (o.body.error as { code: number }).code]));
  expect(codes).toEqual({ [tooHigh.eventId as string]: -4028, [unknownSymbol.eventId as string]: -1121 });
  expect(outcomes.every((o) => o.body.status === 'REJECTED')).toBe(true);
});

test('a transient failure is handed back with nothing published, then applied once on redelivery', async () => {
  guard.simulator.injectFault({ fault: { type: 'serviceUnavailable' }, symbol: 'BNBUSDT', times: 1 });
  const event = riskEvent({ symbol: 'BNBUSDT', leverage: 3 });
  const [id] = await enqueue(guard, [event]);

  expect(await guard.poller.pollOnce()).toMatchObject({ received: 1, deleted: 0, retried: [id] });
  await expectNoMoreOutcomes();

  const drained = await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 15_000 });
  expect(drained.deleted).toBe(1);
  const outcomes = await guard.readOutcomes(1);
  expect(outcomes.map((o) => [o.body.eventId, o.body.status])).toEqual([[event.eventId, 'APPLIED']]);
  await expectNoMoreOutcomes();
  expect(guard.simulator.leverageOf('desk-1', 'BNBUSDT')).toBe(3);
});

test('retries exhausted: FAILED is published on the final receive and the record lands in the DLQ', async () => {
  guard.simulator.injectFault({ fault: { type: 'internalError' }, symbol: 'XRPUSDT', times: -1 });
  const event = riskEvent({ symbol: 'XRPUSDT', leverage: 4 });
  const [id] = await enqueue(guard, [event]);

  await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 20_000 });

  const outcomes = await guard.readOutcomes(1);
  expect(outcomes).toHaveLength(1);
  expect(outcomes[0]!.body).toMatchObject({
    eventId: event.eventId,
    status: 'FAILED',
    error: { code: -1001, retryable: true },
  });
  await expectNoMoreOutcomes();
  expect(posts(guard).filter((r) => r.query.symbol === 'XRPUSDT')).toHaveLength(3);
  const dlq = await drainQueue(guard.aws.clients.sqs, guard.resources.dlqUrl);
  expect(dlq.map((m) => m.messageId)).toEqual([id]);
});

test('same account+symbol runs in arrival order; different keys run concurrently', async () => {
  const latencyMs = 800;
  guard.simulator.injectFault({ fault: { type: 'latency', ms: latencyMs }, path: '/papi/v1/um/leverage', times: -1 });
  const sameKey = [6, 4, 8].map((leverage) => riskEvent({ accountId: 'desk-3', symbol: 'LINKUSDT', leverage }));
  const otherKeys = ['ADAUSDT', 'AVAXUSDT', 'LTCUSDT', 'DOGEUSDT'].map((symbol) => riskEvent({ accountId: 'desk-3', symbol }));
  await enqueue(guard, [...sameKey, ...otherKeys]);

  expect(await guard.poller.pollOnce()).toMatchObject({ received: 7, deleted: 7 });
  await guard.readOutcomes(7);

  const link = posts(guard).filter((r) => r.query.symbol === 'LINKUSDT');
  expect(link.map((r) => r.query.leverage)).toEqual(['6', '4', '8']);
  expect(guard.simulator.leverageOf('desk-3', 'LINKUSDT')).toBe(8);
  // Each LINKUSDT request starts only after the previous one was answered...
  for (let i = 1; i < link.length; i++) expect(link[i]!.at - link[i - 1]!.at).toBeGreaterThanOrEqual(latencyMs);
  // ...while the first request of every key was in flight at the same time.
  const firsts = [link[0]!, ...posts(guard).filter((r) => r.query.symbol !== 'LINKUSDT')];
  const starts = firsts.map((r) => r.at);
  expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(latencyMs);
});

test('after a key is handed back, its later records in the batch are handed back unprocessed', async () => {
  guard.simulator.injectFault({ fault: { type: 'serviceUnavailable' }, symbol: 'AVAXUSDT', times: 1 });
  const first = riskEvent({ symbol: 'AVAXUSDT', leverage: 9 });
  const second = riskEvent({ symbol: 'AVAXUSDT', leverage: 2 });
  const unrelated = riskEvent({ symbol: 'ADAUSDT', leverage: 2 });
  const ids = await enqueue(guard, [first, second, unrelated]);

  const poll = await guard.poller.pollOnce();
  expect(poll.retried.sort()).toEqual([ids[0], ids[1]].sort());
  expect(posts(guard).filter((r) => r.query.symbol === 'AVAXUSDT')).toHaveLength(1);
  expect((await guard.readOutcomes(1)).map((o) => o.body.eventId)).toEqual([unrelated.eventId]);

  await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 15_000 });
  const avax = posts(guard).filter((r) => r.query.symbol === 'AVAXUSDT' && r.status === 200);
  expect(avax.map((r) => r.query.leverage)).toEqual(['9', '2']);
  expect(guard.simulator.leverageOf('desk-1', 'AVAXUSDT')).toBe(2);
  await guard.readOutcomes(2);
});

test('missing credentials are transient: handed back, FAILED with CREDENTIALS_UNAVAILABLE on the final receive', async () => {
  const event = riskEvent({ accountId: 'ghost-desk' });
  const [id] = await enqueue(guard, [event]);

  await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 20_000 });

  const outcomes = await guard.readOutcomes(1);
  expect(outcomes[0]!.body).toMatchObject({
    eventId: event.eventId,
    status: 'FAILED',
    error: { code: 'CREDENTIALS_UNAVAILABLE', message: expect.stringContaining('credentials of account ghost-desk') },
  });
  // Issue 8, case 9: the dependency and its error are named, the account's ARNs are not.
  expect(JSON.stringify(outcomes[0]!.body)).not.toMatch(/arn:aws|\d{12}/);
  expect(posts(guard)).toHaveLength(0);
  expect((await drainQueue(guard.aws.clients.sqs, guard.resources.dlqUrl)).map((m) => m.messageId)).toEqual([id]);
});

// Last: deletes the result topic.
test('an outcome that cannot be published is never acknowledged', async () => {
  await guard.aws.clients.sns.send(new DeleteTopicCommand({ TopicArn: guard.resources.topicArn }));
  const event = riskEvent({ symbol: 'ETHUSDT', leverage: 3 });
  const [id] = await enqueue(guard, [event, 'garbage']);

  const poll = await guard.poller.pollOnce();
  expect(poll.deleted).toBe(0);
  expect(poll.retried).toHaveLength(2);
  expect(poll.retried).toContain(id);
  expect(guard.simulator.leverageOf('desk-1', 'ETHUSDT')).toBe(3);
});
