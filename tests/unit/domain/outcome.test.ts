import { PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import {
  appliedOutcome,
  failedOutcome,
  invalidEventOutcome,
  type OutcomeContext,
  rejectedOutcome,
} from '../../../functions/domain/outcome.ts';
import type { RiskCommand } from '../../../functions/domain/risk-event.ts';

const STARTED = Date.UTC(2026, 10, 25, 10, 0, 0);
const context: OutcomeContext = { recordId: 'msg-1', trigger: 'sqs', startedAt: STARTED, now: STARTED + 250 };
const timing = { trigger: 'sqs', processedAt: '2026-11-25T10:00:00.250Z', durationMs: 250 };

const minimal: RiskCommand = { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', leverage: 5 };
const full: RiskCommand = {
  ...minimal,
  accountId: 'desk-2',
  issuedAt: '2026-11-25T09:59:59Z',
  reason: 'drawdown',
  metadata: { rule: 'r1' },
};
const identity = { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: 5 };
const fullIdentity = {
  ...identity,
  accountId: 'desk-2',
  issuedAt: '2026-11-25T09:59:59Z',
  reason: 'drawdown',
  metadata: { rule: 'r1' },
};

/** What subscribers receive: the outcome as JSON (undefined fields disappear). */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

describe('outcome builders', () => {
  test.each([
    ['APPLIED, minimal event', () => appliedOutcome(minimal, { leverage: 5, maxNotionalValue: '250000' }, context), { ...identity, status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', ...timing }],
    ['APPLIED, full event', () => appliedOutcome(full, { leverage: 5, maxNotionalValue: '250000' }, context), { ...fullIdentity, status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', ...timing }],
    [
      'REJECTED',
      () => rejectedOutcome(full, new PermanentError(-4028, 'Binance -4028: Leverage 5 is not valid'), context),
      { ...fullIdentity, status: 'REJECTED', error: { code: -4028, message: 'Binance -4028: Leverage 5 is not valid', retryable: false }, ...timing },
    ],
    [
      'FAILED',
      () => failedOutcome(minimal, new RetryableError('TIMEOUT', 'no response within 5000 ms'), context),
      { ...identity, status: 'FAILED', error: { code: 'TIMEOUT', message: 'no response within 5000 ms', retryable: true }, ...timing },
    ],
    [
      'invalid event with a salvaged identity',
      () => invalidEventOutcome({ eventId: 'evt-9', accountId: 'default', requestedLeverage: 2.5 }, 'leverage: must be a whole number, got 2.5', context),
      { eventId: 'evt-9', accountId: 'default', requestedLeverage: 2.5, status: 'REJECTED', error: { code: 'INVALID_EVENT', message: 'leverage: must be a whole number, got 2.5', retryable: false }, ...timing },
    ],
    [
      'invalid event with nothing salvaged falls back to the record id',
      () => invalidEventOutcome({}, 'body is not valid JSON (x)', { ...context, trigger: 'direct' }),
      { eventId: 'msg-1', status: 'REJECTED', error: { code: 'INVALID_EVENT', message: 'body is not valid JSON (x)', retryable: false }, ...timing, trigger: 'direct' },
    ],
  ])('%s', (_name, build, expected) => {
    expect(wire(build())).toStrictEqual(expected);
  });

  test('a clock that went backwards gives durationMs 0, not a negative number', () => {
    const outcome = appliedOutcome(minimal, { leverage: 5, maxNotionalValue: '1' }, { ...context, now: STARTED - 40 });
    expect([outcome.durationMs, outcome.processedAt]).toEqual([0, '2026-11-25T09:59:59.960Z']);
  });
});
