/**
 * Request-weight pacing against Binance's IP limit, so the function never earns a 429 (and, after
 * ignored 429s, a 418 ban). Pure bookkeeping of one container's view of the current window: the
 * caller passes server time (local clock + the client's clock offset) and does any waiting.
 *
 * Binance counts weight per IP in a fixed window per calendar minute of server time and reports
 * the total on every response (`X-MBX-USED-WEIGHT-1M`). A request may start when
 *   last used weight seen in this window + weight of requests in flight + its own weight <= budget,
 * with budget = 90 % of the limit: the margin absorbs what other containers sharing the IP sent
 * since our last response. Requests in flight count as reserved, so concurrent records of one
 * container cannot all pass the threshold on the same stale reading. At the window boundary the
 * known weight starts again from 0 (the next response reports the fresh value anyway).
 */

export const WEIGHT_WINDOW_MS = 60_000;
export const DEFAULT_WEIGHT_LIMIT_PER_MINUTE = 6000;
/** Share of the limit this container lets itself use, judged from what it has seen. */
export const WEIGHT_BUDGET_RATIO = 0.9;
/**
 * Our windows start this long after the server's minute boundary: the clock offset is only known
 * to within half a round trip, and a request that reaches the server just before its boundary
 * still counts against the full, old window.
 */
export const WINDOW_START_GUARD_MS = 250;

/** Weight taken by a request in flight; hand it back with `release` whatever the outcome. */
export interface WeightReservation {
  readonly weight: number;
  /** The window (per `windowOf`) the request was sent in. */
  readonly window: number;
}

export type PaceDecision =
  | { send: true; reservation: WeightReservation }
  /** Over budget: nothing was reserved; `waitMs` is the time until our next window starts. */
  | { send: false; waitMs: number };

export class WeightPacer {
  /** The most weight this container lets the window reach by its own reckoning. */
  readonly budget: number;
  /** Window of `known`. */
  private knownWindow = Number.NEGATIVE_INFINITY;
  /** Highest X-MBX-USED-WEIGHT-1M seen for `knownWindow` (weight only grows within a window). */
  private known = 0;
  private reserved = 0;

  constructor(readonly limitPerMinute: number = DEFAULT_WEIGHT_LIMIT_PER_MINUTE) {
    if (!Number.isInteger(limitPerMinute) || limitPerMinute < 1) throw new RangeError(`weight limit must be a positive integer, got ${limitPerMinute}`);
    this.budget = Math.max(1, Math.floor(limitPerMinute * WEIGHT_BUDGET_RATIO));
  }

  /** The window a moment of server time belongs to, by our (guarded) reckoning. */
  windowOf(serverTime: number): number {
    return Math.floor((serverTime - WINDOW_START_GUARD_MS) / WEIGHT_WINDOW_MS);
  }

  /** Time until our next window starts (always > 0). */
  msToNextWindow(serverTime: number): number {
    return (this.windowOf(serverTime) + 1) * WEIGHT_WINDOW_MS + WINDOW_START_GUARD_MS - serverTime;
  }

  /** Used weight as last seen, for the window `serverTime` is in (0 once that window is new). */
  knownWeight(serverTime: number): number {
    return this.windowOf(serverTime) === this.knownWindow ? this.known : 0;
  }

  /** Weight of requests sent and not yet answered. */
  get reservedWeight(): number {
    return this.reserved;
  }

  /**
   * Reserves `weight` if it fits the budget now. A request heavier than the whole budget may go
   * alone, when nothing is known or in flight, rather than never.
   */
  tryReserve(weight: number, serverTime: number): PaceDecision {
    const committed = this.knownWeight(serverTime) + this.reserved;
    if (committed + weight > this.budget && committed > 0) {
      return { send: false, waitMs: this.msToNextWindow(serverTime) };
    }
    this.reserved += weight;
    return { send: true, reservation: { weight, window: this.windowOf(serverTime) } };
  }

  /**
   * The request answered (with the used weight it reported, if any) or failed. The reported value
   * belongs to the window the request was sent in: a late answer from an older window must not
   * overwrite a newer reading.
   */
  release(reservation: WeightReservation, reportedUsedWeight?: number): void {
    this.reserved = Math.max(0, this.reserved - reservation.weight);
    if (reportedUsedWeight === undefined || !Number.isFinite(reportedUsedWeight)) return;
    if (reservation.window > this.knownWindow) {
      this.knownWindow = reservation.window;
      this.known = reportedUsedWeight;
    } else if (reservation.window === this.knownWindow) {
      this.known = Math.max(this.known, reportedUsedWeight);
    }
  }
}
