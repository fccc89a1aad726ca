import { accountExchange, claimEndFor, type ExecutionDeps, executeTarget, resolveTargets, type TargetVerdict } from '../../../functions/domain/change-leverage.ts';
import { AuthenticationError, ExecutionUnknownError, type GuardError, PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import type { Policy } from '../../../functions/domain/policy.ts';
import type { Claim } from '../../../functions/domain/ports.ts';
import type { RiskCommand, Target } from '../../../functions/domain/risk-event.ts';
import {
  answer,
  FakeCredentialStore,
  FakeExchange,
  FakeStateStore,
  fixedDeadline,
  raise,
  RecordingLog,
  type Reply,
  setting,
} from '../../support/fakes.ts';

const REMAINING_MS = 10_000;
const ISSUED = '2026-11-25T10:00:00Z';
const ISSUED_MS = Date.parse(ISSUED);
/** A minute after the event was issued. */
const NOW = ISSUED_MS + 60_000;
const ETH: Target = { symbol: 'ETHUSDT', leverage: 10 };

function commandFor(overrides: Partial<RiskCommand> = {}): RiskCommand {
  const issuedAt = overrides.issuedAt ?? ISSUED;
  return { eventId: 'evt-1', accountId: 'desk-2', scope: { kind: 'targets', targets: [ETH] }, mode: 'set', dryRun: false, issuedAt, issuedAtMs: Date.parse(issuedAt), ...overrides };
}

function harness(options: { policy?: Partial<Policy>; state?: boolean } = {}) {
  const exchange = new FakeExchange();
  const state = new FakeStateStore();
  const log = new RecordingLog();
  const credentials = new FakeCredentialStore();
  const deps: ExecutionDeps = {
    exchange,
    credentials,
    state: options.state === false ? undefined : state,
    policy: { maxEventAgeMs: 900_000, dryRun: false, ...options.policy },
    deadline: fixedDeadline(REMAINING_MS),
    log,
    now: () => NOW,
    cleared: async () => undefined,
  };
  /** One target's verdict, its claim released as settle releases it once the outcome is out. */
  const execute = async (command = commandFor(), target = ETH, redelivered = false): Promise<TargetVerdict | undefined> => {
    const work = await executeTarget(command, target, accountExchange(command.accountId, deps), deps, redelivered);
    await work.claim?.release(claimEndFor(work.verdict), undefined).catch((error: unknown) => log.warn('could not release the claim', { detail: String(error) }));
    return work.verdict.status === 'ALREADY_PUBLISHED' ? undefined : work.verdict;
  };
  /** [method symbol] of every exchange call, in order. */
  const exchangeLog = () => exchange.calls.map((call) => `${call.method} ${call.symbol}`);
  return { exchange, state, credentials, log, deps, execute, exchangeLog };
}

const errorView = (error: GuardError) => ({ type: error.constructor.name, code: error.code, message: error.message });
/** The verdict as plain data: undefined fields dropped, the error as {type, code, message}. */
const view = (verdict: TargetVerdict | undefined) =>
  verdict && JSON.parse(JSON.stringify({ ...verdict, error: 'error' in verdict ? errorView(verdict.error) : undefined }));

const applied = (leverage: number, maxNotionalValue = '1000000', currentLeverage?: number) => ({ status: 'APPLIED', leverage, maxNotionalValue, currentLeverage });
const skipped = (code: string, message: string, currentLeverage?: number) => ({
  status: 'SKIPPED',
  error: { type: 'SkipDecision', code, message },
  currentLeverage,
});
const superseded = (lastIssuedAt: string, how = 'it was applied') =>
  skipped('SUPERSEDED', `a newer event (issued ${new Date(lastIssuedAt).toISOString()}) for this account and symbol takes precedence: ${how}`);
const notAReduction = (current: number, requested: number) =>
  skipped('NOT_A_REDUCTION', `current leverage ${current} is not above the requested ${requested}`, current);

describe('executeTarget: before anything is sent', () => {
  test('a target completed on an earlier delivery: undefined, and nothing else happens', async () => {
    const h = harness();
    h.state.completedAlready('evt-1', 'desk-2', 'ETHUSDT');
    expect(await h.execute()).toBeUndefined();
    expect(h.exchangeLog()).toEqual([]);
    // The claim itself answers it: one request, nothing claimed.
    expect(h.state.log()).toEqual(['claim ETHUSDT']);
    expect(h.state.calls[0]).toMatchObject({ method: 'claim', ref: { eventId: 'evt-1', accountId: 'desk-2', symbol: 'ETHUSDT' } });
  });

  test('the same event on another symbol is not completed', async () => {
    const h = harness();
    h.state.completedAlready('evt-1', 'desk-2', 'BTCUSDT');
    h.state.completedAlready('evt-0', 'desk-2', 'ETHUSDT');
    expect(view(await h.execute())).toEqual(applied(10));
  });

  // Issue 8, case 5: a cap never blocks a reduction and is never exceeded.
  test.each([
    ['set', false, 50],
    ['set', true, 50],
    ['reduce-only', false, 50],
  ] as const)('above its cap (mode %s, dry run %p), current leverage %p: the cap is set instead, flagged as capped', async (mode, dryRun, current) => {
    const h = harness({ policy: { caps: { ETHUSDT: 5, '*': 50 } } });
    h.exchange.onRead(answer(setting(current))).onChange(answer(setting(5, '2000000')));
    const verdict = view(await h.execute(commandFor({ mode, dryRun })));
    expect(verdict).toEqual(dryRun ? { status: 'DRY_RUN', leverage: 5, currentLeverage: current, capped: true } : { ...applied(5, '2000000', current), capped: true });
    expect(h.exchangeLog()).toEqual(dryRun ? ['readLeverage ETHUSDT'] : ['readLeverage ETHUSDT', 'changeLeverage ETHUSDT']);
    if (!dryRun) expect(h.exchange.callsOf('changeLeverage')[0]?.leverage).toBe(5);
  });

  test.each([5, 3])('above its cap, current leverage %p (the cap would not lower it): REJECTED ABOVE_CAP, nothing changed', async (current) => {
    const h = harness({ policy: { caps: { ETHUSDT: 5 } } });
    h.exchange.onRead(answer(setting(current)));
    expect(view(await h.execute())).toEqual({
      status: 'REJECTED',
      error: { type: 'PermanentError', code: 'ABOVE_CAP', message: `leverage 10 is above the cap of 5 for ETHUSDT, and setting the cap would not lower the current ${current}` },
    });
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT']);
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(not-applied) ETHUSDT']);
  });

  test('at its cap: applied', async () => {
    const h = harness({ policy: { caps: { '*': 10 } } });
    expect(view(await h.execute())).toEqual(applied(10));
  });

  test.each([
    ['a RetryableError (state store down)', new RetryableError('STATE_STORE_UNAVAILABLE', 'the state table could not be used (x)'), { type: 'RetryableError', code: 'STATE_STORE_UNAVAILABLE', message: 'the state table could not be used (x)' }],
    ['anything else', new TypeError('boom'), { type: 'RetryableError', code: 'INTERNAL_ERROR', message: 'TypeError: boom' }],
  ])('the claim throwing %s: RETRY, no exchange call', async (_name, thrown, error) => {
    const h = harness();
    h.state.claimReplies.push(raise(thrown));
    expect(view(await h.execute())).toEqual({ status: 'RETRY', error });
    expect(h.exchangeLog()).toEqual([]);
  });
});

describe('executeTarget: dry run reads, decides, and never changes anything', () => {
  test.each([
    ['function-wide', { dryRun: true }, {}],
    ['per event', { dryRun: false }, { dryRun: true }],
  ])('%s: DRY_RUN with the current leverage read from the exchange', async (_name, policy, command) => {
    const h = harness({ policy });
    h.exchange.onRead(answer(setting(20)));
    expect(view(await h.execute(commandFor(command)))).toEqual({ status: 'DRY_RUN', leverage: 10, currentLeverage: 20 });
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT']);
    expect(h.state.log()).toEqual(['history ETHUSDT']);
  });

  test.each([
    [20, { status: 'DRY_RUN', leverage: 10, currentLeverage: 20 }],
    [10, notAReduction(10, 10)],
    [5, notAReduction(5, 10)],
  ])('reduce-only, current leverage %p', async (current, verdict) => {
    const h = harness();
    h.exchange.onRead(answer(setting(current)));
    expect(view(await h.execute(commandFor({ mode: 'reduce-only', dryRun: true })))).toEqual(verdict);
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT']);
  });

  test('superseded (a newer event was applied): SKIPPED SUPERSEDED, without reading the exchange', async () => {
    const h = harness();
    h.state.appliedAlready('desk-2', 'ETHUSDT', '2026-11-25T10:00:01Z');
    expect(view(await h.execute(commandFor({ dryRun: true })))).toEqual(superseded('2026-11-25T10:00:01Z'));
    expect(h.exchangeLog()).toEqual([]);
  });

  test.each([
    ['an equally old event was applied', '2026-11-25T10:00:00.000Z'],
    ['an older event was applied', '2026-11-25T09:59:59Z'],
  ])('not superseded when %s', async (_name, last) => {
    const h = harness();
    h.state.appliedAlready('desk-2', 'ETHUSDT', last);
    h.exchange.onRead(answer(setting(20)));
    expect((await h.execute(commandFor({ dryRun: true })))?.status).toBe('DRY_RUN');
  });

  test('an event without issuedAt is never superseded', async () => {
    const h = harness();
    h.state.appliedAlready('desk-2', 'ETHUSDT', '2026-11-25T10:00:01Z');
    h.exchange.onRead(answer(setting(20)));
    expect((await h.execute(commandFor({ dryRun: true, issuedAt: undefined, issuedAtMs: undefined })))?.status).toBe('DRY_RUN');
    expect(h.state.log()).toEqual(['history ETHUSDT']);
  });

  test('decided on an earlier delivery: that decision, nothing read', async () => {
    const h = harness();
    h.state.completedAlready('evt-1', 'desk-2', 'ETHUSDT');
    expect(await h.execute(commandFor({ dryRun: true }))).toBeUndefined();
    expect(h.exchangeLog()).toEqual([]);
  });

  test('without a state store: DRY_RUN after the read', async () => {
    const h = harness({ state: false, policy: { dryRun: true } });
    h.exchange.onRead(answer(setting(20)));
    expect((await h.execute())?.status).toBe('DRY_RUN');
    expect(h.state.calls).toEqual([]);
  });

  test('the read failing: RETRY with the read error', async () => {
    const h = harness({ policy: { dryRun: true } });
    h.exchange.onRead(raise(new RetryableError(-1008, 'Binance -1008: Request throttled')));
    expect(view(await h.execute())).toEqual({ status: 'RETRY', error: { type: 'RetryableError', code: -1008, message: 'Binance -1008: Request throttled' } });
  });
});

describe('executeTarget: the claim on account+symbol', () => {
  test('is taken for the event, with its issuedAt and a lease of the remaining time plus 5 s, then released as applied', async () => {
    const h = harness();
    expect(view(await h.execute())).toEqual(applied(10));
    expect(h.state.callsOf('claim')).toEqual([
      { method: 'claim', ref: { eventId: 'evt-1', accountId: 'desk-2', symbol: 'ETHUSDT' }, request: { issuedAtMs: ISSUED_MS, leverage: 10, leaseMs: REMAINING_MS + 5000, command: `real run, set 10x, issued ${new Date(ISSUED_MS).toISOString()}` } },
    ]);
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(applied) ETHUSDT']);
    expect(h.exchangeLog()).toEqual(['changeLeverage ETHUSDT']);
  });

  test('refused (a newer event was applied): SKIPPED SUPERSEDED, no exchange call, nothing to release', async () => {
    const h = harness();
    h.state.claimReplies.push(answer<Claim>({ status: 'superseded', newerIssuedAtMs: Date.parse('2026-11-25T10:05:00Z') }));
    expect(view(await h.execute())).toEqual(superseded('2026-11-25T10:05:00Z'));
    expect(h.exchangeLog()).toEqual([]);
    expect(h.state.log()).toEqual(['claim ETHUSDT']);
  });

  test('the in-memory store refuses an event older than the last applied one', async () => {
    const h = harness();
    h.state.appliedAlready('desk-2', 'ETHUSDT', '2026-11-25T10:00:01Z');
    expect(view(await h.execute())).toEqual(superseded('2026-11-25T10:00:01Z'));
    expect(h.exchangeLog()).toEqual([]);
  });

  test('busy (another event holds the key): RETRY with KEY_BUSY, no exchange call', async () => {
    const h = harness();
    h.state.claimReplies.push(raise(new RetryableError('KEY_BUSY', 'event evt-0 is changing ETHUSDT on desk-2 right now')));
    expect(view(await h.execute())).toEqual({
      status: 'RETRY',
      error: { type: 'RetryableError', code: 'KEY_BUSY', message: 'event evt-0 is changing ETHUSDT on desk-2 right now' },
    });
    expect(h.exchangeLog()).toEqual([]);
  });

  type Row = [string, Reply<ReturnType<typeof setting>>, Record<string, unknown>, string];
  test.each<Row>([
    ['a permanent failure', raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')),
      { status: 'REJECTED', error: { type: 'PermanentError', code: -4028, message: 'Binance -4028: Invalid leverage' } }, 'not-applied'],
    ['a retryable failure that certainly did not execute (no longer in flight)', raise(new RetryableError('NETWORK_ERROR', 'ECONNRESET')),
      { status: 'RETRY', error: { type: 'RetryableError', code: 'NETWORK_ERROR', message: 'ECONNRESET' } }, 'not-applied'],
    ['an unresolved unknown execution (the event stays in flight)', raise(new ExecutionUnknownError(503, 'Unknown error')),
      { status: 'RETRY', error: { type: 'ExecutionUnknownError', code: 503, message: 'Unknown error; read-back failed: readLeverage was not scripted' } }, 'retrying'],
  ])('released after %s', async (_name, reply, verdict, end) => {
    const h = harness();
    h.exchange.onChange(reply);
    expect(view(await h.execute())).toEqual(verdict);
    expect(h.state.log()).toEqual(['claim ETHUSDT', `release(${end}) ETHUSDT`]);
    expect(h.state.lastApplied.size).toBe(0);
  });

  test('the applied release records the issuedAt, so an older event is refused afterwards', async () => {
    const h = harness();
    await h.execute();
    expect(view(await h.execute(commandFor({ eventId: 'evt-0', issuedAt: '2026-11-25T09:00:00Z' })))).toEqual(superseded(ISSUED));
  });

  test('a failing release is logged, not thrown: the change stays APPLIED', async () => {
    const h = harness();
    h.state.releaseReplies.push(raise(new RetryableError('STATE_STORE_UNAVAILABLE', 'the state table could not be used (x)')));
    expect(view(await h.execute())).toEqual(applied(10));
    expect(h.log.lines).toEqual([['warn', 'could not release the claim', { detail: 'RetryableError: the state table could not be used (x)' }]]);
  });

  test('without a state store: no claim, applied directly', async () => {
    const h = harness({ state: false });
    expect(view(await h.execute())).toEqual(applied(10));
    expect(h.state.calls).toEqual([]);
  });
});

describe('executeTarget: reduce-only', () => {
  test.each([
    ['equal', 10],
    ['lower', 4],
  ])('current leverage %s: SKIPPED NOT_A_REDUCTION with the current leverage; nothing changed; released unapplied', async (_name, current) => {
    const h = harness();
    h.exchange.onRead(answer(setting(current)));
    expect(view(await h.execute(commandFor({ mode: 'reduce-only' })))).toEqual(notAReduction(current, 10));
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT']);
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(not-applied) ETHUSDT']);
  });

  test('current leverage higher: the read happens inside the claim, then APPLIED with the current leverage', async () => {
    const h = harness();
    h.exchange.onRead(answer(setting(20))).onChange(answer(setting(10, '50000')));
    expect(view(await h.execute(commandFor({ mode: 'reduce-only' })))).toEqual(applied(10, '50000', 20));
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT', 'changeLeverage ETHUSDT']);
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(applied) ETHUSDT']);
  });

  test.each([
    ['left in flight before, its leverage in force: APPLIED without sending anything', 'in-flight', 10, applied(10, '50000'), ['readLeverage ETHUSDT']],
    ['left in flight before, leverage since lowered further: still never raised', 'in-flight', 4, notAReduction(4, 10), ['readLeverage ETHUSDT']],
    ['not seen before, leverage equal: SKIPPED as usual', undefined, 10, notAReduction(10, 10), ['readLeverage ETHUSDT']],
  ] as const)('a redelivery of a reduce-only event, %s', async (_name, seenBefore, current, verdict, exchangeCalls) => {
    const h = harness();
    h.state.claimReplies.push(answer<Claim>({ status: 'claimed', ...(seenBefore ? { seenBefore } : {}), release: async () => undefined }));
    h.exchange.onRead(answer(setting(current, '50000')));
    expect(view(await h.execute(commandFor({ mode: 'reduce-only' })))).toEqual(verdict);
    expect(h.exchangeLog()).toEqual(exchangeCalls);
  });

  // Issue 8, case 1: the decision is made on the leverage read after the claim, never on the
  // positionRisk snapshot (another container or a person may have lowered it meanwhile).
  test('ALL_OPEN_POSITIONS saw 20x, someone lowered it to 3x since: the read after the claim wins, nothing is raised', async () => {
    const h = harness();
    h.exchange.onPositions(answer([{ symbol: 'ETHUSDT', leverage: 20 }])).onRead(answer(setting(3)));
    const command = commandFor({ scope: { kind: 'all-open-positions', leverage: 10 }, mode: 'reduce-only' });
    const [target] = await resolveTargets(command, accountExchange('desk-2', h.deps));
    expect(view(await h.execute(command, target))).toEqual(notAReduction(3, 10));
    expect(h.exchange.callsOf('changeLeverage')).toEqual([]);
  });

  test('the read failing: RETRY, released as not applied (nothing was sent)', async () => {
    const h = harness();
    h.exchange.onRead(raise(new RetryableError('TIMEOUT', 'no response within 5000 ms')));
    expect(view(await h.execute(commandFor({ mode: 'reduce-only' })))?.status).toBe('RETRY');
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(not-applied) ETHUSDT']);
  });

  test('mode "set" does not read the current leverage', async () => {
    const h = harness();
    expect(view(await h.execute())).toEqual(applied(10, '1000000'));
    expect(h.exchangeLog()).toEqual(['changeLeverage ETHUSDT']);
  });
});

describe('executeTarget: the change and its read-back', () => {
  const unknown = () => new ExecutionUnknownError(-1007, 'Binance -1007: Timeout');

  test('uses the credentials and returns what the exchange set, without reading back', async () => {
    const h = harness();
    h.exchange.onChange(answer(setting(10, '50000')));
    expect(view(await h.execute())).toEqual(applied(10, '50000'));
    expect(h.exchange.calls).toEqual([{ method: 'changeLeverage', apiKey: 'key-desk-2', symbol: 'ETHUSDT', leverage: 10 }]);
  });

  type Row = [string, Reply<ReturnType<typeof setting>>, Reply<ReturnType<typeof setting>>[], Record<string, unknown>];
  test.each<Row>([
    ['a PermanentError: REJECTED, no read-back', raise(new PermanentError(-4028, 'Binance -4028: Invalid leverage')), [],
      { status: 'REJECTED', error: { type: 'PermanentError', code: -4028, message: 'Binance -4028: Invalid leverage' } }],
    ['a RetryableError: RETRY, no read-back', raise(new RetryableError('NETWORK_ERROR', 'ECONNREFUSED')), [],
      { status: 'RETRY', error: { type: 'RetryableError', code: 'NETWORK_ERROR', message: 'ECONNREFUSED' } }],
    ['unknown execution confirmed by the read-back: APPLIED with the read-back setting', raise(unknown()), [answer(setting(10, '75000'))],
      applied(10, '75000')],
    ['unknown execution, read-back shows another leverage: RETRY with a plain RetryableError (known not applied)', raise(unknown()), [answer(setting(20))],
      { status: 'RETRY', error: { type: 'ExecutionUnknownError', code: -1007, message: 'Binance -1007: Timeout; read-back shows leverage 20, so the change has not applied (yet: Binance may still execute it within its recvWindow)' } }],
    ['unknown execution, read-back failed: RETRY, still ExecutionUnknownError', raise(unknown()), [raise(new RetryableError('TIMEOUT', 'no response within 5000 ms'))],
      { status: 'RETRY', error: { type: 'ExecutionUnknownError', code: -1007, message: 'Binance -1007: Timeout; read-back failed: no response within 5000 ms' } }],
    ['unknown execution, read-back threw a string', raise(unknown()), [raise('socket gone')],
      { status: 'RETRY', error: { type: 'ExecutionUnknownError', code: -1007, message: 'Binance -1007: Timeout; read-back failed: socket gone' } }],
    ['a thrown TypeError: RETRY INTERNAL_ERROR', raise(new TypeError('x is undefined')), [],
      { status: 'RETRY', error: { type: 'RetryableError', code: 'INTERNAL_ERROR', message: 'TypeError: x is undefined' } }],
  ])('%s', async (_name, change, reads, verdict) => {
    const h = harness();
    h.exchange.onChange(change).onRead(...reads);
    expect(view(await h.execute())).toEqual(verdict);
    expect(h.exchangeLog()).toEqual(['changeLeverage ETHUSDT', ...reads.map(() => 'readLeverage ETHUSDT')]);
  });

  test('a failed read-back keeps the read failure as the cause', async () => {
    const h = harness();
    const readFailure = new RetryableError('TIMEOUT', 'no response within 5000 ms');
    h.exchange.onChange(raise(unknown())).onRead(raise(readFailure));
    const verdict = await h.execute();
    expect(verdict && 'error' in verdict && verdict.error.cause).toBe(readFailure);
  });

  test('a confirmed read-back is released as applied; a mismatch and a failed read-back as retrying (Binance may still execute it within its recvWindow)', async () => {
    const h = harness();
    h.exchange.onChange(raise(unknown()), raise(unknown()), raise(unknown())).onRead(answer(setting(10)), answer(setting(20)), raise(new RetryableError('TIMEOUT', 'x')));
    await h.execute();
    await h.execute();
    await h.execute();
    expect(h.state.callsOf('release').map((call) => call.end)).toEqual(['applied', 'retrying', 'retrying']);
  });

  test('the unknown execution is logged before the read-back', async () => {
    const h = harness();
    h.exchange.onChange(raise(unknown())).onRead(answer(setting(10)));
    await h.execute();
    expect(h.log.lines).toEqual([['warn', 'execution status unknown; reading leverage back', { symbol: 'ETHUSDT', code: -1007, detail: 'Binance -1007: Timeout' }]]);
  });
});

describe('resolveTargets', () => {
  test('named targets are the event\'s own, without asking the exchange', async () => {
    const h = harness();
    const targets = [ETH, { symbol: 'BTCUSDT', leverage: 3 }];
    await expect(resolveTargets(commandFor({ scope: { kind: 'targets', targets } }), accountExchange('desk-2', h.deps))).resolves.toEqual(targets);
    expect(h.exchange.calls).toEqual([]);
  });

  test.each([
    ['two open positions', [{ symbol: 'BTCUSDT', leverage: 20 }, { symbol: 'ETHUSDT', leverage: 3 }],
      [{ symbol: 'BTCUSDT', leverage: 4 }, { symbol: 'ETHUSDT', leverage: 4 }]],
    ['no open position', [], []],
  ])('ALL_OPEN_POSITIONS with %s: one target per position, at the event\'s leverage (its leverage is read again after the claim)', async (_name, positions, targets) => {
    const h = harness();
    h.exchange.onPositions(answer(positions));
    const command = commandFor({ scope: { kind: 'all-open-positions', leverage: 4 }, mode: 'reduce-only' });
    await expect(resolveTargets(command, accountExchange('desk-2', h.deps))).resolves.toEqual(targets);
    expect(h.exchange.calls).toEqual([{ method: 'readOpenPositions', apiKey: 'key-desk-2', symbol: '*' }]);
  });

  test('a failing position read is thrown to the caller', async () => {
    const h = harness();
    const failure = new RetryableError('MALFORMED_RESPONSE', 'positionRisk did not answer a list');
    h.exchange.onPositions(raise(failure));
    const command = commandFor({ scope: { kind: 'all-open-positions', leverage: 4 } });
    await expect(resolveTargets(command, accountExchange('desk-2', h.deps))).rejects.toBe(failure);
  });
});

// Issue 8, case 4: SUPERSEDED only by a newer change that was applied.
describe('executeTarget: a newer event in flight', () => {
  const NEWER_MS = ISSUED_MS + 1000;
  const inFlight = (leaseActive: boolean, leverage = 2) =>
    answer<Claim>({ status: 'newer-in-flight', eventId: 'evt-newer', issuedAtMs: NEWER_MS, leverage, leaseActive });

  test('still holding the key: this older event waits (RETRY NEWER_EVENT_IN_FLIGHT), nothing read or sent', async () => {
    const h = harness();
    h.state.claimReplies.push(inFlight(true));
    const verdict = await h.execute();
    expect(verdict?.status).toBe('RETRY');
    expect(verdict && 'error' in verdict && verdict.error.code).toBe('NEWER_EVENT_IN_FLIGHT');
    expect(h.exchangeLog()).toEqual([]);
  });

  test('fate unknown and its leverage is in force: SUPERSEDED (it applied)', async () => {
    const h = harness();
    h.state.claimReplies.push(inFlight(false, 2));
    h.exchange.onRead(answer(setting(2)));
    expect(view(await h.execute())).toEqual(superseded(new Date(NEWER_MS).toISOString(), 'its leverage 2 is in force'));
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT']);
  });

  test('fate unknown and its leverage is not in force: this event takes the key over from it and applies', async () => {
    const h = harness();
    h.state.claimReplies.push(inFlight(false, 2));
    h.exchange.onRead(answer(setting(20)));
    expect(view(await h.execute())).toEqual(applied(10));
    expect(h.state.callsOf('claim').map((call) => call.request.replacing)).toEqual([undefined, 'evt-newer']);
    expect(h.exchangeLog()).toEqual(['readLeverage ETHUSDT', 'changeLeverage ETHUSDT']);
  });
});

// Issue 8, case 2: a redelivery establishes whether its own change is done before freshness.
describe('executeTarget: a redelivery after the event went stale', () => {
  const STALE_NOW_COMMAND = () => commandFor({ issuedAt: '2026-11-25T09:00:00Z' });

  test('decided and owed by an earlier delivery: that verdict, nothing read or sent', async () => {
    const h = harness();
    h.state.claimReplies.push(answer<Claim>({ status: 'decided-earlier', decision: { published: false, verdict: { status: 'APPLIED', leverage: 10, maxNotionalValue: '5' } } }));
    expect(view(await h.execute(STALE_NOW_COMMAND()))).toEqual(applied(10, '5'));
    expect(h.exchangeLog()).toEqual([]);
    expect(h.state.log()).toEqual(['claim ETHUSDT']);
  });

  test('left in flight by an earlier delivery, its leverage in force: APPLIED, not STALE_EVENT', async () => {
    const h = harness();
    h.state.claimReplies.push(answer<Claim>({ status: 'claimed', seenBefore: 'in-flight', release: async () => undefined }));
    h.exchange.onRead(answer(setting(10)));
    expect((await h.execute(STALE_NOW_COMMAND()))?.status).toBe('APPLIED');
    expect(h.exchange.callsOf('changeLeverage')).toEqual([]);
  });

  test('without a state table, a redelivered stale event whose leverage is in force: APPLIED; a first delivery: STALE_EVENT', async () => {
    const redelivered = harness({ state: false });
    redelivered.exchange.onRead(answer(setting(10)));
    expect((await redelivered.execute(STALE_NOW_COMMAND(), ETH, true))?.status).toBe('APPLIED');
    const first = harness({ state: false });
    const verdict = await first.execute(STALE_NOW_COMMAND(), ETH, false);
    expect(verdict && 'error' in verdict && verdict.error.code).toBe('STALE_EVENT');
    expect(first.exchangeLog()).toEqual([]);
  });

  test('not seen before: STALE_EVENT, nothing sent, released unapplied', async () => {
    const h = harness();
    const verdict = await h.execute(STALE_NOW_COMMAND());
    expect(verdict && 'error' in verdict && verdict.error.code).toBe('STALE_EVENT');
    expect(h.exchangeLog()).toEqual([]);
    expect(h.state.log()).toEqual(['claim ETHUSDT', 'release(not-applied) ETHUSDT']);
  });
});

// Issue 8, case 6: a refused key is the operator's problem, not the event's.
describe('executeTarget: the exchange refuses the credentials', () => {
  const refused = () => new AuthenticationError(-2015, 'Binance -2015: Invalid API-key, IP, or permissions for action.');

  test('the cached credentials are dropped, fetched again and the change retried once: APPLIED with the new key', async () => {
    const h = harness();
    h.credentials.replies.push(answer({ apiKey: 'old-key', apiSecret: 's' }), answer({ apiKey: 'new-key', apiSecret: 's' }));
    h.exchange.onChange(raise(refused()), answer(setting(10)));
    expect(view(await h.execute())).toEqual(applied(10));
    expect(h.credentials.invalidated).toEqual(['desk-2:old-key']);
    expect(h.exchange.callsOf('changeLeverage').map((call) => call.apiKey)).toEqual(['old-key', 'new-key']);
  });

  test('refused again with fresh credentials: RETRY (never REJECTED), released unapplied', async () => {
    const h = harness();
    h.exchange.onChange(raise(refused()), raise(refused()));
    const verdict = await h.execute();
    expect(verdict?.status).toBe('RETRY');
    expect(verdict && 'error' in verdict && verdict.error.code).toBe(-2015);
    expect(h.state.callsOf('release').map((call) => call.end)).toEqual(['not-applied']);
  });
});
