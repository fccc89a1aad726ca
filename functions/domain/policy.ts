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

/** Never clamp silently: a request above its cap is refused, and says what the cap is. */
export function checkCap(caps: LeverageCaps | undefined, symbol: string, leverage: number): void {
  const cap = capFor(caps, symbol);
  if (cap !== undefined && leverage > cap) {
    throw new PermanentError('ABOVE_CAP', `leverage ${leverage} is above the cap of ${cap} for ${symbol}`);
  }
}

export function checkFreshness(issuedAt: string | undefined, now: number, maxEventAgeMs: number): void {
  if (issuedAt === undefined) return;
  const ageMs = now - Date.parse(issuedAt);
  if (ageMs > maxEventAgeMs) {
    throw new SkipDecision('STALE_EVENT', `issued ${Math.round(ageMs / 1000)} s ago, older than the ${maxEventAgeMs / 1000} s limit`);
  }
  if (-ageMs > MAX_CLOCK_AHEAD_MS) {
    throw new PermanentError('ISSUED_IN_FUTURE', `issuedAt is ${Math.round(-ageMs / 1000)} s in the future (at most ${MAX_CLOCK_AHEAD_MS / 1000} s allowed)`);
  }
}

/** Reduce-only applies a change only when it lowers leverage. */
export function checkReduction(currentLeverage: number, requested: number): void {
  if (requested >= currentLeverage) {
    throw new SkipDecision('NOT_A_REDUCTION', `current leverage ${currentLeverage} is not above the requested ${requested}`, currentLeverage);
  }
}
