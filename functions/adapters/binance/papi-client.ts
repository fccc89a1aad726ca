/**
 * The Binance Portfolio Margin client behind the Exchange port: signed requests, the clock offset,
 * and the exchange's back-pressure rules. Its state (clock offset, rate-limit quiet period,
 * request weight paced below the per-minute limit, open connections) lives for the life of the
 * Lambda container and is shared by concurrent records.
 */
import { ExecutionUnknownError, RetryableError } from '../../domain/errors.ts';
import type { ApiCredentials, Deadline, Exchange, LeverageSetting, OpenPosition } from '../../domain/ports.ts';
import { type HttpOrigin, type HttpResponse, originOf, sendTo, TransportError } from '../http/keep-alive-client.ts';
import { ClockSkewError, interpretResponse, RateLimitedError, usedWeight } from './responses.ts';
import { encodeParams, signerFor, signQuery } from './signing.ts';
import { WeightPacer, type WeightReservation } from './weight-pacer.ts';

/** What the client reports for metrics; the composition root passes change-leverage/metrics.ts (CloudWatch EMF). */
export interface ExchangeObserver {
  request(path: string, latencyMs: number, usedWeight: number | undefined): void;
  clockOffset(offsetMs: number): void;
  /** A request repeated or held within the invocation. */
  retry(reason: 'CLOCK_SKEW' | 'RATE_LIMITED' | 'WEIGHT_BUDGET'): void;
}

const NO_OBSERVER: ExchangeObserver = { request() {}, clockOffset() {}, retry() {} };

export interface PapiClientOptions {
  papiUrl: string;
  timeUrl: string;
  recvWindowMs: number;
  requestTimeoutMs: number;
  /** The IP's request-weight limit per minute (Binance: 6000); requests are paced below it. */
  weightLimitPerMinute?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  observer?: ExchangeObserver;
}

type Params = ReadonlyArray<readonly [string, string | number]>;

/** One signed PAPI call. */
interface PapiRequest {
  method: 'GET' | 'POST';
  path: string;
  params: Params;
  /** The request changes state: a transport failure after sending it leaves its execution unknown. */
  mutating: boolean;
}

/** Never start a request that could not finish before the invocation ends. */
const MIN_REQUEST_BUDGET_MS = 200;
const END_OF_INVOCATION_RESERVE_MS = 500;
/**
 * After the time endpoint failed (down, hanging, garbage), requests sign with the local clock (or
 * the last measured offset) and nothing measures again for this long, not even a -1021: a dead
 * endpoint costs one timeout per period, not one per request. Lambda hosts are NTP-synced.
 */
export const CLOCK_SYNC_BACKOFF_MS = 30_000;
/** A 429 is waited out within the invocation at most this many times per request. */
const MAX_RATE_LIMITED_ATTEMPTS = 2;
/** Request weight of each PAPI endpoint used (the fapi time call counts against another limit). */
const REQUEST_WEIGHT: Readonly<Record<string, number>> = {
  '/papi/v1/um/leverage': 1,
  '/papi/v1/um/symbolConfig': 5,
  '/papi/v1/um/positionRisk': 5,
};
const UNLISTED_REQUEST_WEIGHT = 5;

export class BinancePapiClient implements Exchange {
  private clockOffsetMs: number | undefined;
  private clockSync: Promise<void> | undefined;
  /** No clock measurement before this local time (the time endpoint failed recently). */
  private clockSyncAfter = 0;
  private quietUntil = 0;
  private banned = false;

  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pacer: WeightPacer;
  private readonly observer: ExchangeObserver;
  // Parsed and encoded once: the hot path only appends the signed query to a path.
  private readonly papiOrigin: HttpOrigin;
  private readonly timeOrigin: HttpOrigin;
  private readonly timeUrl: URL;
  /** `&recvWindow=…&timestamp=`, to be followed by the timestamp. */
  private readonly timingParams: string;

  constructor(private readonly options: PapiClientOptions) {
    this.timeUrl = new URL(options.timeUrl);
    this.papiOrigin = originOf(options.papiUrl);
    this.timeOrigin = originOf(this.timeUrl);
    this.timingParams = `&${encodeParams([['recvWindow', options.recvWindowMs]])}&timestamp=`;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.pacer = new WeightPacer(options.weightLimitPerMinute);
    this.observer = options.observer ?? NO_OBSERVER;
  }

  /**
   * Measures Binance's clock now, when it is not known, so the measurement overlaps the caller's
   * other start-up work (pause switch, credentials) instead of delaying the first request.
   */
  prepare(deadline: Deadline): void {
    void this.ensureClockOffset(deadline);
  }

