// The pacing arithmetic on its own: budget, reservations, windows of server time, late answers.
import {
  WEIGHT_WINDOW_MS,
  WeightPacer,
  WINDOW_START_GUARD_MS,
  type PaceDecision,
  type WeightReservation,
} from '../../../../functions/adapters/binance/weight-pacer.ts';

const MINUTE = WEIGHT_WINDOW_MS;
/** A server time 10 s into a calendar minute (and past the guard). */
const T = 29_400_000 * MINUTE + 10_000;

function sent(decision: PaceDecision): WeightReservation {
  if (!decision.send) throw new Error(`expected to send, was told to wait ${decision.waitMs} ms`);
  return decision.reservation;
}

test('the budget is 90 % of the limit, rounded down', () => {
  expect(new WeightPacer().budget).toBe(5400);
  expect(new WeightPacer(6000).budget).toBe(5400);
  expect(new WeightPacer(2000).budget).toBe(1800);
  expect(new WeightPacer(12).budget).toBe(10);
  expect(new WeightPacer(1).budget).toBe(1);
  expect(() => new WeightPacer(0)).toThrow(RangeError);
  expect(() => new WeightPacer(2.5)).toThrow(RangeError);
});

test('under budget: sends at once', () => {
  const pacer = new WeightPacer(6000);
  sent(pacer.tryReserve(1, T));
  expect(pacer.reservedWeight).toBe(1);
});

test('the last reported weight plus the request must stay within the budget', () => {
  const pacer = new WeightPacer(6000);
  pacer.release(sent(pacer.tryReserve(1, T)), 5395);
  expect(pacer.knownWeight(T)).toBe(5395);
  pacer.release(sent(pacer.tryReserve(5, T + 1)), 5400); // 5395 + 5 = 5400: exactly the budget
  const refused = pacer.tryReserve(1, T + 2);
  expect(refused).toEqual({ send: false, waitMs: MINUTE - 10_000 - 2 + WINDOW_START_GUARD_MS });
  expect(pacer.reservedWeight).toBe(0); // a refusal reserves nothing
});

test('requests in flight count as reserved until released', () => {
  const pacer = new WeightPacer(12); // budget 10
  const flying = Array.from({ length: 20 }, () => pacer.tryReserve(1, T));
  expect(flying.filter((d) => d.send)).toHaveLength(10);
  expect(flying.slice(10).every((d) => !d.send)).toBe(true);
  expect(pacer.reservedWeight).toBe(10);

  // A request that failed before reaching the exchange frees its weight without a reading.
  pacer.release(sent(flying[0]!));
  expect(pacer.reservedWeight).toBe(9);
  sent(pacer.tryReserve(1, T));
});

test('weights differ per endpoint: a 5-weight read waits where a 1-weight change still fits', () => {
  const pacer = new WeightPacer(6000);
  pacer.release(sent(pacer.tryReserve(1, T)), 5397);
  expect(pacer.tryReserve(5, T).send).toBe(false);
  expect(pacer.tryReserve(1, T).send).toBe(true);
});

test('window rollover: the known weight starts again from 0 in the next minute', () => {
  const pacer = new WeightPacer(6000);
  pacer.release(sent(pacer.tryReserve(1, T)), 5400);
  expect(pacer.tryReserve(1, T).send).toBe(false);

  const next = T - 10_000 + MINUTE + WINDOW_START_GUARD_MS;
  expect(pacer.knownWeight(next)).toBe(0);
  const reservation = sent(pacer.tryReserve(1, next));
  expect(reservation.window).toBe(pacer.windowOf(T) + 1);
});

test('windows begin a guard after the server minute: a request just past the boundary still waits', () => {
  const pacer = new WeightPacer(6000);
  pacer.release(sent(pacer.tryReserve(1, T)), 5400);
  const boundary = T - 10_000 + MINUTE;
  expect(pacer.tryReserve(1, boundary + 10)).toEqual({ send: false, waitMs: WINDOW_START_GUARD_MS - 10 });
  expect(pacer.tryReserve(1, boundary + WINDOW_START_GUARD_MS).send).toBe(true);
});

test('the wait runs to the start of the next window from anywhere in the minute', () => {
  const pacer = new WeightPacer(6000);
  const start = T - 10_000; // the calendar minute's first millisecond
  expect(pacer.msToNextWindow(start + WINDOW_START_GUARD_MS)).toBe(MINUTE);
  expect(pacer.msToNextWindow(start + 59_999)).toBe(1 + WINDOW_START_GUARD_MS);
  expect(pacer.msToNextWindow(start + 100)).toBe(WINDOW_START_GUARD_MS - 100); // still the previous window
});

test('a late answer from an older window does not overwrite a newer reading', () => {
  const pacer = new WeightPacer(6000);
  const old = sent(pacer.tryReserve(1, T));
  const next = T + MINUTE;
  const fresh = sent(pacer.tryReserve(1, next));
  pacer.release(fresh, 3);
  pacer.release(old, 5400);
  expect(pacer.knownWeight(next)).toBe(3);
  expect(pacer.tryReserve(1, next).send).toBe(true);
});

test('answers of one window arriving out of order: the highest reading wins (weight only grows)', () => {
  const pacer = new WeightPacer(6000);
  const first = sent(pacer.tryReserve(1, T));
  const second = sent(pacer.tryReserve(1, T));
  pacer.release(second, 120);
  pacer.release(first, 119);
  expect(pacer.knownWeight(T)).toBe(120);
  expect(pacer.reservedWeight).toBe(0);
});

test('a request heavier than the whole budget may go alone, but not alongside others', () => {
  const pacer = new WeightPacer(4); // budget 3
  const alone = sent(pacer.tryReserve(5, T));
  expect(pacer.tryReserve(1, T).send).toBe(false);
  pacer.release(alone, 5);
  expect(pacer.tryReserve(5, T).send).toBe(false);
});
