// IP request-weight limit: one fixed window per calendar minute (as Binance's
// X-MBX-USED-WEIGHT-1M), plus a ban state (HTTP 418). The simulator treats every client as
// the same IP.
export const DEFAULT_WEIGHT_LIMIT = 6000;
const MINUTE = 60_000;

export type WeightDecision =
  | { ok: true; used: number }
  | { ok: false; used: number; retryAfterSeconds: number };

export class WeightLimiter {
  private windowStart = 0;
  private used = 0;
  private bannedUntil = 0;

  constructor(
    private readonly now: () => number,
    readonly limit: number = DEFAULT_WEIGHT_LIMIT,
  ) {}

  private roll(): void {
    const start = Math.floor(this.now() / MINUTE) * MINUTE;
    if (start !== this.windowStart) {
      this.windowStart = start;
      this.used = 0;
    }
  }

  /** Weight used in the current window. */
  usedWeight(): number {
    this.roll();
    return this.used;
  }

  /** Seconds until the current window ends (at least 1). */
  secondsToWindowEnd(): number {
    this.roll();
    return Math.max(1, Math.ceil((this.windowStart + MINUTE - this.now()) / 1000));
  }

  /** Adds the weight unless that would exceed the limit (a rejected request adds nothing). */
  consume(weight: number): WeightDecision {
    this.roll();
    if (this.used + weight > this.limit) {
      return { ok: false, used: this.used, retryAfterSeconds: this.secondsToWindowEnd() };
    }
    this.used += weight;
    return { ok: true, used: this.used };
  }

  ban(seconds: number): void {
    this.bannedUntil = this.now() + seconds * 1000;
  }

  /** Remaining ban in ms (0 when not banned). */
  banRemainingMs(): number {
    return Math.max(0, this.bannedUntil - this.now());
  }

  get bannedUntilMs(): number {
    return this.bannedUntil;
  }

  reset(): void {
    this.windowStart = 0;
    this.used = 0;
    this.bannedUntil = 0;
  }
}