  async changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number, deadline: Deadline): Promise<LeverageSetting> {
    const reply = await this.signedRequest({ method: 'POST', path: '/papi/v1/um/leverage', params: [['symbol', symbol], ['leverage', leverage]], mutating: true }, credentials, deadline);
    const setting = asLeverageSetting(reply);
    if (!setting) throw new ExecutionUnknownError('MALFORMED_RESPONSE', 'leverage change answered without leverage and maxNotionalValue');
    return setting;
  }

  async readLeverage(credentials: ApiCredentials, symbol: string, deadline: Deadline): Promise<LeverageSetting> {
    const reply = await this.signedRequest({ method: 'GET', path: '/papi/v1/um/symbolConfig', params: [['symbol', symbol]], mutating: false }, credentials, deadline);
    const entry = Array.isArray(reply) ? reply.find((item) => item?.symbol === symbol) : undefined;
    const setting = asLeverageSetting(entry);
    if (!setting) throw new RetryableError('MALFORMED_RESPONSE', `symbolConfig did not report leverage for ${symbol}`);
    return setting;
  }

  async readOpenPositions(credentials: ApiCredentials, deadline: Deadline): Promise<OpenPosition[]> {
    const reply = await this.signedRequest({ method: 'GET', path: '/papi/v1/um/positionRisk', params: [], mutating: false }, credentials, deadline);
    if (!Array.isArray(reply)) throw new RetryableError('MALFORMED_RESPONSE', 'positionRisk did not answer a list');
    // Hedge mode lists LONG and SHORT separately; both sides of a symbol share one leverage.
    const open = new Map<string, OpenPosition>();
    for (const entry of reply as Record<string, unknown>[]) {
      // Binance sends leverage and positionAmt as strings; Number('') and Number(null) are 0.
      const leverage = numeric(entry.leverage);
      const positionAmt = numeric(entry.positionAmt);
      if (typeof entry.symbol !== 'string' || !Number.isInteger(leverage) || leverage < 1 || Number.isNaN(positionAmt)) {
        throw new RetryableError('MALFORMED_RESPONSE', 'positionRisk entry without symbol, leverage or positionAmt');
      }
      if (positionAmt !== 0) open.set(entry.symbol, { symbol: entry.symbol, leverage });
    }
    return [...open.values()];
  }

  private async signedRequest({ method, path, params, mutating }: PapiRequest, credentials: ApiCredentials, deadline: Deadline): Promise<unknown> {
    let clockResynced = false;
    let rateLimitedAttempts = 0;
    const signer = signerFor(credentials);
    const headers = { 'X-MBX-APIKEY': credentials.apiKey };
    const encodedParams = params.length > 0 ? encodeParams(params) : undefined;
    for (;;) {
      // Each step awaits only when it has something to wait for: most calls have none.
      const quietMs = this.quietUntil - this.now();
      if (quietMs > 0) await this.waitOutQuietPeriod(quietMs, deadline);
      if (this.clockOffsetMs === undefined) await this.ensureClockOffset(deadline);
      const reservation = await this.reserveWeight(REQUEST_WEIGHT[path] ?? UNLISTED_REQUEST_WEIGHT, deadline);
      let response: HttpResponse | undefined;
      try {
        const timing = `${this.timingParams}${Math.round(this.serverNow())}`;
        const query = encodedParams === undefined ? timing.slice(1) : encodedParams + timing;
        response = await this.transmit(this.papiOrigin, { method, path, query: signQuery(query, signer), headers, mutating }, deadline);
      } finally {
        this.pacer.release(reservation, response && usedWeight(response));
      }
      try {
        return interpretResponse(response, this.now());
      } catch (error) {
        if (error instanceof ClockSkewError && !clockResynced && this.clockSyncAllowed()) {
          clockResynced = true;
          this.observer.retry('CLOCK_SKEW');
          await this.syncClock(deadline);
          continue;
        }
        if (error instanceof RateLimitedError) {
          this.enterQuietPeriod(error);
          rateLimitedAttempts += 1;
          if (!error.banned && rateLimitedAttempts < MAX_RATE_LIMITED_ATTEMPTS && this.canWait(error.retryAfterMs ?? 0, deadline)) {
            this.observer.retry('RATE_LIMITED');
            continue;
          }
        }
        throw error;
      }
    }
  }

  private async transmit(
    origin: HttpOrigin,
    { method, path, query, headers, mutating }: { method: 'GET' | 'POST'; path: string; query?: string; headers?: Record<string, string>; mutating: boolean },
    deadline: Deadline,
  ): Promise<HttpResponse> {
    const startedAt = this.now();
    try {
      const timeoutMs = this.requestBudget(deadline);
      const response = await sendTo(origin, { method, path: query === undefined ? path : `${path}?${query}`, headers, timeoutMs });
      this.observer.request(path, this.now() - startedAt, usedWeight(response));
      return response;
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      const code = error.kind === 'timeout' ? 'TIMEOUT' : 'NETWORK_ERROR';
      if (mutating && error.maybeDelivered) throw new ExecutionUnknownError(code, error.message);
      throw new RetryableError(code, error.message);
    }
  }

  /**
   * Holds the request until its weight fits this minute's budget (see weight-pacer.ts): waits for
   * the next window of server time if the invocation has time for that, else hands the record back
   * without sending anything.
   */
  private async reserveWeight(weight: number, deadline: Deadline): Promise<WeightReservation> {
    for (;;) {
      const decision = this.pacer.tryReserve(weight, this.serverNow());
      if (decision.send) return decision.reservation;
      if (!this.canWait(decision.waitMs, deadline)) {
        throw new RateLimitedError(
          'WEIGHT_BUDGET',
          `request weight budget of ${this.pacer.budget} (of ${this.pacer.limitPerMinute} per minute) is used up; the next window starts in ${Math.ceil(decision.waitMs / 1000)} s`,
          decision.waitMs,
          false,
        );
      }
      this.observer.retry('WEIGHT_BUDGET');
      await this.sleep(decision.waitMs);
    }
  }

  /** Binance's clock as best known (the local clock until the offset is measured). */
  private serverNow(): number {
    return this.now() + (this.clockOffsetMs ?? 0);
  }

  /** After a 429 every request waits (if the invocation has time); after a 418 none is sent. */
  private async waitOutQuietPeriod(waitMs: number, deadline: Deadline): Promise<void> {
    if (this.banned) {
      throw new RateLimitedError('IP_BANNED', `IP banned by Binance for another ${Math.ceil(waitMs / 1000)} s; nothing is sent until the ban ends`, waitMs, true);
    }
    if (!this.canWait(waitMs, deadline)) {
      throw new RateLimitedError(-1003, `rate limited by Binance for another ${Math.ceil(waitMs / 1000)} s`, waitMs, false);
    }
    await this.sleep(waitMs);
  }

  private enterQuietPeriod(error: RateLimitedError): void {
    const until = this.now() + (error.retryAfterMs ?? 0);
    if (until > this.quietUntil) {
      this.quietUntil = until;
      this.banned = error.banned;
    }
  }

  private canWait(waitMs: number, deadline: Deadline): boolean {
    return deadline.remainingMs() - waitMs - this.options.requestTimeoutMs - END_OF_INVOCATION_RESERVE_MS >= 0;
  }

  private requestBudget(deadline: Deadline): number {
    const budget = Math.min(this.options.requestTimeoutMs, deadline.remainingMs() - END_OF_INVOCATION_RESERVE_MS);
    if (budget < MIN_REQUEST_BUDGET_MS) {
      throw new RetryableError('TIME_BUDGET_EXHAUSTED', 'not enough invocation time left for an exchange request');
    }
    return budget;
  }

  /**
   * The first signed request of a container measures the offset (or waits for the measurement
   * `prepare` started). If the time endpoint fails, requests sign with the local clock and the
   * measurement is retried after CLOCK_SYNC_BACKOFF_MS, or on a -1021 once that has passed.
   */
  private async ensureClockOffset(deadline: Deadline): Promise<void> {
    if (this.clockOffsetMs !== undefined || (!this.clockSync && !this.clockSyncAllowed())) return;
    await this.syncClock(deadline).catch(() => undefined);
  }

  private clockSyncAllowed(): boolean {
    return this.now() >= this.clockSyncAfter;
  }

  /** Concurrent callers share one measurement. */
  private syncClock(deadline: Deadline): Promise<void> {
    this.clockSync ??= this.measureClockOffset(deadline)
      .catch((error: unknown) => {
        // Too little time left to measure says nothing about the endpoint.
        if (!(error instanceof RetryableError && error.code === 'TIME_BUDGET_EXHAUSTED')) this.clockSyncAfter = this.now() + CLOCK_SYNC_BACKOFF_MS;
        throw error;
      })
      .finally(() => {
        this.clockSync = undefined;
      });
    return this.clockSync;
  }

  private async measureClockOffset(deadline: Deadline): Promise<void> {
    const sentAt = this.now();
    const response = await this.transmit(this.timeOrigin, { method: 'GET', path: this.timeUrl.pathname, query: this.timeUrl.search.slice(1) || undefined, mutating: false }, deadline);
    const receivedAt = this.now();
    const serverTime = (interpretResponse(response, receivedAt) as { serverTime?: unknown }).serverTime;
    if (typeof serverTime !== 'number') throw new RetryableError('CLOCK_SYNC_FAILED', 'server time response has no serverTime');
    // The server read its clock roughly half-way through the round trip.
    this.clockOffsetMs = serverTime - (sentAt + receivedAt) / 2;
    this.observer.clockOffset(this.clockOffsetMs);
  }
}

function asLeverageSetting(value: unknown): LeverageSetting | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { leverage, maxNotionalValue } = value as Record<string, unknown>;
  if (typeof leverage !== 'number' || !Number.isInteger(leverage)) return undefined;
  if (typeof maxNotionalValue !== 'string' && typeof maxNotionalValue !== 'number') return undefined;
  return { leverage, maxNotionalValue: String(maxNotionalValue) };
}

function numeric(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}
