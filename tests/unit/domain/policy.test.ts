import { PermanentError, SkipDecision } from '../../../functions/domain/errors.ts';
import {
  capFor,
  checkCappedChange,
  checkNotFromFuture,
  checkNotStale,
  checkReduction,
  isStale,
  type LeverageCaps,
  MAX_CLOCK_AHEAD_MS,
  planLeverage,
} from '../../../functions/domain/policy.ts';
import { thrownBy } from '../../support/fakes.ts';

const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);
const MAX_AGE_MS = 900_000;
const at = (offsetMs: number) => NOW + offsetMs;

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

describe('planLeverage', () => {
  const caps: LeverageCaps = { BTCUSDT: 20, '*': 10 };
  test.each([
    ['BTCUSDT', 20],
    ['BTCUSDT', 1],
    ['SOLUSDT', 10],
  ])('%s at %p: at or below the cap, the request as it is', (symbol, leverage) => {
    expect(planLeverage(caps, symbol, leverage)).toStrictEqual({ requested: leverage, leverage, capped: false });
  });

  test.each([
    ['BTCUSDT', 21, 20],
    ['BTCUSDT', 125, 20],
    ['SOLUSDT', 11, 10],
  ])('%s at %p: above the cap, the cap is planned instead (never exceeded), and says so', (symbol, requested, cap) => {
    expect(planLeverage(caps, symbol, requested)).toStrictEqual({ requested, leverage: cap, capped: true });
  });

  test('without caps anything Binance allows is planned as asked', () => {
    expect(planLeverage(undefined, 'BTCUSDT', 125)).toStrictEqual({ requested: 125, leverage: 125, capped: false });
  });
});

describe('checkCappedChange', () => {
  const caps: LeverageCaps = { '*': 5 };

  test.each([
    ['a capped plan that lowers the current leverage (10x asked, cap 5, at 50x): allowed', planLeverage(caps, 'BTCUSDT', 10), 50],
    ['a capped plan just below the current leverage: allowed', planLeverage(caps, 'BTCUSDT', 10), 6],
    ['an uncapped plan is never refused here, even a raise (reduce-only decides that)', planLeverage(caps, 'BTCUSDT', 4), 2],
    ['an uncapped plan equal to the current leverage', planLeverage(caps, 'BTCUSDT', 5), 5],
  ])('%s', (_name, plan, current) => {
    expect(() => checkCappedChange(plan, 'BTCUSDT', current)).not.toThrow();
  });

  test.each([
    ['the cap equals the current leverage', 5, 'leverage 10 is above the cap of 5 for BTCUSDT, and setting the cap would not lower the current 5'],
    ['the cap would raise the current leverage', 3, 'leverage 10 is above the cap of 5 for BTCUSDT, and setting the cap would not lower the current 3'],
  ])('a capped plan that would not lower leverage (%s): REJECTED ABOVE_CAP, naming the request, the cap and the current leverage', (_name, current, message) => {
    expect(refusal(() => checkCappedChange(planLeverage(caps, 'BTCUSDT', 10), 'BTCUSDT', current))).toEqual(['PermanentError', 'ABOVE_CAP', message, undefined]);
  });
});

describe('checkNotFromFuture', () => {
  test.each([
    ['no issuedAt', undefined],
    ['issued now', at(0)],
    ['an hour old (staleness is decided elsewhere)', at(-3_600_000)],
    ['59 s in the future (clock drift)', at(59_000)],
    ['exactly 60 s in the future', at(MAX_CLOCK_AHEAD_MS)],
  ])('%s: allowed', (_name, issuedAtMs) => {
    expect(() => checkNotFromFuture(issuedAtMs, NOW)).not.toThrow();
  });

  test.each([
    ['61 s in the future', at(61_000), 'issuedAt is 61 s in the future (at most 60 s allowed)'],
    ['60.001 s in the future', at(60_001), 'issuedAt is 60 s in the future (at most 60 s allowed)'],
    ['a year in the future', at(365 * 86_400_000), 'issuedAt is 31536000 s in the future (at most 60 s allowed)'],
  ])('%s: REJECTED ISSUED_IN_FUTURE (a plain PermanentError, not a skip)', (_name, issuedAtMs, message) => {
    expect(refusal(() => checkNotFromFuture(issuedAtMs, NOW))).toEqual(['PermanentError', 'ISSUED_IN_FUTURE', message, undefined]);
  });
});

describe('isStale and checkNotStale', () => {
  test.each([
    ['no issuedAt', undefined],
    ['issued now', at(0)],
    ['exactly the maximum age', at(-MAX_AGE_MS)],
    ['far in the future (checkNotFromFuture decides that)', at(3_600_000)],
  ])('%s: fresh', (_name, issuedAtMs) => {
    expect(isStale(issuedAtMs, NOW, MAX_AGE_MS)).toBe(false);
    expect(() => checkNotStale(issuedAtMs, NOW, MAX_AGE_MS)).not.toThrow();
  });

  test.each([
    ['1 ms older than the maximum age', at(-MAX_AGE_MS - 1), 'issued 900 s ago, older than the 900 s limit'],
    ['an hour old', at(-3_600_000), 'issued 3600 s ago, older than the 900 s limit'],
  ])('%s: stale, SKIPPED STALE_EVENT', (_name, issuedAtMs, message) => {
    expect(isStale(issuedAtMs, NOW, MAX_AGE_MS)).toBe(true);
    expect(refusal(() => checkNotStale(issuedAtMs, NOW, MAX_AGE_MS))).toEqual(['SkipDecision', 'STALE_EVENT', message, undefined]);
    expect(thrownBy(() => checkNotStale(issuedAtMs, NOW, MAX_AGE_MS))).toBeInstanceOf(SkipDecision);
  });

  test('the limit is the configured one', () => {
    expect(isStale(at(-61_000), NOW, 60_000)).toBe(true);
    expect(isStale(at(-61_000), NOW, 120_000)).toBe(false);
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
