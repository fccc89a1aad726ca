import { ExecutionUnknownError, PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import type { Trigger } from '../../../functions/domain/outcome.ts';
import type { Policy } from '../../../functions/domain/policy.ts';
import type { Deadline, PauseState } from '../../../functions/domain/ports.ts';
import { type BatchDeps, type InboundRecord, processBatch, type RecordResult } from '../../../functions/domain/process-batch.ts';
import { CHECK_RESERVE_MS, RESPONSE_RESERVE_MS, WORK_RESERVE_MS } from '../../../functions/domain/time-budget.ts';
import {
  answer,
  deferred,
  FakeCredentialStore,
  FakeExchange,
  FakePauseSwitch,
  FakeStateStore,
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

const MAX_EVENT_AGE_MS = 900_000;

interface HarnessOptions {
  remainingMs?: number;
  policy?: Partial<Policy>;
  /** Give the batch a FakeStateStore. */
  state?: boolean;
  pause?: FakePauseSwitch;
}

function harness(options: HarnessOptions | number = {}) {
  const { remainingMs = 60_000, policy, state: withState = false, pause }: HarnessOptions =
    typeof options === 'number' ? { remainingMs: options } : options;
  const exchange = new FakeExchange();
  const credentials = new FakeCredentialStore();
  const publisher = new RecordingPublisher();
  const state = new FakeStateStore();
  const clock = { now: T0 };
  const deps: BatchDeps = {
    credentials,
    exchange,
    publisher,
    state: withState ? state : undefined,
    pause,
    policy: { maxEventAgeMs: MAX_EVENT_AGE_MS, dryRun: false, ...policy },
    deadline: fixedDeadline(remainingMs),
    logFor: () => silentLog,
    now: () => clock.now,
    minimumTimeToStartMs: MINIMUM_TIME_TO_START_MS,
  };
  const published = () => publisher.outcomes.map((o) => [o.eventId, o.status, o.error?.code ?? null]);
  /** [eventId, symbol, status, error code] of every published outcome. */
  const publishedPerSymbol = () => publisher.outcomes.map((o) => [o.eventId, o.symbol ?? null, o.status, o.error?.code ?? null]);
  /** [method symbol leverage] of every exchange call, in order. */
  const exchangeLog = () => exchange.calls.map((c) => [c.method, c.symbol, c.leverage].filter((x) => x !== undefined).join(' '));
  return {
    exchange,
    credentials,
    publisher,
    state,
    clock,
    deps,
    published,
    publishedPerSymbol,
    exchangeLog,
    run: (records: InboundRecord[]) => processBatch(records, deps),
  };
}

const PENDING_MESSAGE =
  'an earlier event for the same account and symbol (or FIFO group) in this batch was handed back; this one keeps its place behind it';

const event = (eventId: string, extra: Record<string, unknown> = {}) => ({ eventId, symbol: 'BTCUSDT', leverage: 5, ...extra });

function record(
  recordId: string,
  body: unknown,
  options: { finalAttempt?: boolean; attempt?: number; trigger?: Trigger; orderingGroup?: string } = {},
): InboundRecord {
  const trigger = options.trigger ?? 'sqs';
  return {
    recordId,
    trigger,
    body: trigger === 'sqs' ? { text: typeof body === 'string' ? body : JSON.stringify(body) } : { value: body },
    finalAttempt: options.finalAttempt ?? false,
    attempt: options.attempt ?? 1,
    ...(options.orderingGroup === undefined ? {} : { orderingGroup: options.orderingGroup }),
  };
}

/** [recordId, disposition, published statuses, error code, error message] per result. */
const summary = (results: RecordResult[]) =>
  results.map((r) => [r.recordId, r.disposition, r.outcomes.map((o) => o.status), r.error?.code ?? null, r.error?.message ?? null]);

/** What a result says about its published outcomes: symbol and status (whatever else it adds). */
const outcomesOf = (result: RecordResult | undefined) => result?.outcomes.map(({ symbol, status }) => ({ symbol, status }));

/** [recordId, disposition, error code] per result, for tests about ordering and hand-backs. */
const brief = (results: RecordResult[]) => results.map((r) => [r.recordId, r.disposition, r.error?.code ?? null]);

describe('processBatch: a valid event', () => {
  test('is applied, its APPLIED outcome published, then acknowledged', async () => {
    const h = harness();
    const change = deferred<ReturnType<typeof setting>>();
    h.exchange.onChange(waitFor(change));
    const running = h.run([record('msg-1', event('evt-1', { accountId: 'desk-2', leverage: 7, reason: 'drawdown' }))]);
    await settleUntil(() => h.exchange.calls.length === 1);
    h.clock.now = T0 + 1234;
    change.resolve(setting(7, '500000'));

    expect(summary(await running)).toEqual([['msg-1', 'acknowledge', ['APPLIED'], null, null]]);
    expect(h.credentials.accountIds).toEqual(['desk-2']);
    expect(h.exchange.calls).toEqual([{ method: 'changeLeverage', apiKey: 'key-desk-2', symbol: 'BTCUSDT', leverage: 7 }]);
    expect(JSON.parse(JSON.stringify(h.publisher.outcomes))).toStrictEqual([
      {
        eventId: 'evt-1',
        accountId: 'desk-2',
        symbol: 'BTCUSDT',
        requestedLeverage: 7,
        mode: 'set',
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
    expect(summary(results)).toEqual([[input.recordId, 'acknowledge', ['REJECTED'], null, null]]);
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
      ['msg-1', 'acknowledge', ['REJECTED'], null, null], [['evt-1', 'REJECTED', -4028]]],
    ['retryable error, not final: handed back, nothing published', [raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET'))], [], false,
      ['msg-1', 'retry', [], 'NETWORK_ERROR', 'ECONNRESET'], []],
    ['retryable error on the final attempt: FAILED published, still handed back', [raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET'))], [], true,
      ['msg-1', 'retry', ['FAILED'], 'NETWORK_ERROR', 'ECONNRESET'], [['evt-1', 'FAILED', 'NETWORK_ERROR']]],
    ['unknown execution, read-back equal: APPLIED', [raise(unknown())], [answer(setting(5, '777'))], false,
      ['msg-1', 'acknowledge', ['APPLIED'], null, null], [['evt-1', 'APPLIED', null]]],
    ['unknown execution, read-back different: handed back', [raise(unknown())], [answer(setting(20))], false,
      ['msg-1', 'retry', [], 'TIMEOUT', 'no response within 5000 ms; read-back shows leverage 20, so the change has not applied (yet: Binance may still execute it within its recvWindow)'], []],
    ['unknown execution, read-back failed: handed back', [raise(unknown())], [raise(new RetryableError('TIMEOUT', 'read timed out'))], false,
      ['msg-1', 'retry', [], 'TIMEOUT', 'no response within 5000 ms; read-back failed: read timed out'], []],
    ['unknown execution, read-back failed on the final attempt: FAILED', [raise(unknown())], [raise('socket gone')], true,
      ['msg-1', 'retry', ['FAILED'], 'TIMEOUT', 'no response within 5000 ms; read-back failed: socket gone'], [['evt-1', 'FAILED', 'TIMEOUT']]],
    ['a thrown TypeError: INTERNAL_ERROR, handed back', [raise(new TypeError('x is undefined'))], [], false,
      ['msg-1', 'retry', [], 'INTERNAL_ERROR', 'TypeError: x is undefined'], []],
    ['a thrown string: INTERNAL_ERROR, handed back', [raise('weird')], [], false,
      ['msg-1', 'retry', [], 'INTERNAL_ERROR', 'weird'], []],
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
    expect(JSON.parse(JSON.stringify(h.publisher.outcomes[0]))).not.toHaveProperty('leverage');
  });

  test('credentials that cannot be read: handed back without calling the exchange', async () => {
    const h = harness();
    h.credentials.replies.push(raise(new RetryableError('INVALID_CREDENTIALS', 'secret s has no apiKey')));
    expect(summary(await h.run([record('msg-1', event('evt-1'))]))).toEqual([
      ['msg-1', 'retry', [], 'INVALID_CREDENTIALS', 'secret s has no apiKey'],
    ]);
    expect(h.exchange.calls).toEqual([]);
    expect(h.published()).toEqual([]);
  });
});

describe('processBatch: nothing is acknowledged unless its outcome was published', () => {
  const PUBLISH_FAILURE: [string, string] = ['OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (Throttling: slow down)'];
  test.each([
    ['APPLIED', record('msg-1', event('evt-1')), () => undefined],
    ['REJECTED', record('msg-1', event('evt-1')), (x: FakeExchange) => x.onChange(raise(new PermanentError(-1121, 'Binance -1121: Invalid symbol.')))],
    ['INVALID_EVENT', record('msg-1', '{'), () => undefined],
    ['FAILED (on the final attempt: handed back with the failure that caused it)', record('msg-1', event('evt-1'), { finalAttempt: true }),
      (x: FakeExchange) => x.onChange(raise(new RetryableError('TIMEOUT', 't'))), ['TIMEOUT', 't']],
  ])('%s outcome that fails to publish: handed back, nothing published', async (_name, input, script, why = PUBLISH_FAILURE) => {
    const h = harness();
    script(h.exchange);
    h.publisher.failures.push(new RetryableError(...PUBLISH_FAILURE));
    expect(summary(await h.run([input]))).toEqual([['msg-1', 'retry', [], ...why]]);
    expect(h.publisher.outcomes).toEqual([]);
  });

  test.each([
    ['APPLIED', () => undefined],
    ['REJECTED', (x: FakeExchange) => x.onChange(raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')))],
  ])('final attempt, the %s outcome fails to publish: handed back, no FAILED outcome replaces it', async (_name, script) => {
    const h = harness();
    script(h.exchange);
    h.publisher.failures.push(new RetryableError(...PUBLISH_FAILURE));
    const [result] = await h.run([record('msg-1', event('evt-1'), { finalAttempt: true })]);
    expect(result?.disposition).toBe('retry');
    expect(h.publisher.outcomes.filter((o) => o.status === 'FAILED')).toEqual([]);
  });

  test('a publisher that throws something unexpected still leads to a retry', async () => {
    const h = harness();
    h.publisher.failures.push(new Error('socket hang up'));
    expect(summary(await h.run([record('msg-1', event('evt-1'))]))).toEqual([
      ['msg-1', 'retry', [], 'INTERNAL_ERROR', 'Error: socket hang up'],
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
    const pending = PENDING_MESSAGE;
    expect(summary(results)).toEqual([
      ['msg-1', 'retry', [], 'NETWORK_ERROR', 'ECONNRESET'],
      ['msg-2', 'acknowledge', ['APPLIED'], null, null],
      ['msg-3', 'retry', [], 'EARLIER_EVENT_PENDING', pending],
      ['msg-4', 'retry', ['FAILED'], 'EARLIER_EVENT_PENDING', pending],
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
    expect(results.map((r) => [r.recordId, r.disposition, outcomesOf(r)])).toEqual([
      ['msg-1', 'acknowledge', [{ symbol: 'BTCUSDT', status: 'REJECTED' }]],
      ['msg-2', 'acknowledge', [{ symbol: 'BTCUSDT', status: 'APPLIED' }]],
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
  // A record starts only if one exchange request fits before the work phase ends (time-budget.ts).
  const ENOUGH_TO_START = MINIMUM_TIME_TO_START_MS + WORK_RESERVE_MS;
  test.each([
    [false, ['msg-1', 'retry', [], 'TIME_BUDGET_EXHAUSTED', message], []],
    [true, ['msg-1', 'retry', ['FAILED'], 'TIME_BUDGET_EXHAUSTED', message], [['evt-1', 'FAILED', 'TIME_BUDGET_EXHAUSTED']]],
  ])('below minimumTimeToStartMs + the work reserve (final attempt: %p): handed back before the exchange is called', async (finalAttempt, expected, published) => {
    const h = harness(ENOUGH_TO_START - 1);
    expect(summary(await h.run([record('msg-1', event('evt-1'), { finalAttempt })]))).toEqual([expected]);
    expect(h.exchange.calls).toEqual([]);
    expect(h.credentials.accountIds).toEqual([]);
    expect(h.published()).toEqual(published);
  });

  test('exactly minimumTimeToStartMs + the work reserve left is enough to start', async () => {
    const h = harness(ENOUGH_TO_START);
    expect(outcomesOf((await h.run([record('msg-1', event('evt-1'))]))[0])).toEqual([{ symbol: 'BTCUSDT', status: 'APPLIED' }]);
  });
});

describe('processBatch: no call outlives the invocation', () => {
  // Simulated time: a hanging dependency answers only when the deadline it was given runs out,
  // as the adapters' bounded calls do (they abort at that point); without a deadline it would
  // hang past the invocation, which the test reports.
  const INVOCATION_MS = 30_000;
  type Bounded = 'exchange' | 'credentials' | 'state' | 'pause' | 'publisher';

  function bounded(hanging: Bounded[]) {
    const h = harness({ state: true, pause: new FakePauseSwitch() });
    const end = T0 + INVOCATION_MS;
    h.deps.deadline = { remainingMs: () => end - h.clock.now };
    const hang = (what: Bounded, deadline: Deadline | undefined): Promise<never> => {
      // Without a deadline it hangs until Lambda's timeout ends the invocation.
      h.clock.now = deadline ? h.clock.now + Math.max(0, deadline.remainingMs()) : end;
      return Promise.reject(new RetryableError('TIMEOUT', `${what} did not answer`));
    };
    const or = <T>(what: Bounded, deadline: Deadline | undefined, works: () => Promise<T>) => (hanging.includes(what) ? hang(what, deadline) : works());
    const { exchange, credentials, state, publisher } = h;
    const pause = h.deps.pause!;
    /** [status, ms of the invocation left] of every outcome published. */
    const publishedAt: [string, number][] = [];
    h.deps.exchange = {
      changeLeverage: (c, symbol, leverage, deadline) => or('exchange', deadline, () => exchange.changeLeverage(c, symbol, leverage)),
      readLeverage: (c, symbol, deadline) => or('exchange', deadline, () => exchange.readLeverage(c, symbol)),
      readOpenPositions: (c, deadline) => or('exchange', deadline, () => exchange.readOpenPositions(c)),
    };
    h.deps.credentials = {
      forAccount: (id, deadline) => or('credentials', deadline, () => credentials.forAccount(id)),
      invalidate: (id, refused) => credentials.invalidate(id, refused),
    };
    h.deps.pause = { state: (deadline) => or('pause', deadline, () => pause.state()) };
    h.deps.state = {
      earlierDecision: (ref, deadline) => or('state', deadline, () => state.earlierDecision(ref)),
      recordDecision: (ref, decision, deadline) => or('state', deadline, () => state.recordDecision(ref, decision)),
      history: (ref, deadline) => or('state', deadline, () => state.history(ref)),
      claim: (ref, request, deadline) => or('state', deadline, () => state.claim(ref, request)),
    };
    h.deps.publisher = {
      publish: (outcome, deadline) =>
        or('publisher', deadline, async () => {
          publishedAt.push([outcome.status, end - h.clock.now]);
          await publisher.publish(outcome);
        }),
    };
    return { ...h, publishedAt, timeLeft: () => end - h.clock.now };
  }

  test.each<[string, Bounded[]]>([
    ['the exchange', ['exchange']],
    ['Secrets Manager', ['credentials']],
    ['the state table', ['state']],
    ['the pause switch', ['pause']],
    ['everything but SNS at once', ['exchange', 'credentials', 'state', 'pause']],
  ])('%s hanging on a final attempt: FAILED is published, then the record handed back, all before the deadline', async (_what, hanging) => {
    const b = bounded(hanging);
    const results = await b.run([record('msg-1', multi('evt-1'), { finalAttempt: true }), record('msg-2', event('evt-2', { accountId: 'desk-2' }), { finalAttempt: true })]);
    expect(brief(results)).toEqual([
      ['msg-1', 'retry', expect.any(String)],
      ['msg-2', 'retry', expect.any(String)],
    ]);
    expect(b.publishedAt.map(([status]) => status)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED']);
    for (const [, left] of b.publishedAt) expect(left).toBeGreaterThanOrEqual(RESPONSE_RESERVE_MS);
    expect(b.timeLeft()).toBeGreaterThanOrEqual(RESPONSE_RESERVE_MS);
  });

  test('SNS hanging: the records are handed back with time left to return the response', async () => {
    const b = bounded(['publisher']);
    const results = await b.run([record('msg-1', multi('evt-1'), { finalAttempt: true }), record('msg-2', event('evt-2', { accountId: 'desk-2' }))]);
    expect(brief(results)).toEqual([
      ['msg-1', 'retry', 'TIMEOUT'],
      ['msg-2', 'retry', 'TIMEOUT'],
    ]);
    expect(b.timeLeft()).toBeGreaterThanOrEqual(RESPONSE_RESERVE_MS);
  });

  test('the state table and SNS both hanging on a final attempt: handed back in time', async () => {
    const b = bounded(['state', 'publisher']);
    const results = await b.run([record('msg-1', event('evt-1'), { finalAttempt: true })]);
    expect(brief(results)).toEqual([['msg-1', 'retry', 'TIMEOUT']]);
    expect(b.timeLeft()).toBeGreaterThanOrEqual(RESPONSE_RESERVE_MS);
  });

  test('work ends before checking and publishing, which end before the response is due', async () => {
    const b = bounded([]);
    const given: Record<string, number[]> = {};
    const note = (what: string, deadline: Deadline | undefined) => (given[what] ??= []).push(deadline?.remainingMs() ?? Number.NaN);
    const { exchange, credentials, state, publisher } = b.deps;
    b.deps.exchange = { ...exchange, changeLeverage: (c, s, l, d) => (note('exchange', d), exchange.changeLeverage(c, s, l, d)) };
    b.deps.credentials = { ...credentials, forAccount: (id, d) => (note('credentials', d), credentials.forAccount(id, d)) };
    b.deps.state = {
      ...state!,
      claim: async (ref, request, d) => {
        const claim = await state!.claim(ref, request, d);
        if (claim.status !== 'claimed') return claim;
        return { ...claim, release: (end, decision, releaseDeadline) => (note('release', releaseDeadline), claim.release(end, decision, releaseDeadline)) };
      },
    };
    b.deps.publisher = { publish: (o, d) => (note('publish', d), publisher.publish(o, d)) };
    await b.run([record('msg-1', event('evt-1'))]);
    expect(given).toEqual({
      credentials: [INVOCATION_MS - WORK_RESERVE_MS],
      exchange: [INVOCATION_MS - WORK_RESERVE_MS],
      publish: [INVOCATION_MS - RESPONSE_RESERVE_MS],
      release: [INVOCATION_MS - CHECK_RESERVE_MS],
    });
  });
});

const THREE_TARGETS = [
  { symbol: 'BTCUSDT', leverage: 5 },
  { symbol: 'ETHUSDT', leverage: 7 },
  { symbol: 'SOLUSDT', leverage: 3 },
];
const multi = (eventId: string, extra: Record<string, unknown> = {}) => ({ eventId, targets: THREE_TARGETS, ...extra });
const allOpen = (eventId: string, extra: Record<string, unknown> = {}) => ({ eventId, symbols: 'ALL_OPEN_POSITIONS', leverage: 4, ...extra });

describe('processBatch: an event with several targets', () => {
  test('one outcome per symbol, each with its own requested leverage', async () => {
    const h = harness();
    const [result] = await h.run([record('msg-1', multi('evt-1'))]);
    expect({ ...result, outcomes: outcomesOf(result) }).toEqual({
      recordId: 'msg-1',
      eventId: 'evt-1',
      disposition: 'acknowledge',
      outcomes: [
        { symbol: 'BTCUSDT', status: 'APPLIED' },
        { symbol: 'ETHUSDT', status: 'APPLIED' },
        { symbol: 'SOLUSDT', status: 'APPLIED' },
      ],
    });
    expect(h.publisher.outcomes.map((o) => [o.symbol, o.requestedLeverage, o.leverage])).toEqual([
      ['BTCUSDT', 5, 5],
      ['ETHUSDT', 7, 7],
      ['SOLUSDT', 3, 3],
    ]);
    // Fetched once per record, while its targets are claimed.
    expect(h.credentials.accountIds).toEqual(['default']);
  });

  test('the targets run concurrently', async () => {
    const h = harness();
    const gates = THREE_TARGETS.map(() => deferred<ReturnType<typeof setting>>());
    THREE_TARGETS.forEach((target, index) => h.exchange.onChangeOf(target.symbol, waitFor(gates[index]!)));
    const running = h.run([record('msg-1', multi('evt-1'))]);
    await settleUntil(() => h.exchange.calls.length === 3);
    expect(h.exchange.calls).toHaveLength(3);
    gates.forEach((gate, index) => gate.resolve(setting(THREE_TARGETS[index]!.leverage)));
    expect(brief(await running)).toEqual([['msg-1', 'acknowledge', null]]);
  });

  test('the outcomes of records answered at different moments are published together, once the last one is decided', async () => {
    const h = harness();
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
    const gates = symbols.map(() => deferred<ReturnType<typeof setting>>());
    symbols.forEach((symbol, index) => h.exchange.onChangeOf(symbol, waitFor(gates[index]!)));
    const running = h.run(symbols.map((symbol, index) => record(`msg-${index}`, event(`evt-${index}`, { symbol }))));
    await settleUntil(() => h.exchange.calls.length === 3);
    gates[0]!.resolve(setting(5));
    gates[1]!.resolve(setting(5));
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.publisher.outcomes).toEqual([]);
    gates[2]!.resolve(setting(5));
    expect(brief(await running).map(([id, disposition]) => [id, disposition])).toEqual([['msg-0', 'acknowledge'], ['msg-1', 'acknowledge'], ['msg-2', 'acknowledge']]);
    expect(h.publisher.outcomes.map((o) => o.eventId)).toEqual(['evt-0', 'evt-1', 'evt-2']);
  });

  test('at most 10 targets are in flight at once', async () => {
    const h = harness();
    const targets = Array.from({ length: 12 }, (_, i) => ({ symbol: `COIN${i}USDT`, leverage: 2 }));
    const gates = targets.map(() => deferred<ReturnType<typeof setting>>());
    h.exchange.onChange(...gates.map((gate) => waitFor(gate)));
    const running = h.run([record('msg-1', { eventId: 'evt-1', targets })]);
    await settleUntil(() => h.exchange.calls.length > 10);
    expect(h.exchange.calls).toHaveLength(10);
    gates[0]!.resolve(setting(2));
    await settleUntil(() => h.exchange.calls.length > 11);
    expect(h.exchange.calls).toHaveLength(11);
    gates.forEach((gate) => gate.resolve(setting(2)));
    expect((await running)[0]?.outcomes).toHaveLength(12);
  });

  test('a retryable failure on one symbol hands the record back; the others are published', async () => {
    const h = harness();
    h.exchange.onChangeOf('ETHUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    expect(summary(await h.run([record('msg-1', multi('evt-1'))]))).toEqual([
      ['msg-1', 'retry', ['APPLIED', 'APPLIED'], 'NETWORK_ERROR', 'ECONNRESET'],
    ]);
    expect(h.publishedPerSymbol()).toEqual([
      ['evt-1', 'BTCUSDT', 'APPLIED', null],
      ['evt-1', 'SOLUSDT', 'APPLIED', null],
    ]);
  });

  test('on the final attempt, FAILED is published only for the symbol still pending', async () => {
    const h = harness();
    h.exchange.onChangeOf('ETHUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const [result] = await h.run([record('msg-1', multi('evt-1'), { finalAttempt: true })]);
    expect([result?.disposition, outcomesOf(result)]).toEqual([
      'retry',
      [
        { symbol: 'BTCUSDT', status: 'APPLIED' },
        { symbol: 'SOLUSDT', status: 'APPLIED' },
        { symbol: 'ETHUSDT', status: 'FAILED' },
      ],
    ]);
    expect(h.publishedPerSymbol()).toEqual([
      ['evt-1', 'BTCUSDT', 'APPLIED', null],
      ['evt-1', 'SOLUSDT', 'APPLIED', null],
      ['evt-1', 'ETHUSDT', 'FAILED', 'NETWORK_ERROR'],
    ]);
  });

  test('the result lists each outcome with its error code, when it has one', async () => {
    const h = harness();
    h.exchange.onChangeOf('ETHUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    h.exchange.onChangeOf('SOLUSDT', raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')));
    const [result] = await h.run([record('msg-1', multi('evt-1'), { finalAttempt: true })]);
    expect(result?.outcomes.map((o) => [o.symbol, o.status, o.code])).toEqual([
      ['BTCUSDT', 'APPLIED', undefined],
      ['SOLUSDT', 'REJECTED', -4028],
      ['ETHUSDT', 'FAILED', 'NETWORK_ERROR'],
    ]);
  });

  test('a permanent failure on one symbol does not stop the others, nor hand the record back', async () => {
    const h = harness();
    h.exchange.onChangeOf('BTCUSDT', raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')));
    expect(summary(await h.run([record('msg-1', multi('evt-1'))]))).toEqual([['msg-1', 'acknowledge', ['REJECTED', 'APPLIED', 'APPLIED'], null, null]]);
  });

  test('a target above its cap is REJECTED ABOVE_CAP when the cap would not lower it, while the others are applied', async () => {
    const h = harness({ policy: { caps: { ETHUSDT: 5, '*': 10 } } });
    h.exchange.onRead(answer(setting(4)));
    await h.run([record('msg-1', multi('evt-1'))]);
    expect(h.publishedPerSymbol()).toEqual([
      ['evt-1', 'BTCUSDT', 'APPLIED', null],
      ['evt-1', 'ETHUSDT', 'REJECTED', 'ABOVE_CAP'],
      ['evt-1', 'SOLUSDT', 'APPLIED', null],
    ]);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'readLeverage ETHUSDT', 'changeLeverage SOLUSDT 3']);
  });

  test.each([
    ['function-wide', { dryRun: true }, {}],
    ['per event', {}, { dryRun: true }],
  ])('dry run (%s): DRY_RUN per target with the current leverage, nothing changed', async (_name, policy, extra) => {
    const h = harness({ policy });
    h.exchange.onRead(answer(setting(20)), answer(setting(20)), answer(setting(20)));
    await h.run([record('msg-1', multi('evt-1', extra))]);
    expect(h.publisher.outcomes.map((o) => [o.symbol, o.status, o.leverage, o.currentLeverage])).toEqual([
      ['BTCUSDT', 'DRY_RUN', 5, 20],
      ['ETHUSDT', 'DRY_RUN', 7, 20],
      ['SOLUSDT', 'DRY_RUN', 3, 20],
    ]);
    expect(h.exchange.callsOf('changeLeverage')).toEqual([]);
  });
});

describe('processBatch: ALL_OPEN_POSITIONS', () => {
  test('no open positions: one SKIPPED NO_OPEN_POSITIONS outcome without symbol, acknowledged', async () => {
    const h = harness();
    const [result] = await h.run([record('msg-1', allOpen('evt-1'))]);
    expect([result?.disposition, outcomesOf(result)]).toEqual(['acknowledge', [{ symbol: undefined, status: 'SKIPPED' }]]);
    expect(JSON.parse(JSON.stringify(h.publisher.outcomes))).toStrictEqual([
      {
        eventId: 'evt-1',
        accountId: 'default',
        requestedLeverage: 4,
        mode: 'reduce-only',
        status: 'SKIPPED',
        error: { code: 'NO_OPEN_POSITIONS', message: 'the account has no open positions', retryable: false },
        trigger: 'sqs',
        processedAt: '2026-11-25T10:00:00.000Z',
        durationMs: 0,
      },
    ]);
    expect(h.exchangeLog()).toEqual(['readOpenPositions *']);
  });

  test('each open position above the leverage is lowered; one not above it is SKIPPED; each decided on a fresh read', async () => {
    const h = harness();
    h.exchange.onPositions(answer([{ symbol: 'BTCUSDT', leverage: 20 }, { symbol: 'ETHUSDT', leverage: 4 }, { symbol: 'SOLUSDT', leverage: 2 }]));
    h.exchange.onRead(answer(setting(20)), answer(setting(4)), answer(setting(2)));
    await h.run([record('msg-1', allOpen('evt-1'))]);
    expect(h.publisher.outcomes.map((o) => [o.symbol, o.status, o.requestedLeverage, o.currentLeverage, o.error?.code ?? null])).toEqual([
      ['BTCUSDT', 'APPLIED', 4, 20, null],
      ['ETHUSDT', 'SKIPPED', 4, 4, 'NOT_A_REDUCTION'],
      ['SOLUSDT', 'SKIPPED', 4, 2, 'NOT_A_REDUCTION'],
    ]);
    expect(h.exchangeLog()).toEqual(['readOpenPositions *', 'readLeverage BTCUSDT', 'readLeverage ETHUSDT', 'readLeverage SOLUSDT', 'changeLeverage BTCUSDT 4']);
  });

  test('the positions cannot be read: handed back, and FAILED (without symbol) on the final attempt', async () => {
    const h = harness();
    h.exchange.onPositions(raise(new RetryableError(-1008, 'Binance -1008: Request throttled')));
    expect(summary(await h.run([record('msg-1', allOpen('evt-1'), { finalAttempt: true })]))).toEqual([
      ['msg-1', 'retry', ['FAILED'], -1008, 'Binance -1008: Request throttled'],
    ]);
    expect(h.publishedPerSymbol()).toEqual([['evt-1', null, 'FAILED', -1008]]);
  });
});

describe('processBatch: event freshness', () => {
  const issued = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
  test.each([
    ['stale: SKIPPED STALE_EVENT', issued(-MAX_EVENT_AGE_MS - 1000), 'SKIPPED', 'STALE_EVENT'],
    ['more than 60 s in the future: REJECTED ISSUED_IN_FUTURE', issued(61_000), 'REJECTED', 'ISSUED_IN_FUTURE'],
  ])('%s for every target, acknowledged, nothing sent', async (_name, issuedAt, status, code) => {
    const h = harness();
    expect(brief(await h.run([record('msg-1', multi('evt-1', { issuedAt }))]))).toEqual([['msg-1', 'acknowledge', null]]);
    expect(h.publishedPerSymbol()).toEqual(THREE_TARGETS.map((t) => ['evt-1', t.symbol, status, code]));
    expect(h.exchange.calls).toEqual([]);
  });

  test('a stale ALL_OPEN_POSITIONS event: one SKIPPED outcome per open position (each may have been applied before), nothing changed', async () => {
    const h = harness();
    h.exchange.onPositions(answer([{ symbol: 'BTCUSDT', leverage: 20 }]));
    await h.run([record('msg-1', allOpen('evt-1', { issuedAt: issued(-MAX_EVENT_AGE_MS - 1000) }))]);
    expect(h.publishedPerSymbol()).toEqual([['evt-1', 'BTCUSDT', 'SKIPPED', 'STALE_EVENT']]);
    expect(h.exchangeLog()).toEqual(['readOpenPositions *']);
  });

  test.each([
    ['at the maximum age', issued(-MAX_EVENT_AGE_MS)],
    ['59 s in the future', issued(59_000)],
  ])('%s: processed', async (_name, issuedAt) => {
    const h = harness();
    await h.run([record('msg-1', event('evt-1', { issuedAt }))]);
    expect(h.published()).toEqual([['evt-1', 'APPLIED', null]]);
  });

  test('freshness is judged when the record starts, not when the batch arrived', async () => {
    const h = harness();
    const first = deferred<ReturnType<typeof setting>>();
    h.exchange.onChange(waitFor(first));
    const running = h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2', { issuedAt: issued(0) }))]);
    await settleUntil(() => h.exchange.calls.length === 1);
    h.clock.now = T0 + MAX_EVENT_AGE_MS + 1;
    first.resolve(setting(5));
    await running;
    expect(h.published()).toEqual([['evt-1', 'APPLIED', null], ['evt-2', 'SKIPPED', 'STALE_EVENT']]);
  });
});

describe('processBatch: the pause switch', () => {
  const pausedBatch = [record('msg-1', event('evt-1')), record('msg-2', '{'), record('msg-3', allOpen('evt-3')), record('msg-4', multi('evt-4'))];

  test.each([
    ['paused', answer<PauseState>({ paused: true }), 'PAUSED', 'leverage-guard is paused by its operators'],
    ['the switch cannot be read (fail closed)', raise(new RetryableError('PAUSE_SWITCH_UNAVAILABLE', 'could not read /p (AccessDeniedException: no)')),
      'PAUSE_SWITCH_UNAVAILABLE', 'the pause switch could not be read (could not read /p (AccessDeniedException: no))'],
    ['the switch throws something unexpected', raise(new Error('boom')), 'PAUSE_SWITCH_UNAVAILABLE', 'the pause switch could not be read (Error: boom)'],
  ])('%s: every valid record handed back, the exchange never called; invalid records still REJECTED', async (_name, reply, code, message) => {
    const pause = new FakePauseSwitch(reply);
    const h = harness({ pause });
    expect(summary(await h.run(pausedBatch))).toEqual([
      ['msg-1', 'retry', [], code, message],
      ['msg-2', 'acknowledge', ['REJECTED'], null, null],
      ['msg-3', 'retry', [], code, message],
      ['msg-4', 'retry', [], code, message],
    ]);
    expect(h.published()).toEqual([['msg-2', 'REJECTED', 'INVALID_EVENT']]);
    expect(h.exchange.calls).toEqual([]);
    // The first record fetched its credentials while the switch was read; the others waited behind it.
    expect(h.credentials.accountIds).toEqual(['default']);
    expect(pause.reads).toBe(1);
  });

  test('paused on the final attempt: FAILED PAUSED, so the DLQ entry is not silent', async () => {
    const h = harness({ pause: new FakePauseSwitch(answer({ paused: true })) });
    expect(brief(await h.run([record('msg-1', event('evt-1'), { finalAttempt: true })]))).toEqual([['msg-1', 'retry', 'PAUSED']]);
    expect(h.published()).toEqual([['evt-1', 'FAILED', 'PAUSED']]);
    expect(h.exchange.calls).toEqual([]);
  });

  test('paused on the final attempt: targets completed on an earlier delivery get no second outcome', async () => {
    const h = harness({ pause: new FakePauseSwitch(answer({ paused: true })), state: true });
    const [first, second, third] = THREE_TARGETS.map((target) => target.symbol);
    h.state.completedAlready('evt-1', 'default', second!);
    await h.run([record('msg-1', multi('evt-1'), { finalAttempt: true })]);
    expect(h.published()).toEqual([['evt-1', 'FAILED', 'PAUSED'], ['evt-1', 'FAILED', 'PAUSED']]);
    expect(h.publisher.outcomes.map((o) => o.symbol)).toEqual([first, third]);
  });

  test('not paused: processed as usual, the switch read once per batch', async () => {
    const pause = new FakePauseSwitch(answer({ paused: false }));
    const h = harness({ pause });
    await h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2', { symbol: 'ETHUSDT' }))]);
    expect(h.published()).toEqual([['evt-1', 'APPLIED', null], ['evt-2', 'APPLIED', null]]);
    expect(pause.reads).toBe(1);
  });
});

describe('processBatch: the exchange is prepared (Binance: its clock measured) alongside the pause switch, the claims and the credential reads', () => {
  function preparing(pause: FakePauseSwitch) {
    const h = harness({ pause, remainingMs: 20_000 });
    const order: string[] = [];
    const given: number[] = [];
    h.deps.exchange = Object.assign(h.exchange, {
      prepare(deadline: Deadline) {
        order.push('prepare');
        given.push(deadline.remainingMs());
      },
    });
    const forAccount = h.credentials.forAccount.bind(h.credentials);
    h.credentials.forAccount = (accountId: string) => {
      order.push('credentials');
      return forAccount(accountId);
    };
    return { ...h, order, given };
  }

  test('at once, without waiting for the pause switch, within the work phase', async () => {
    const switchRead = deferred<PauseState>();
    const h = preparing(new FakePauseSwitch(waitFor(switchRead)));
    const running = h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2', { accountId: 'desk-2' }))]);
    await settleUntil(() => h.order.length === 3);
    expect(h.exchange.calls).toEqual([]);
    switchRead.resolve({ paused: false });
    expect(summary(await running).map(([id, disposition]) => [id, disposition])).toEqual([['msg-1', 'acknowledge'], ['msg-2', 'acknowledge']]);
    expect(h.order).toEqual(['prepare', 'credentials', 'credentials']);
    expect(h.given).toEqual([20_000 - WORK_RESERVE_MS]);
  });

  test('while paused too (the clock read is public and unsigned), but nothing signed reaches the exchange', async () => {
    const h = preparing(new FakePauseSwitch(answer({ paused: true })));
    await h.run([record('msg-1', event('evt-1'))]);
    expect(h.order).toEqual(['prepare', 'credentials']);
    expect(h.exchange.calls).toEqual([]);
  });
});

describe('processBatch: FIFO message groups', () => {
  test('records of one group run in order, even for different symbols', async () => {
    const h = harness();
    const first = deferred<ReturnType<typeof setting>>();
    h.exchange.onChangeOf('BTCUSDT', waitFor(first));
    const running = h.run([
      record('msg-1', event('evt-1'), { orderingGroup: 'g1' }),
      record('msg-2', event('evt-2', { symbol: 'ETHUSDT' }), { orderingGroup: 'g1' }),
      record('msg-3', event('evt-3', { symbol: 'SOLUSDT' }), { orderingGroup: 'g2' }),
    ]);
    await settleUntil(() => h.exchange.calls.length > 2);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage SOLUSDT 5']);
    first.resolve(setting(5));
    await running;
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage SOLUSDT 5', 'changeLeverage ETHUSDT 5']);
  });

  test('after a hand-back, later records of the group are handed back (other symbols too); other groups proceed', async () => {
    const h = harness();
    h.exchange.onChangeOf('BTCUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const results = await h.run([
      record('msg-1', event('evt-1'), { orderingGroup: 'g1' }),
      record('msg-2', event('evt-2', { symbol: 'ETHUSDT' }), { orderingGroup: 'g1' }),
      record('msg-3', event('evt-3', { symbol: 'SOLUSDT' }), { orderingGroup: 'g2' }),
      record('msg-4', event('evt-4', { symbol: 'XRPUSDT' }), { orderingGroup: 'g1', finalAttempt: true }),
    ]);
    expect(summary(results)).toEqual([
      ['msg-1', 'retry', [], 'NETWORK_ERROR', 'ECONNRESET'],
      ['msg-2', 'retry', [], 'EARLIER_EVENT_PENDING', PENDING_MESSAGE],
      ['msg-3', 'acknowledge', ['APPLIED'], null, null],
      ['msg-4', 'retry', ['FAILED'], 'EARLIER_EVENT_PENDING', PENDING_MESSAGE],
    ]);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage SOLUSDT 5']);
  });

  test('an invalid record later in a group whose earlier record was handed back is handed back too', async () => {
    const h = harness();
    h.exchange.onChange(raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const results = await h.run([record('msg-1', event('evt-1'), { orderingGroup: 'g1' }), record('msg-2', '{', { orderingGroup: 'g1' })]);
    expect(brief(results)).toEqual([['msg-1', 'retry', 'NETWORK_ERROR'], ['msg-2', 'retry', 'EARLIER_EVENT_PENDING']]);
  });

  test('without a group, different symbols do not wait for each other', async () => {
    const h = harness();
    h.exchange.onChangeOf('BTCUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const results = await h.run([record('msg-1', event('evt-1')), record('msg-2', event('evt-2', { symbol: 'ETHUSDT' }))]);
    expect(brief(results)).toEqual([['msg-1', 'retry', 'NETWORK_ERROR'], ['msg-2', 'acknowledge', null]]);
  });
});

describe('processBatch: ALL_OPEN_POSITIONS and the other records of its account', () => {
  test('waits for earlier records of the account, and later ones wait for it; other accounts run meanwhile', async () => {
    const h = harness();
    const first = deferred<ReturnType<typeof setting>>();
    const positions = deferred<{ symbol: string; leverage: number }[]>();
    h.exchange.onChangeOf('BTCUSDT', waitFor(first)).onPositions(waitFor(positions));
    const running = h.run([
      record('msg-1', event('evt-1')),
      record('msg-2', allOpen('evt-2')),
      record('msg-3', event('evt-3', { symbol: 'ETHUSDT' })),
      record('msg-4', event('evt-4', { symbol: 'ETHUSDT', accountId: 'desk-2' })),
    ]);
    await settleUntil(() => h.exchange.calls.length > 2);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage ETHUSDT 5']);
    expect(h.exchange.calls[1]?.apiKey).toBe('key-desk-2');

    first.resolve(setting(5));
    await settleUntil(() => h.exchange.calls.length > 2);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage ETHUSDT 5', 'readOpenPositions *']);

    await settleUntil(() => h.exchange.calls.length > 3);
    expect(h.exchange.calls).toHaveLength(3); // msg-3 still waits for the ALL_OPEN_POSITIONS record
    positions.resolve([]);
    expect(brief(await running).map(([id, disposition]) => [id, disposition])).toEqual([
      ['msg-1', 'acknowledge'],
      ['msg-2', 'acknowledge'],
      ['msg-3', 'acknowledge'],
      ['msg-4', 'acknowledge'],
    ]);
    expect(h.exchangeLog().slice(3)).toEqual(['changeLeverage ETHUSDT 5']);
  });

  test('an earlier record of the account handed back: the ALL_OPEN_POSITIONS record and everything after it are handed back', async () => {
    const h = harness();
    h.exchange.onChangeOf('BTCUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    const results = await h.run([
      record('msg-1', event('evt-1')),
      record('msg-2', allOpen('evt-2')),
      record('msg-3', event('evt-3', { symbol: 'ETHUSDT' })),
      record('msg-4', event('evt-4', { accountId: 'desk-2' })),
    ]);
    expect(brief(results)).toEqual([
      ['msg-1', 'retry', 'NETWORK_ERROR'],
      ['msg-2', 'retry', 'EARLIER_EVENT_PENDING'],
      ['msg-3', 'retry', 'EARLIER_EVENT_PENDING'],
      ['msg-4', 'acknowledge', null],
    ]);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage BTCUSDT 5']);
    expect(h.exchange.calls.map((c) => c.apiKey)).toEqual(['key-default', 'key-desk-2']);
  });

  test('the ALL_OPEN_POSITIONS record handed back: later records of the account are handed back', async () => {
    const h = harness();
    h.exchange.onPositions(raise(new RetryableError('TIMEOUT', 'no response')));
    const results = await h.run([record('msg-1', allOpen('evt-1')), record('msg-2', event('evt-2')), record('msg-3', event('evt-3', { accountId: 'desk-2' }))]);
    expect(brief(results)).toEqual([
      ['msg-1', 'retry', 'TIMEOUT'],
      ['msg-2', 'retry', 'EARLIER_EVENT_PENDING'],
      ['msg-3', 'acknowledge', null],
    ]);
  });
});

describe('processBatch: with a state store', () => {
  test('targets completed on an earlier delivery are neither sent nor published again', async () => {
    const h = harness({ state: true });
    h.state.completedAlready('evt-1', 'default', 'BTCUSDT', 'SOLUSDT');
    const [result] = await h.run([record('msg-1', multi('evt-1'))]);
    expect([result?.disposition, outcomesOf(result)]).toEqual(['acknowledge', [{ symbol: 'ETHUSDT', status: 'APPLIED' }]]);
    expect(h.exchangeLog()).toEqual(['changeLeverage ETHUSDT 7']);
    expect(h.publishedPerSymbol()).toEqual([['evt-1', 'ETHUSDT', 'APPLIED', null]]);
  });

  test('a redelivery after a partial failure redoes only the failed symbol', async () => {
    const h = harness({ state: true });
    h.exchange.onChangeOf('ETHUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    expect(brief(await h.run([record('msg-1', multi('evt-1'))]))).toEqual([['msg-1', 'retry', 'NETWORK_ERROR']]);
    expect(brief(await h.run([record('msg-1', multi('evt-1'))]))).toEqual([['msg-1', 'acknowledge', null]]);
    expect(h.exchangeLog()).toEqual(['changeLeverage BTCUSDT 5', 'changeLeverage ETHUSDT 7', 'changeLeverage SOLUSDT 3', 'changeLeverage ETHUSDT 7']);
    expect(h.publishedPerSymbol().map(([, symbol, status]) => `${symbol} ${status}`)).toEqual(['BTCUSDT APPLIED', 'SOLUSDT APPLIED', 'ETHUSDT APPLIED']);
  });

  test('every target completed: acknowledged with no outcome at all', async () => {
    const h = harness({ state: true });
    h.state.completedAlready('evt-1', 'default', 'BTCUSDT');
    expect(await h.run([record('msg-1', event('evt-1'))])).toEqual([{ recordId: 'msg-1', eventId: 'evt-1', disposition: 'acknowledge', outcomes: [] }]);
    expect(h.publisher.outcomes).toEqual([]);
  });

  test('each decided outcome is recorded as published after its publish, never a FAILED one', async () => {
    const h = harness({ state: true, policy: { caps: { SOLUSDT: 2 } } });
    h.exchange.onChangeOf('ETHUSDT', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')));
    h.exchange.onChangeOf('XRPUSDT', raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')));
    h.exchange.onRead(answer(setting(1)));
    const targets = [...THREE_TARGETS, { symbol: 'XRPUSDT', leverage: 9 }];
    await h.run([record('msg-1', { eventId: 'evt-1', targets }, { finalAttempt: true })]);
    expect(h.publishedPerSymbol()).toEqual([
      ['evt-1', 'BTCUSDT', 'APPLIED', null],
      ['evt-1', 'SOLUSDT', 'REJECTED', 'ABOVE_CAP'],
      ['evt-1', 'XRPUSDT', 'REJECTED', -4028],
      ['evt-1', 'ETHUSDT', 'FAILED', 'NETWORK_ERROR'],
    ]);
    // Each with what it decided and the command it decided (an eventId reused for another command is told apart by it).
    expect(h.state.recorded()).toEqual([
      ['BTCUSDT', { published: true, status: 'APPLIED', command: 'real run, set 5x, issued (no issuedAt)' }],
      ['SOLUSDT', { published: true, status: 'REJECTED', command: 'real run, set 3x, issued (no issuedAt)' }],
      ['XRPUSDT', { published: true, status: 'REJECTED', command: 'real run, set 9x, issued (no issuedAt)' }],
    ]);
  });

  test('an outcome that failed to publish is recorded as owed, with its verdict; a redelivery publishes that verdict without deciding again', async () => {
    const h = harness({ state: true });
    h.publisher.failures.push(new RetryableError('OUTCOME_PUBLISH_FAILED', 'sns down'));
    const [result] = await h.run([record('msg-1', multi('evt-1'))]);
    expect([result?.disposition, result?.error?.code, result?.outcomes.map((o) => o.symbol)]).toEqual(['retry', 'OUTCOME_PUBLISH_FAILED', ['ETHUSDT', 'SOLUSDT']]);
    expect(h.state.recorded().map(([symbol, decision]) => [symbol, decision.published])).toEqual([
      ['BTCUSDT', false],
      ['ETHUSDT', true],
      ['SOLUSDT', true],
    ]);
    const sent = h.exchange.calls.length;
    h.clock.now = T0 + MAX_EVENT_AGE_MS * 10;
    expect(summary(await h.run([record('msg-1', multi('evt-1'), { attempt: 2 })]))).toEqual([['msg-1', 'acknowledge', ['APPLIED'], null, null]]);
    expect(h.publishedPerSymbol().at(-1)).toEqual(['evt-1', 'BTCUSDT', 'APPLIED', null]);
    expect(h.exchange.calls.length).toBe(sent);
  });

  test('the claim is released only after the outcome is published', async () => {
    const h = harness({ state: true });
    const order: string[] = [];
    const publish = h.publisher.publish.bind(h.publisher);
    h.publisher.publish = async (outcome) => {
      order.push(`publish ${outcome.symbol}`);
      await publish(outcome);
    };
    await h.run([record('msg-1', event('evt-1'))]);
    // Two state-table requests: the claim, and its release together with the decision.
    expect([...order, ...h.state.log()]).toEqual(['publish BTCUSDT', 'claim BTCUSDT', 'release(applied, published) BTCUSDT']);
    expect(h.state.calls.findIndex((call) => call.method === 'release')).toBeGreaterThan(h.state.calls.findIndex((call) => call.method === 'claim'));
  });

  test('a failing recordDecision does not change the result: the outcome is out', async () => {
    const h = harness({ state: true });
    h.state.recordReplies.push(raise(new RetryableError('STATE_STORE_UNAVAILABLE', 'down')));
    expect(summary(await h.run([record('msg-1', event('evt-1'))]))).toEqual([['msg-1', 'acknowledge', ['APPLIED'], null, null]]);
  });

  test('an ALL_OPEN_POSITIONS outcome without symbol is not marked completed', async () => {
    const h = harness({ state: true });
    await h.run([record('msg-1', allOpen('evt-1'))]);
    expect(h.published()).toEqual([['evt-1', 'SKIPPED', 'NO_OPEN_POSITIONS']]);
    expect(h.state.callsOf('recordDecision')).toEqual([]);
  });
});

describe('processBatch: time budget for an ALL_OPEN_POSITIONS event', () => {
  test('below minimumTimeToStartMs on the final attempt: one FAILED outcome without symbol, positions not read', async () => {
    const h = harness(MINIMUM_TIME_TO_START_MS - 1);
    expect(brief(await h.run([record('msg-1', allOpen('evt-1'), { finalAttempt: true })]))).toEqual([['msg-1', 'retry', 'TIME_BUDGET_EXHAUSTED']]);
    expect(h.publishedPerSymbol()).toEqual([['evt-1', null, 'FAILED', 'TIME_BUDGET_EXHAUSTED']]);
    expect(h.exchange.calls).toEqual([]);
  });
});
