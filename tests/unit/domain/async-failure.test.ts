// An asynchronous invocation Lambda gave up on, arriving as a record of a batch: it is reported
// (FAILED per symbol without an outcome, or REJECTED when the event was invalid), never executed.
import type { AsyncInvocationFailure } from '../../../functions/domain/async-failure.ts';
import { RetryableError } from '../../../functions/domain/errors.ts';
import { type BatchDeps, type InboundRecord, processBatch } from '../../../functions/domain/process-batch.ts';
import {
  FakeCredentialStore,
  FakeExchange,
  FakePauseSwitch,
  FakeStateStore,
  fixedDeadline,
  raise,
  RecordingPublisher,
  silentLog,
} from '../../support/fakes.ts';

const T0 = Date.UTC(2026, 10, 27, 20, 0, 0);
const GAVE_UP = { code: -1001, message: 'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: Binance -1001: Internal error' };

function harness(options: { state?: FakeStateStore; pause?: FakePauseSwitch } = {}) {
  const exchange = new FakeExchange();
  const credentials = new FakeCredentialStore();
  const publisher = new RecordingPublisher();
  const deps: BatchDeps = {
    exchange,
    credentials,
    publisher,
    state: options.state,
    pause: options.pause,
    policy: { maxEventAgeMs: 900_000, dryRun: false },
    deadline: fixedDeadline(60_000),
    logFor: () => silentLog,
    now: () => T0,
    minimumTimeToStartMs: 5000,
  };
  return { exchange, credentials, publisher, deps, run: (...records: InboundRecord[]) => processBatch(records, deps) };
}

function onFailureRecord(failure: Partial<AsyncInvocationFailure>, recordId = 'msg-1', finalAttempt = false): InboundRecord {
  const asyncFailure: AsyncInvocationFailure = { trigger: 'direct', fallbackEventId: 'req-1', error: GAVE_UP, ...failure };
  return { recordId, trigger: asyncFailure.trigger, body: { asyncFailure }, finalAttempt, attempt: 1 };
}

const scheduled = {
  eventId: 'weekly-deleverage-2026-11-27T20:00:00Z',
  accountId: 'desk-1',
  targets: [
    { symbol: 'BTCUSDT', leverage: 10 },
    { symbol: 'ETHUSDT', leverage: 8 },
  ],
  reason: 'Friday 20:00 UTC de-leveraging',
};

test('a valid event: one FAILED per symbol, with the last error, its trigger, and nothing sent to the exchange', async () => {
  const { run, publisher, exchange, credentials } = harness();
  const [result] = await run(onFailureRecord({ event: { value: scheduled } }));

  expect(result).toEqual({
    recordId: 'msg-1',
    eventId: scheduled.eventId,
    disposition: 'acknowledge',
    outcomes: [
      { symbol: 'BTCUSDT', status: 'FAILED', code: -1001 },
      { symbol: 'ETHUSDT', status: 'FAILED', code: -1001 },
    ],
  });
  expect(publisher.outcomes.map((o) => [o.eventId, o.accountId, o.symbol, o.requestedLeverage, o.status, o.trigger, o.reason])).toEqual([
    [scheduled.eventId, 'desk-1', 'BTCUSDT', 10, 'FAILED', 'direct', scheduled.reason],
    [scheduled.eventId, 'desk-1', 'ETHUSDT', 8, 'FAILED', 'direct', scheduled.reason],
  ]);
  expect(publisher.outcomes[0]!.error).toEqual({ ...GAVE_UP, retryable: true });
  expect(exchange.calls).toEqual([]);
  expect(credentials.accountIds).toEqual([]);
});

test('the trigger is the one the event originally came by', async () => {
  const { run, publisher } = harness();
  await run(onFailureRecord({ trigger: 'eventbridge', event: { value: { eventId: 'evt-1', symbol: 'BTCUSDT', leverage: 5 } } }));
  expect(publisher.outcomes.map((o) => [o.eventId, o.trigger, o.status])).toEqual([['evt-1', 'eventbridge', 'FAILED']]);
});

test('with a state table, symbols that completed on an earlier attempt keep their outcome and get no FAILED', async () => {
  const state = new FakeStateStore().completedAlready(scheduled.eventId, 'desk-1', 'BTCUSDT');
  const { run, publisher } = harness({ state });
  const [result] = await run(onFailureRecord({ event: { value: scheduled } }));
  expect(publisher.outcomes.map((o) => [o.symbol, o.status])).toEqual([['ETHUSDT', 'FAILED']]);
  expect(result!.disposition).toBe('acknowledge');
  // A FAILED is not a completion: a redrive of the event must still run it.
  expect(state.callsOf('recordDecision')).toEqual([]);
});

