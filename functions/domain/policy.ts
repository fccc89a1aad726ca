/**
 * The guard rails a risk desk sets before a machine may change leverage: caps per symbol, event
 * freshness, and what "reduce-only" means. Pure functions over plain values.
 */
import { PermanentError, SkipDecision } from './errors.ts';

/** Symbol → maximum leverage; `"*"` applies to every other symbol. */
export type LeverageCaps = Readonly<Record<string, number>>;

export interface Policy {
  /** Unset: only Binance's own limits apply. */
  caps?: LeverageCaps;
  maxEventAgeMs: number;
  /** Function-wide dry run. */
  dryRun: boolean;
}

/** Producers' clocks drift; an event further ahead than this is a producer bug, not drift. */
export const MAX_CLOCK_AHEAD_MS = 60_000;

export function capFor(caps: LeverageCaps | undefined, symbol: string): number | undefined {
  return caps?.[symbol] ?? caps?.['*'];
}

/** What an event will set on one symbol: its request, or the cap when the request is above it. */
export interface LeveragePlan {
  requested: number;
  leverage: number;
  /** The request was above the cap: only the cap may be set, and only if that lowers leverage. */
  capped: boolean;
}

/** A cap never blocks a reduction and is never exceeded: a request above it becomes the cap. */
export function planLeverage(caps: LeverageCaps | undefined, symbol: string, requested: number): LeveragePlan {
  const cap = capFor(caps, symbol);
  return cap !== undefined && requested > cap ? { requested, leverage: cap, capped: true } : { requested, leverage: requested, capped: false };
}

/** Setting the cap instead of a higher request is allowed only when it lowers the current leverage. */
export function checkCappedChange(plan: LeveragePlan, symbol: string, currentLeverage: number): void {
  if (plan.capped && plan.leverage >= currentLeverage) {
    throw new PermanentError(
      'ABOVE_CAP',
      `leverage ${plan.requested} is above the cap of ${plan.leverage} for ${symbol}, and setting the cap would not lower the current ${currentLeverage}`,
    );
  }
}

export function isFromFuture(issuedAtMs: number | undefined, now: number): boolean {
  return issuedAtMs !== undefined && issuedAtMs - now > MAX_CLOCK_AHEAD_MS;
}

/** A producer clock far ahead is a producer bug; such an event could never have been applied. */
export function checkNotFromFuture(issuedAtMs: number | undefined, now: number): void {
  if (issuedAtMs === undefined || !isFromFuture(issuedAtMs, now)) return;
  throw new PermanentError('ISSUED_IN_FUTURE', `issuedAt is ${Math.round((issuedAtMs - now) / 1000)} s in the future (at most ${MAX_CLOCK_AHEAD_MS / 1000} s allowed)`);
}

export function isStale(issuedAtMs: number | undefined, now: number, maxEventAgeMs: number): boolean {
  return issuedAtMs !== undefined && now - issuedAtMs > maxEventAgeMs;
}

/** Checked only once a redelivery has established that its own change is not already done. */
export function checkNotStale(issuedAtMs: number | undefined, now: number, maxEventAgeMs: number): void {
  if (issuedAtMs === undefined || !isStale(issuedAtMs, now, maxEventAgeMs)) return;
  throw new SkipDecision('STALE_EVENT', `issued ${Math.round((now - issuedAtMs) / 1000)} s ago, older than the ${maxEventAgeMs / 1000} s limit`);
}

/** Reduce-only applies a change only when it lowers leverage. */
export function checkReduction(currentLeverage: number, requested: number): void {
  if (requested >= currentLeverage) {
    throw new SkipDecision('NOT_A_REDUCTION', `current leverage ${currentLeverage} is not above the requested ${requested}`, currentLeverage);
  }
}
