// FIFO queues: after a failed record, the later records of the same message group in the batch
// are handed back unprocessed, whatever their symbol; other groups carry on.
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { posts, riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

let guard: LocalLeverageGuard;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'fifo', fifo: true, maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
});
afterAll(() => guard?.close());

test('a failed record holds back the rest of its message group; other groups carry on', async () => {
  guard.simulator.injectFault({ fault: { type: 'serviceUnavailable' }, symbol: 'BNBUSDT', times: 1 });
  const issued = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
  const groupA = [
    riskEvent({ symbol: 'BNBUSDT', leverage: 7, issuedAt: issued(30) }),
    riskEvent({ symbol: 'XRPUSDT', leverage: 8, issuedAt: issued(20) }),
    riskEvent({ symbol: 'BNBUSDT', leverage: 9, issuedAt: issued(10) }),
  ];
  const groupB = [riskEvent({ accountId: 'desk-2', symbol: 'ADAUSDT', leverage: 6 })];
  const entries = [
    ...groupA.map((event) => ({ event, group: 'desk-1' })),
    ...groupB.map((event) => ({ event, group: 'desk-2' })),
  ];
  const { Successful = [] } = await guard.aws.clients.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: guard.resources.queueUrl,
      Entries: entries.map(({ event, group }, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify(event),
        MessageGroupId: group,
        MessageDeduplicationId: event.eventId as string,
      })),
    }),
  );
  expect(Successful).toHaveLength(4);

  const first = await guard.poller.pollOnce();
  expect(first.received).toBe(4);
  expect(first.retried).toHaveLength(3); // all of group desk-1
  // The two groups run concurrently, so only the set of requests is fixed.
  expect(posts(guard).map((r) => `${r.query.symbol} ${r.status}`).sort()).toEqual(['ADAUSDT 200', 'BNBUSDT 503']);
  const [groupBOutcome] = await guard.readOutcomes(1);
  expect(groupBOutcome!.body).toMatchObject({ eventId: groupB[0]!.eventId, status: 'APPLIED' });

  // moto 5.2.5 does not keep FIFO order when it redelivers a group (it returns the last
  // message first); real SQS does. The state table still keeps the outcome right: the older
  // BNBUSDT event is either applied before the newer one or SKIPPED as SUPERSEDED after it.
  await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 20_000 });
  const outcomes = await guard.readOutcomes(3);
  expect(outcomes.map((o) => o.body.eventId).sort()).toEqual(groupA.map((e) => e.eventId).sort());
  expect(outcomes.every((o) => ['APPLIED', 'SKIPPED'].includes(o.body.status as string))).toBe(true);
  expect(guard.simulator.leverageOf('desk-1', 'BNBUSDT')).toBe(9);
  expect(guard.simulator.leverageOf('desk-1', 'XRPUSDT')).toBe(8);
});