test('a symbol decided on an earlier attempt whose outcome was lost: that verdict is published, not FAILED', async () => {
  const state = new FakeStateStore();
  state.decisions.set(`desk-1/BTCUSDT/${scheduled.eventId}`, { published: false, verdict: { status: 'APPLIED', leverage: 10, maxNotionalValue: '5' } });
  const { run, publisher } = harness({ state });
  await run(onFailureRecord({ event: { value: scheduled } }));
  expect(publisher.outcomes.map((o) => [o.symbol, o.status])).toEqual([['BTCUSDT', 'APPLIED'], ['ETHUSDT', 'FAILED']]);
});

test('every symbol completed earlier: nothing to publish, acknowledged', async () => {
  const state = new FakeStateStore().completedAlready(scheduled.eventId, 'desk-1', 'BTCUSDT', 'ETHUSDT');
  const { run, publisher } = harness({ state });
  const [result] = await run(onFailureRecord({ event: { value: scheduled } }));
  expect([result!.disposition, result!.outcomes, publisher.outcomes]).toEqual(['acknowledge', [], []]);
});

test('a state table that cannot answer means FAILED anyway: a duplicate is better than silence', async () => {
  const state = new FakeStateStore();
  state.decisionReplies.push(raise(new RetryableError('STATE_STORE_UNAVAILABLE', 'down')));
  const { run, publisher } = harness({ state });
  await run(onFailureRecord({ event: { value: scheduled } }));
  expect(publisher.outcomes.map((o) => [o.symbol, o.status])).toEqual([
    ['BTCUSDT', 'FAILED'],
    ['ETHUSDT', 'FAILED'],
  ]);
});

test('ALL_OPEN_POSITIONS: one FAILED about the whole event (its symbols were never known)', async () => {
  const { run, publisher } = harness();
  await run(onFailureRecord({ event: { value: { eventId: 'evt-all', accountId: 'desk-1', symbols: 'ALL_OPEN_POSITIONS', leverage: 10 } } }));
  expect(publisher.outcomes.map((o) => [o.eventId, o.symbol, o.requestedLeverage, o.status])).toEqual([['evt-all', undefined, 10, 'FAILED']]);
});

test('an invalid event is REJECTED as invalid, not FAILED: a redrive could never succeed', async () => {
  const { run, publisher } = harness();
  const [result] = await run(onFailureRecord({ trigger: 'eventbridge', fallbackEventId: 'eb-1', event: { value: { symbol: 'BTCUSDT', leverage: 500 } } }));
  expect(publisher.outcomes.map((o) => [o.eventId, o.symbol, o.status, o.trigger, o.error])).toEqual([
    ['eb-1', 'BTCUSDT', 'REJECTED', 'eventbridge', { code: 'INVALID_EVENT', message: 'eventId: is required; leverage: must be at most 125, got 500', retryable: false }],
  ]);
  expect(result!.eventId).toBe('eb-1');
});

test('an invalid event keeps its own eventId when it has one', async () => {
  const { run, publisher } = harness();
  await run(onFailureRecord({ event: { value: { eventId: 'evt-bad', symbol: 'btc', leverage: 5 } } }));
  expect(publisher.outcomes.map((o) => [o.eventId, o.status])).toEqual([['evt-bad', 'REJECTED']]);
});

test('a record without the original event: one FAILED under the original request id', async () => {
  const { run, publisher } = harness();
  const [result] = await run(onFailureRecord({ event: undefined, fallbackEventId: 'req-9' }));
  expect(publisher.outcomes.map((o) => [o.eventId, o.symbol, o.status, o.error?.code])).toEqual([['req-9', undefined, 'FAILED', -1001]]);
  expect(result!.disposition).toBe('acknowledge');
});

test('acknowledged only once published: a refused publish hands the record back', async () => {
  const { run, publisher } = harness();
  publisher.failures.push(new RetryableError('OUTCOME_PUBLISH_FAILED', 'SNS down'));
  const [result] = await run(onFailureRecord({ event: { value: scheduled } }, 'msg-7', true));
  expect(result).toMatchObject({ recordId: 'msg-7', disposition: 'retry', error: { code: 'OUTCOME_PUBLISH_FAILED' } });
});

test('reported while paused too (the pause stops exchange traffic, not reports), alongside ordinary records', async () => {
  const pause = new FakePauseSwitch({ value: { paused: true } });
  const { run, publisher, exchange } = harness({ pause });
  const ordinary: InboundRecord = { recordId: 'msg-2', trigger: 'sqs', body: { text: JSON.stringify({ eventId: 'evt-2', symbol: 'BTCUSDT', leverage: 5 }) }, finalAttempt: false, attempt: 1 };
  const results = await run(onFailureRecord({ event: { value: scheduled } }), ordinary);
  expect(results.map((r) => [r.recordId, r.disposition])).toEqual([
    ['msg-1', 'acknowledge'],
    ['msg-2', 'retry'],
  ]);
  expect(publisher.outcomes.map((o) => [o.symbol, o.status])).toEqual([
    ['BTCUSDT', 'FAILED'],
    ['ETHUSDT', 'FAILED'],
  ]);
  expect(exchange.calls).toEqual([]);
});
