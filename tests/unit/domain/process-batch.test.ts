import { ExecutionUnknownError, PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import type { Trigger } from '../../../functions/domain/outcome.ts';
import { type BatchDeps, type InboundRecord, processBatch, type RecordResult } from '../../../functions/domain/process-batch.ts';
import {
  answer,
  deferred,
  FakeCredentialStore,
  FakeExchange,
  fixedDeadline,
  raise,
  RecordingPublisher,
  type Reply,
  setting,
  settleUntil,
  silentLog,
  waitFor,
} from '../../support/fakes.ts';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const MINIMUM_TIME_TO_START_MS = 5000;

function harness(remainingMs = 60_000) {
  const exchange = new FakeExchange();
  const credentials = new FakeCredentialStore();
  const publisher = new RecordingPublisher();
  const clock = { now: T0 };
  const deps: BatchDeps = {
    credentials,
    exchange,
    publisher,
    deadline: fixedDeadline(remainingMs),
    logFor: () => silentLog,
    now: () => clock.now,
    minimumTimeToStartMs: MINIMUM_TIME_TO_START_MS,
  };
  const published = () => publisher.outcomes.map((o) => [o.eventId, o.status, o.error?.code ?? null]);
  return { exchange, credentials, publisher, clock, deps, published, run: (records: InboundRecord[]) => processBatch(records, deps) };
}

const event = (eventId: string, extra: Record<string, unknown> = {}) => ({ eventId, symbol: 'BTCUSDT', leverage: 5, ...extra });

function record(recordId: string, body: unknown, options: { finalAttempt?: boolean; trigger?: Trigger } = {}): InboundRecord {
  const trigger = options.trigger ?? 'sqs';
  return {
    recordId,
    trigger,
    body: trigger === 'sqs' ? { text: typeof body === 'string' ? body : JSON.stringify(body) } : { value: body },
    finalAttempt: options.finalAttempt ?? false,
  };
}

/** [recordId, disposition, published status, error code, error message] per result. */
const summary = (results: RecordResult[]) =>
  results.map((r) => [r.recordId, r.disposition, r.status ?? null, r.error?.code ?? null, r.error?.message ?? null]);

describe('processBatch: a valid event', () => {
  test('is applied, its APPLIED outcome published, then acknowledged', async () => {
    const h = harness();
    const change = deferred<ReturnType<typeof setting>>();
    h.exchange.onChange(waitFor(change));
    const running = h.run([record('msg-1', event('evt-1', { accountId: 'desk-2', leverage: 7, reason: 'drawdown' }))]);
    await settleUntil(() => h.exchange.calls.length === 1);
    h.clock.now = T0 + 1234;
    change.resolve(setting(7, '500000'));

    expect(summary(await running)).toEqual([['msg-1', 'acknowledge', 'APPLIED', null, null]]);
    expect(h.credentials.accountIds).toEqual(['desk-2']);
    expect(h.exchange.calls).toEqual([{ method: 'changeLeverage', apiKey: 'key-desk-2', symbol: 'BTCUSDT', leverage: 7 }]);
    expect(JSON.parse(JSON.stringify(h.publisher.outcomes))).toStrictEqual([
      {
        eventId: 'evt-1',
        accountId: 'desk-2',
        symbol: 'BTCUSDT',
        requestedLeverage: 7,
        reason: 'drawdown',
        status: 'APPLIED',
        leverage: 7,
        maxNotionalValue: '500000',
        trigger: 'sqs',
        processedAt: '2026-11-25T10:00:01.234Z',
        durationMs: 1234,
      },
    ]);
  });
});

describe('processBatch: an unusable event is REJECTED (INVALID_EVENT) and acknowledged', () => {
  test.each([
    ['SQS body that is not JSON', record('msg-1', 'not json'), 'msg-1', undefined, /^body is not valid JSON \(.+\)$/],
    ['SQS event with a bad symbol', record('msg-1', event('evt-2', { symbol: 'btc' })), 'evt-2', undefined, /^symbol: must be an uppercase UM symbol/],
    ['direct null', record('req-1', null, { trigger: 'direct' }), 'req-1', undefined, /^event must be a JSON object, got null$/],
    ['EventBridge detail without eventId', record('eb-1', { symbol: 'ETHUSDT', leverage: 3 }, { trigger: 'eventbridge' }), 'eb-1', 'ETHUSDT', /^eventId: is required$/],
  ])('%s', async (_name, input, eventId, symbol, message) => {
    const h = harness();
    const results = await h.run([input]);
    expect(summary(results)).toEqual([[input.recordId, 'acknowledge', 'REJECTED', null, null]]);
    expect(results[0]?.eventId).toBe(eventId);
    expect(h.publisher.outcomes).toHaveLength(1);
    expect(h.publisher.outcomes[0]).toMatchObject({ eventId, symbol, status: 'REJECTED', trigger: input.trigger, error: { code: 'INVALID_EVENT', retryable: false } });
    expect(h.publisher.outcomes[0]?.error?.message).toMatch(message);
    expect(h.exchange.calls).toEqual([]);
    expect(h.credentials.accountIds).toEqual([]);
  });
});

describe('processBatch: failures of the exchange or the credentials', () => {
  const unknown = () => new ExecutionUnknownError('TIMEOUT', 'no response within 5000 ms');
  type Row = [string, Reply<ReturnType<typeof setting>>[], Reply<ReturnType<typeof setting>>[], boolean, unknown[], unknown[]];
  test.each<Row>([
    ['permanent error: REJECTED and acknowledged', [raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage'))], [], false,
      ['msg-1', 'acknowledge', 'REJECTED', null, null], [['evt-1', 'REJECTED', -4028]]],
    ['retryable error, not final: handed back, nothing published', [raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET'))], [], false,
      ['msg-1', 'retry', null, 'NETWORK_ERROR', 'ECONNRESET'], []],
    ['retryable error on the final attempt: FAILED published, still handed back', [raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET'))], [], true,
      ['msg-1', 'retry', 'FAILED', 'NETWORK_ERROR', 'ECONNRESET'], [['evt-1', 'FAILED', 'NETWORK_ERROR']]],
    ['unknown execution, read-back equal: APPLIED', [raise(unknown())], [answer(setting(5, '777'))], false,
      ['msg-1', 'acknowledge', 'APPLIED', null, null], [['evt-1', 'APPLIED', null]]],
    ['unknown execution, read-back different: handed back', [raise(unknown())], [answer(setting(20))], false,
      ['msg-1', 'retry', null, 'TIMEOUT', 'no response within 5000 ms; read-back shows leverage 20, so the change did not apply'], []],
    ['unknown execution, read-back failed: handed back', [raise(unknown())], [raise(new RetryableError('TIMEOUT', 'read timed out'))], false,
      ['msg-1', 'retry', null, 'TIMEOUT', 'no response within 5000 ms; read-back failed: read timed out'], []],
    ['unknown execution, read-back failed on the final attempt: FAILED', [raise(unknown())], [raise('socket gone')], true,
      ['msg-1', 'retry', 'FAILED', 'TIMEOUT', 'no response within 5000 ms; read-back failed: socket gone'], [['evt-1', 'FAILED', 'TIMEOUT']]],
    ['a thrown TypeError: INTERNAL_ERROR, handed back', [raise(new TypeError('x is undefined'))], [], false,
      ['msg-1', 'retry', null, 'INTERNAL_ERROR', 'TypeError: x is undefined'], []],
    ['a thrown string: INTERNAL_ERROR, handed back', [raise('weird')], [], false,
      ['msg-1', 'retry', null, 'INTERNAL_ERROR', 'weird'], []],
  ])('%s', async (_name, changeReplies, readReplies, finalAttempt, expected, published) => {
    const h = harness();
    h.exchange.onChange(...changeReplies).onRead(...readReplies);
    expect(summary(await h.run([record('msg-1', event('evt-1'), { finalAttempt })]))).toEqual([expected]);
    expect(h.published()).toEqual(published);
    expect(h.exchange.calls.map((c) => c.method)).toEqual(['changeLeverage', ...readReplies.map(() => 'readLeverage')]);
  });

  test('the FAILED outcome carries the error, marked retryable', async () => {
    const h = harness();
    h.exchange.onChange(raise(new RetryableError(-1008, 'Binance -1008: Request throttled')));
    await h.run([record('msg-1', event('evt-1'), { finalAttempt: true })]);
    expect(h.publisher.outcomes[0]).toMatchObject({
      status: 'FAILED',
      requestedLeverage: 5,
      error: { code: -1008, message: 'Binance -1008: Request throttled', retryable: true },
    });
    expect(h.publisher.outcomes[0]).not.toHaveProperty('leverage');
  });

  test('credentials that cannot be read: handed back without calling the exchange', async () => {
    const h = harness();
    h.credentials.replies.push(raise(new RetryableError('INVALID_CREDENTIALS', 'secret s has no apiKey')));
    expect(summary(await h.run([record('msg-1', event('evt-1'))]))).toEqual([
      ['msg-1', 'retry', null, 'INVALID_CREDENTIALS', 'secret s has no apiKey'],
    ]);
    expect(h.exchange.calls).toEqual([]);
    expect(h.published()).toEqual([]);
  });
});

describe('processBatch: nothing is acknowledged unless its outcome was published', () => {
  test.each([
    ['APPLIED', record('msg-1', event('evt-1')), () => undefined],
    ['REJECTED', record('msg-1', event('evt-1')), (x: FakeExchange) => x.onChange(raise(new PermanentError(-1121, 'Binance -1121: Invalid symbol.')))],
    ['INVALID_EVENT', record('msg-1', '{'), () => undefined],
    ['FAILED', record('msg-1', event('evt-1'), { finalAttempt: true }), (x: FakeExchange) => x.onChange(raise(new RetryableError('TIMEOUT', 't')))],
  ])('%s outcome that fails to publish: handed back with the publish error', async (_name, input, script) => {
    const h = harness();
    script(h.exchange);
    h.publisher.failures.push(new RetryableError('OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (Throttling: slow down)'));
    expect(summary(await h.run([input]))).toEqual([
      ['msg-1', 'retry', null, 'OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (Throttling: slow down)'],
    ]);
    expect(h.publisher.outcomes).toEqual([]);
  });

  test('a publisher that throws something unexpected still leads to a retry', async () => {
    const h = harness();
    h.publisher.failures.push(new Error('socket hang up'));
    expect(summary(await h.run([record('msg-1', event('evt-1'))]))).toEqual([
      ['msg-1', 'retry', null, 'INTERNAL_ERROR', 'Error: socket hang up'],
    ]);
  });
});

describe('processBatch: ordering per account and symbol', () => {
  test('records of one key run one after another, in arrival order', async () => {
    const h = harness();
    const first = deferred<ReturnType<typeof setting>>();
    const second = deferred<ReturnType<typeof setting>>();
    h.exchange.onChange(waitFor(first), waitFor(second));
    const running = h.run([record('msg-1', event('evt-1', { leverage: 5 })), record('msg-2', event('evt-2', { leverage: 7 }))]);

    await settleUntil(() => h.exchange.calls.length > 1);
    expect(h.exchange.calls.map((c) => c.leverage)).toEqual([5]);

    first.resolve(setting(5));
    await settleUntil(() => h.exchange.calls.length > 1);
    expect(h.exchange.calls.map((c) => c.leverage)).toEqual([5, 7]);
    expect(h.published()).toEqual([['evt-1', 'APPLIED', null]]); // the first finished, outcome included

    second.resolve(setting(7));
    expect(summary(await running).map(([id, disposition]) => [id, disposition])).toEqual([
      ['msg-1', 'acknowledge'],
      ['msg-2', 'acknowledge'],
    ]);
  });

  test.each([
    ['different symbols', { symbol: 'ETHUSDT' }],
    ['same symbol, different accounts', { accountId: 'desk-2' }],
  ])('%s run concurrently', async (_name, otherKey) => {
    const h = harness();
    const first = deferred<ReturnType<typeof setting>>();
    const second = deferred<ReturnType<typeof setting>>();
    h.exchange.onChange(waitFor(first), waitFor(second));
    const running = h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2', otherKey))]);

    await settleUntil(() => h.exchange.calls.length === 2);
    expect(h.exchange.calls).toHaveLength(2);
    expect(h.published()).toEqual([]);

    second.resolve(setting(5));
    first.resolve(setting(5));
    expect((await running).map((r) => r.disposition)).toEqual(['acknowledge', 'acknowledge']);
  });

  test('after one record of a key is handed back, later ones of that key are handed back unprocessed', async () => {
    const h = harness();
    h.exchange.onChange(raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const results = await h.run([
      record('msg-1', event('evt-1')),
      record('msg-2', event('evt-2', { symbol: 'ETHUSDT' })),
      record('msg-3', event('evt-3', { leverage: 9 })),
      record('msg-4', event('evt-4', { leverage: 10 }), { finalAttempt: true }),
    ]);
    const pending = 'an earlier event for default BTCUSDT in this batch was handed back; this one keeps its place behind it';
    expect(summary(results)).toEqual([
      ['msg-1', 'retry', null, 'NETWORK_ERROR', 'ECONNRESET'],
      ['msg-2', 'acknowledge', 'APPLIED', null, null],
      ['msg-3', 'retry', null, 'EARLIER_EVENT_PENDING', pending],
      ['msg-4', 'retry', 'FAILED', 'EARLIER_EVENT_PENDING', pending],
    ]);
    expect(h.exchange.calls.map((c) => [c.symbol, c.leverage])).toEqual([
      ['BTCUSDT', 5],
      ['ETHUSDT', 5],
    ]);
    expect(h.published()).toEqual([
      ['evt-2', 'APPLIED', null],
      ['evt-4', 'FAILED', 'EARLIER_EVENT_PENDING'],
    ]);
  });

  test('a REJECTED record does not hold back later records of its key', async () => {
    const h = harness();
    h.exchange.onChange(raise(new PermanentError(-2027, 'Binance -2027: Exceeded the maximum allowable position at current leverage.')));
    const results = await h.run([record('msg-1', event('evt-1', { leverage: 50 })), record('msg-2', event('evt-2', { leverage: 5 }))]);
    expect(results.map((r) => [r.recordId, r.disposition, r.status])).toEqual([
      ['msg-1', 'acknowledge', 'REJECTED'],
      ['msg-2', 'acknowledge', 'APPLIED'],
    ]);
  });

  test('an outcome that failed to publish holds back later records of its key too', async () => {
    const h = harness();
    h.publisher.failures.push(new Error('sns down'));
    const results = await h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2'))]);
    expect(results.map((r) => [r.recordId, r.error?.code])).toEqual([
      ['msg-1', 'INTERNAL_ERROR'],
      ['msg-2', 'EARLIER_EVENT_PENDING'],
    ]);
    expect(h.exchange.calls).toHaveLength(1);
  });
});

describe('processBatch: time budget', () => {
  const message = 'not enough invocation time left to start this event';
  test.each([
    [false, ['msg-1', 'retry', null, 'TIME_BUDGET_EXHAUSTED', message], []],
    [true, ['msg-1', 'retry', 'FAILED', 'TIME_BUDGET_EXHAUSTED', message], [['evt-1', 'FAILED', 'TIME_BUDGET_EXHAUSTED']]],
  ])('below minimumTimeToStartMs (final attempt: %p): handed back before the exchange is called', async (finalAttempt, expected, published) => {
    const h = harness(MINIMUM_TIME_TO_START_MS - 1);
    expect(summary(await h.run([record('msg-1', event('evt-1'), { finalAttempt })]))).toEqual([expected]);
    expect(h.exchange.calls).toEqual([]);
    expect(h.credentials.accountIds).toEqual([]);
    expect(h.published()).toEqual(published);
  });

  test('exactly minimumTimeToStartMs left is enough to start', async () => {
    const h = harness(MINIMUM_TIME_TO_START_MS);
    expect((await h.run([record('msg-1', event('evt-1'))]))[0]?.status).toBe('APPLIED');
  });
});
