import { PermanentError, SkipDecision } from '../../../functions/domain/errors.ts';
import { capFor, checkCap, checkFreshness, checkReduction, type LeverageCaps, MAX_CLOCK_AHEAD_MS } from '../../../functions/domain/policy.ts';
import { thrownBy } from '../../support/fakes.ts';

const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);
const MAX_AGE_MS = 900_000;
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();

/** [class, code, message, currentLeverage] of what `run` threw. */
const refusal = (run: () => void) => {
  const error = thrownBy<PermanentError & { currentLeverage?: number }>(run);
  return [error.constructor.name, error.code, error.message, error.currentLeverage];
};

describe('capFor', () => {
  const caps: LeverageCaps = { BTCUSDT: 20, ETHUSDT: 125, '*': 10 };
  test.each([
    ['the symbol has its own cap', caps, 'BTCUSDT', 20],
    ['its own cap wins even above the default', caps, 'ETHUSDT', 125],
    ['any other symbol gets the "*" default', caps, 'SOLUSDT', 10],
    ['no "*" and no own cap: uncapped', { BTCUSDT: 20 }, 'SOLUSDT', undefined],
    ['no caps at all: uncapped', undefined, 'BTCUSDT', undefined],
    ['empty caps: uncapped', {}, 'BTCUSDT', undefined],
  ])('%s', (_name, table, symbol, cap) => {
    expect(capFor(table, symbol)).toBe(cap);
  });
});

describe('checkCap', () => {
  const caps: LeverageCaps = { BTCUSDT: 20, '*': 10 };
  test.each([
    ['BTCUSDT', 20],
    ['BTCUSDT', 1],
    ['SOLUSDT', 10],
  ])('%s at %p: allowed (at or below the cap)', (symbol, leverage) => {
    expect(() => checkCap(caps, symbol, leverage)).not.toThrow();
  });

  test.each([
    ['BTCUSDT', 21, 'leverage 21 is above the cap of 20 for BTCUSDT'],
    ['SOLUSDT', 11, 'leverage 11 is above the cap of 10 for SOLUSDT'],
  ])('%s at %p: refused, never clamped, and the message names the cap', (symbol, leverage, message) => {
    expect(refusal(() => checkCap(caps, symbol, leverage))).toEqual(['PermanentError', 'ABOVE_CAP', message, undefined]);
  });

  test('without caps anything Binance allows passes', () => {
    expect(() => checkCap(undefined, 'BTCUSDT', 125)).not.toThrow();
  });
});

describe('checkFreshness', () => {
  test.each([
    ['no issuedAt', undefined],
    ['issued now', iso(0)],
    ['exactly the maximum age', iso(-MAX_AGE_MS)],
    ['59 s in the future (clock drift)', iso(59_000)],
    ['exactly 60 s in the future', iso(MAX_CLOCK_AHEAD_MS)],
  ])('%s: fresh', (_name, issuedAt) => {
    expect(() => checkFreshness(issuedAt, NOW, MAX_AGE_MS)).not.toThrow();
  });

  test.each([
    ['1 ms older than the maximum age', iso(-MAX_AGE_MS - 1), ['SkipDecision', 'STALE_EVENT', 'issued 900 s ago, older than the 900 s limit', undefined]],
    ['an hour old', iso(-3_600_000), ['SkipDecision', 'STALE_EVENT', 'issued 3600 s ago, older than the 900 s limit', undefined]],
    ['61 s in the future', iso(61_000), ['PermanentError', 'ISSUED_IN_FUTURE', 'issuedAt is 61 s in the future (at most 60 s allowed)', undefined]],
    ['60.001 s in the future', iso(60_001), ['PermanentError', 'ISSUED_IN_FUTURE', 'issuedAt is 60 s in the future (at most 60 s allowed)', undefined]],
  ])('%s: refused', (_name, issuedAt, expected) => {
    expect(refusal(() => checkFreshness(issuedAt, NOW, MAX_AGE_MS))).toEqual(expected);
  });

  test('a stale event is a SkipDecision (SKIPPED), a future one a plain PermanentError (REJECTED)', () => {
    expect(thrownBy(() => checkFreshness(iso(-MAX_AGE_MS - 1), NOW, MAX_AGE_MS))).toBeInstanceOf(SkipDecision);
    expect(thrownBy(() => checkFreshness(iso(61_000), NOW, MAX_AGE_MS))).not.toBeInstanceOf(SkipDecision);
  });

  test('an offset timestamp is compared as the instant it names', () => {
    // 11:00+01:00 is 10:00Z, i.e. now.
    expect(() => checkFreshness('2026-11-25T11:00:00+01:00', NOW, MAX_AGE_MS)).not.toThrow();
  });
});

describe('checkReduction', () => {
  test.each([
    [20, 5],
    [6, 5],
  ])('current %p, requested %p: a reduction, allowed', (current, requested) => {
    expect(() => checkReduction(current, requested)).not.toThrow();
  });

  test.each([
    [5, 5, 'current leverage 5 is not above the requested 5'],
    [5, 10, 'current leverage 5 is not above the requested 10'],
  ])('current %p, requested %p: NOT_A_REDUCTION, carrying the current leverage', (current, requested, message) => {
    expect(refusal(() => checkReduction(current, requested))).toEqual(['SkipDecision', 'NOT_A_REDUCTION', message, current]);
  });
});
