import { PermanentError, RetryableError, SkipDecision } from '../../../functions/domain/errors.ts';
import { invalidEventOutcome, type OutcomeContext, outcomeOf, type Verdict } from '../../../functions/domain/outcome.ts';
import type { RiskCommand, Target } from '../../../functions/domain/risk-event.ts';

const STARTED = Date.UTC(2026, 10, 25, 10, 0, 0);
const context: OutcomeContext = { recordId: 'msg-1', trigger: 'sqs', startedAt: STARTED, now: STARTED + 250 };
const timing = { trigger: 'sqs', processedAt: '2026-11-25T10:00:00.250Z', durationMs: 250 };

const btc: Target = { symbol: 'BTCUSDT', leverage: 5 };
const minimal: RiskCommand = { eventId: 'evt-1', accountId: 'default', scope: { kind: 'targets', targets: [btc] }, mode: 'set', dryRun: false };
const full: RiskCommand = {
  ...minimal,
  accountId: 'desk-2',
  mode: 'reduce-only',
  issuedAt: '2026-11-25T10:59:59+01:00',
  issuedAtMs: Date.UTC(2026, 10, 25, 9, 59, 59),
  reason: 'drawdown',
  metadata: { rule: 'r1' },
};
const allOpen: RiskCommand = { ...minimal, scope: { kind: 'all-open-positions', leverage: 3 }, mode: 'reduce-only' };

const identity = { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: 5, mode: 'set' };
const fullIdentity = {
  ...identity,
  accountId: 'desk-2',
  mode: 'reduce-only',
  // As the producer wrote it; the parsed instant (issuedAtMs) is for decisions, not for subscribers.
  issuedAt: '2026-11-25T10:59:59+01:00',
  reason: 'drawdown',
  metadata: { rule: 'r1' },
};

