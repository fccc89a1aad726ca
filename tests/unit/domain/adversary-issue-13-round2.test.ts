// Adversary, second round against issue 13 (unit level): EVENT_ID_REUSED on the async-failure path.
// async-failure.ts reportAsyncFailure takes any earlier decision under the eventId as this event's,
// without comparing its `command` (process-record.ts settle() does compare, on the final receive).
import type { AsyncInvocationFailure } from '../../../functions/domain/async-failure.ts';
import { type BatchDeps, type InboundRecord, processBatch } from '../../../functions/domain/process-batch.ts';
import { FakeCredentialStore, FakeExchange, FakeStateStore, fixedDeadline, RecordingPublisher, silentLog } from '../../support/fakes.ts';

const T0 = Date.UTC(2026, 10, 27, 20, 0, 0);
const GAVE_UP = { code: -1001, message: 'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: Binance -1001: Internal error' };

function harness(state: FakeStateStore) {
  const publisher = new RecordingPublisher();
  const deps: BatchDeps = {
    exchange: new FakeExchange(),
    credentials: new FakeCredentialStore(),
    publisher,
    state,
    policy: { maxEventAgeMs: 900_000, dryRun: false },
    deadline: fixedDeadline(60_000),
    logFor: () => silentLog,
    now: () => T0,
    minimumTimeToStartMs: 5000,
  };
  return { publisher, run: (...records: InboundRecord[]) => processBatch(records, deps) };
}

function onFailureRecord(event: unknown): InboundRecord {
  const asyncFailure: AsyncInvocationFailure = { trigger: 'direct', fallbackEventId: 'req-1', error: GAVE_UP, event: { value: event } };
  return { recordId: 'msg-1', trigger: 'direct', body: { asyncFailure }, finalAttempt: false, attempt: 1 };
}

const second = { eventId: 'btc-risk-limit', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 10, issuedAt: new Date(T0 - 60_000).toISOString() };
/** What the FIRST command under this eventId recorded (risk-event.ts commandFingerprint of a real 5x set). */
const FIRST_COMMAND = `real run, set 5x, issued ${new Date(T0 - 3_600_000).toISOString()}`;

// Rule (issue 9): every event ends with a published truthful outcome. The second command never ran;
// the first one's "published" decision makes its report skip BTCUSDT: nothing at all is published.
test('a reused eventId whose async invocation Lambda gave up on is reported, not silently acknowledged (was: no outcome)', async () => {
  const state = new FakeStateStore();
  state.decisions.set(`desk-1/BTCUSDT/${second.eventId}`, { published: true, command: FIRST_COMMAND });
  const { run, publisher } = harness(state);
  const [result] = await run(onFailureRecord(second));
  expect(result!.disposition).toBe('acknowledge');
  // FAILED (it never ran) or REJECTED EVENT_ID_REUSED would both be truthful.
  expect(publisher.outcomes.map((o) => [o.symbol, o.status === 'FAILED' || o.error?.code === 'EVENT_ID_REUSED'])).toEqual([['BTCUSDT', true]]);
});

// Rule (issue 8): an outcome describes its own command. The first command's owed APPLIED 5x is
// published as the outcome of the second command (requested 10x), which never ran.
test('a reused eventId is not reported with the first command\'s owed APPLIED (was: APPLIED 5x for a 10x request that never ran)', async () => {
  const state = new FakeStateStore();
  state.decisions.set(`desk-1/BTCUSDT/${second.eventId}`, { published: false, verdict: { status: 'APPLIED', leverage: 5, maxNotionalValue: '5' }, command: FIRST_COMMAND });
  const { run, publisher } = harness(state);
  await run(onFailureRecord(second));
  // FAILED (it never ran) or REJECTED EVENT_ID_REUSED would both be truthful.
  expect(publisher.outcomes.map((o) => [o.symbol, o.status === 'FAILED' || o.error?.code === 'EVENT_ID_REUSED'])).toEqual([['BTCUSDT', true]]);
});
