import fc from 'fast-check';
import { attributesOf } from '../../../functions/adapters/sns/outcome-publisher.ts';
import { type GuardError, PermanentError, RetryableError, SkipDecision } from '../../../functions/domain/errors.ts';
import {
  identifiedOnlyOutcome,
  invalidEventOutcome,
  type Outcome,
  OUTCOME_CAPS,
  type OutcomeContext,
  outcomeOf,
  SNS_MAX_MESSAGE_BYTES,
  type Verdict,
} from '../../../functions/domain/outcome.ts';
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

describe('identifiedOnlyOutcome', () => {
  test('a FAILED outcome about an event known only by its identity', () => {
    const outcome = identifiedOnlyOutcome({ eventId: 'evt-9', accountId: 'desk-1' }, { status: 'FAILED', error: new RetryableError('-1001', 'down') }, context);
    expect(wire(outcome)).toStrictEqual({ eventId: 'evt-9', accountId: 'desk-1', status: 'FAILED', error: { code: '-1001', message: 'down', retryable: true }, ...timing });
  });
});

describe('every outcome fits the topic: what it echoes is capped', () => {
  const bytes = (text: string) => Buffer.byteLength(text);

  test('a long error message is cut to its byte cap, ending with an ellipsis', () => {
    const message = `targets: ${'x'.repeat(300_000)}`;
    const outcome = invalidEventOutcome({ eventId: 'evt-1' }, message, context);
    expect(bytes(outcome.error!.message)).toBeLessThanOrEqual(OUTCOME_CAPS.messageBytes);
    expect(bytes(outcome.error!.message)).toBeGreaterThan(OUTCOME_CAPS.messageBytes - 4);
    expect(outcome.error!.message.startsWith('targets: xxx')).toBe(true);
    expect(outcome.error!.message.endsWith('…')).toBe(true);
  });

  test('a message of multi-byte characters is cut on a character boundary', () => {
    const outcome = outcomeOf(minimal, btc, { status: 'FAILED', error: new RetryableError('X', '€'.repeat(5000)) }, context);
    expect(outcome.error!.message).toMatch(/^€+…$/);
    expect(bytes(outcome.error!.message)).toBeLessThanOrEqual(OUTCOME_CAPS.messageBytes);
  });

  test('a message within the cap is kept as it is', () => {
    const message = 'y'.repeat(OUTCOME_CAPS.messageBytes);
    expect(invalidEventOutcome({}, message, context).error!.message).toBe(message);
  });

  test('metadata over its byte cap keeps its leading entries that fit, and says so', () => {
    const metadata = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(1000)]));
    const outcome = outcomeOf({ ...minimal, metadata }, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '1' }, context);
    expect(Object.keys(outcome.metadata!)).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(outcome.metadataTruncated).toBe(true);
    expect(bytes(JSON.stringify(outcome.metadata))).toBeLessThanOrEqual(OUTCOME_CAPS.metadataBytes);
  });

  test('metadata within its cap is echoed whole, with no flag', () => {
    const outcome = outcomeOf(full, btc, { status: 'APPLIED', leverage: 5, maxNotionalValue: '1' }, context);
    expect(wire(outcome).metadataTruncated).toBeUndefined();
    expect(outcome.metadata).toEqual({ rule: 'r1' });
  });

  test('a fallback id of any length is capped (an envelope id is not validated)', () => {
    const outcome = invalidEventOutcome({}, 'event must be a JSON object', { ...context, recordId: 'i'.repeat(300_000) });
    expect(outcome.eventId).toHaveLength(OUTCOME_CAPS.textChars);
  });

  /** What SNS counts: the message and every attribute's name, type and value. */
  function snsBytes(outcome: Outcome): number {
    const attributes = Object.entries(attributesOf(outcome)).reduce(
      (sum, [name, value]) => sum + bytes(name) + bytes(value.DataType ?? '') + bytes(value.StringValue ?? ''),
      0,
    );
    return bytes(JSON.stringify(outcome)) + attributes;
  }

  // Any code point (control characters escape to 6 bytes in JSON, astral ones are 4 in UTF-8),
  // short or up to 300 000 characters.
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 300_000 })).map(([unit, length]) =>
      unit.repeat(Math.ceil(length / unit.length)),
    ),
  );
  const code = fc.oneof(fc.integer({ min: -9999, max: 0 }), text);
  const error = fc
    .tuple(fc.constantFrom(PermanentError, RetryableError, SkipDecision), code, text)
    .map(([ErrorClass, errorCode, message]): GuardError => new ErrorClass(errorCode, message));
  const metadata = fc.dictionary(text, fc.oneof(text, fc.jsonValue()), { maxKeys: 20 });
  const command = fc.record({
    eventId: text,
    accountId: text,
    scope: fc.constant(minimal.scope),
    mode: fc.constantFrom('set' as const, 'reduce-only' as const),
    dryRun: fc.boolean(),
    issuedAt: fc.option(text, { nil: undefined }),
    reason: fc.option(text, { nil: undefined }),
    metadata: fc.option(metadata, { nil: undefined }),
  });
  const target = fc.option(fc.record({ symbol: text, leverage: fc.integer() }), { nil: undefined });
  const verdict: fc.Arbitrary<Verdict> = fc.oneof(
    fc.record({ status: fc.constant('APPLIED' as const), leverage: fc.integer(), maxNotionalValue: text }),
    fc.record({ status: fc.constant('DRY_RUN' as const), leverage: fc.integer(), currentLeverage: fc.integer() }),
    fc.record({ status: fc.constantFrom('SKIPPED' as const, 'REJECTED' as const, 'FAILED' as const), error }),
  );
  const partial = fc.record({ eventId: text, accountId: text, symbol: text }, { requiredKeys: [] });
  const outcome = fc.oneof(
    fc.tuple(command, target, verdict).map(([c, t, v]) => outcomeOf(c, t, v, context)),
    fc.tuple(partial, text).map(([p, message]) => invalidEventOutcome(p, message, { ...context, recordId: 'msg-1' })),
    fc.tuple(partial, error, text).map(([p, e, recordId]) => identifiedOnlyOutcome(p, { status: 'FAILED', error: e }, { ...context, recordId })),
  );

  test('property: any outcome, with its message attributes, stays under SNS\'s 256 KiB', () => {
    fc.assert(
      fc.property(outcome, (built) => {
        expect(snsBytes(built)).toBeLessThan(SNS_MAX_MESSAGE_BYTES);
      }),
      { numRuns: 300 },
    );
  });

  test('the property can fail: an outcome built without the caps does not fit', () => {
    const uncapped: Outcome = { ...invalidEventOutcome({}, 'x', context), error: { code: 'INVALID_EVENT', message: 'x'.repeat(300_000), retryable: false } };
    expect(snsBytes(uncapped)).toBeGreaterThan(SNS_MAX_MESSAGE_BYTES);
  });
});