/** What subscribers receive: the outcome as JSON (undefined fields disappear). */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('outcomeOf: one outcome per target and verdict', () => {
  type Row = [string, RiskCommand, Target | undefined, Verdict, Record<string, unknown>];
  test.each<Row>([
    ['APPLIED, minimal event', minimal, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000' },
      { ...identity, status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', ...timing }],
    ['APPLIED, full event, with the leverage read before', full, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', currentLeverage: 20 },
      { ...fullIdentity, status: 'APPLIED', leverage: 5, currentLeverage: 20, maxNotionalValue: '250000', ...timing }],
    ['DRY_RUN: the leverage that would have been set, and the current one', minimal, btc, { status: 'DRY_RUN', leverage: 5, currentLeverage: 20 },
      { ...identity, status: 'DRY_RUN', leverage: 5, currentLeverage: 20, ...timing }],
    ['SKIPPED, with the current leverage from the verdict', full, btc, { status: 'SKIPPED', error: new SkipDecision('NOT_A_REDUCTION', 'current leverage 3 is not above the requested 5', 3), currentLeverage: 3 },
      { ...fullIdentity, status: 'SKIPPED', currentLeverage: 3, error: { code: 'NOT_A_REDUCTION', message: 'current leverage 3 is not above the requested 5', retryable: false }, ...timing }],
    ['REJECTED', full, btc, { status: 'REJECTED', error: new PermanentError(-4028, 'Binance -4028: Leverage 5 is not valid') },
      { ...fullIdentity, status: 'REJECTED', error: { code: -4028, message: 'Binance -4028: Leverage 5 is not valid', retryable: false }, ...timing }],
    ['FAILED', minimal, btc, { status: 'FAILED', error: new RetryableError('TIMEOUT', 'no response within 5000 ms') },
      { ...identity, status: 'FAILED', error: { code: 'TIMEOUT', message: 'no response within 5000 ms', retryable: true }, ...timing }],
    ['ALL_OPEN_POSITIONS target: the current leverage is the one the verdict read (after the claim), not the positionRisk snapshot', allOpen, { symbol: 'ETHUSDT', leverage: 3 }, { status: 'APPLIED', leverage: 3, maxNotionalValue: '9', currentLeverage: 10 },
      { ...identity, symbol: 'ETHUSDT', requestedLeverage: 3, mode: 'reduce-only', status: 'APPLIED', leverage: 3, currentLeverage: 10, maxNotionalValue: '9', ...timing }],
    ['APPLIED learned by reading back (no maxNotionalValue, no leverage read before): neither is invented', minimal, btc, { status: 'APPLIED', leverage: 5 },
      { ...identity, status: 'APPLIED', leverage: 5, ...timing }],
    // Capped: the request stays what the producer asked, the leverage is the cap that was set.
    ['APPLIED, capped', minimal, { symbol: 'BTCUSDT', leverage: 10 }, { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', currentLeverage: 50, capped: true },
      { ...identity, requestedLeverage: 10, status: 'APPLIED', leverage: 5, currentLeverage: 50, maxNotionalValue: '250000', capped: true, ...timing }],
    ['DRY_RUN, capped', minimal, { symbol: 'BTCUSDT', leverage: 10 }, { status: 'DRY_RUN', leverage: 5, currentLeverage: 50, capped: true },
      { ...identity, requestedLeverage: 10, status: 'DRY_RUN', leverage: 5, currentLeverage: 50, capped: true, ...timing }],
    ['capped: false is not shown', minimal, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', capped: false },
      { ...identity, status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', ...timing }],
    ['about the whole ALL_OPEN_POSITIONS event: no symbol, the scope\'s leverage', allOpen, undefined, { status: 'SKIPPED', error: new SkipDecision('NO_OPEN_POSITIONS', 'the account has no open positions') },
      { eventId: 'evt-1', accountId: 'default', requestedLeverage: 3, mode: 'reduce-only', status: 'SKIPPED', error: { code: 'NO_OPEN_POSITIONS', message: 'the account has no open positions', retryable: false }, ...timing }],
    ['about the whole event of named targets: neither symbol nor leverage', minimal, undefined, { status: 'FAILED', error: new RetryableError('PAUSED', 'paused') },
      { eventId: 'evt-1', accountId: 'default', mode: 'set', status: 'FAILED', error: { code: 'PAUSED', message: 'paused', retryable: true }, ...timing }],
  ])('%s', (_name, command, target, verdict, expected) => {
    expect(wire(outcomeOf(command, target, verdict, context))).toStrictEqual(expected);
  });

  test('capped is exactly true or absent, never false, on the outcome object itself', () => {
    const capped = outcomeOf(minimal, btc, { status: 'DRY_RUN', leverage: 5, currentLeverage: 50, capped: true }, context);
    const uncapped = outcomeOf(minimal, btc, { status: 'DRY_RUN', leverage: 5, currentLeverage: 50, capped: false }, context);
    expect([capped.capped, uncapped.capped]).toEqual([true, undefined]);
  });

  test('an error message naming AWS identities reaches the outcome without them', () => {
    const error = new RetryableError('SNS_UNAVAILABLE', 'User: arn:aws:sts::123456789012:assumed-role/guard/fn is not authorized (account 123456789012)');
    const outcome = outcomeOf(minimal, btc, { status: 'FAILED', error }, context);
    expect(outcome.error?.message).toBe('User: <arn> is not authorized (account <account>)');
  });

  test('a clock that went backwards gives durationMs 0, not a negative number', () => {
    const outcome = outcomeOf(minimal, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '1' }, { ...context, now: STARTED - 40 });
    expect([outcome.durationMs, outcome.processedAt]).toEqual([0, '2026-11-25T09:59:59.960Z']);
  });
});

describe('invalidEventOutcome', () => {
  test.each([
    [
      'with a salvaged identity',
      () => invalidEventOutcome({ eventId: 'evt-9', accountId: 'default', requestedLeverage: 2.5 }, 'leverage: must be a whole number, got 2.5', context),
      { eventId: 'evt-9', accountId: 'default', requestedLeverage: 2.5, status: 'REJECTED', error: { code: 'INVALID_EVENT', message: 'leverage: must be a whole number, got 2.5', retryable: false }, ...timing },
    ],
    [
      'with nothing salvaged falls back to the record id',
      () => invalidEventOutcome({}, 'body is not valid JSON (x)', { ...context, trigger: 'direct' }),
      { eventId: 'msg-1', status: 'REJECTED', error: { code: 'INVALID_EVENT', message: 'body is not valid JSON (x)', retryable: false }, ...timing, trigger: 'direct' },
    ],
  ])('%s', (_name, build, expected) => {
    expect(wire(build())).toStrictEqual(expected);
  });
});
