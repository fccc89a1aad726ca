/**
 * Maps what Binance answered onto the error taxonomy. Pure, so every rule in the reference
 * (HTTP status × error code × message) has a unit test.
 */
import { AuthenticationError, ExecutionUnknownError, type GuardError, PermanentError, RetryableError } from '../../domain/errors.ts';
import type { HttpResponse } from '../http/keep-alive-client.ts';

/** 429 / 418 / -1003: the exchange wants us quiet for `retryAfterMs`. */
export class RateLimitedError extends RetryableError {
  constructor(
    code: number | string,
    message: string,
    retryAfterMs: number,
    /** 418: the IP is banned; nothing may be sent until the ban ends. */
    readonly banned: boolean,
  ) {
    super(code, message, retryAfterMs);
  }
}

/** -1021: our timestamp is outside the server's window; re-measure the clock offset. */
export class ClockSkewError extends RetryableError {}

const DEFAULT_RETRY_AFTER_MS = { rateLimited: 10_000, banned: 120_000 };
const UNKNOWN_EXECUTION_CODES = new Set([-1006, -1007]);
const NOT_EXECUTED_CODES = new Set([-1001, -1008]);
/** API-key format invalid, key/IP/permissions refused, signature invalid: the key, not the event. */
const AUTHENTICATION_CODES = new Set([-2014, -2015, -1022]);

interface BinanceErrorBody {
  code: number;
  msg: string;
}

/**
 * The decoded JSON body of a 2xx answer; anything else becomes a GuardError. `receivedAtMs` (the
 * client's clock) turns a Retry-After HTTP-date into a wait.
 */
export function interpretResponse(response: HttpResponse, receivedAtMs: number): unknown {
  const json = parseJson(response.body);
  if (response.status >= 200 && response.status < 300) {
    if (json === undefined) {
      throw new ExecutionUnknownError('MALFORMED_RESPONSE', `HTTP ${response.status} with a body that is not JSON`);
    }
    return json;
  }
  throw classifyFailure(response.status, isErrorBody(json) ? json : undefined, response, receivedAtMs);
}

function classifyFailure(status: number, body: BinanceErrorBody | undefined, response: HttpResponse, receivedAtMs: number): GuardError {
  const code = body?.code ?? `HTTP_${status}`;
  const message = body ? `Binance ${body.code}: ${body.msg}` : `HTTP ${status} with a body that is not Binance JSON`;

  if (status === 418) return new RateLimitedError(code, message, retryAfterMs(response, DEFAULT_RETRY_AFTER_MS.banned, receivedAtMs), true);
  if (status === 429 || body?.code === -1003) {
    return new RateLimitedError(code, message, retryAfterMs(response, DEFAULT_RETRY_AFTER_MS.rateLimited, receivedAtMs), false);
  }
  if (body?.code === -1021) return new ClockSkewError(code, message);
  if (body && AUTHENTICATION_CODES.has(body.code)) return new AuthenticationError(code, `${message} (the account's API key was refused: check the key, its permissions and IP whitelist)`);
  if (isUnknownExecution(status, body, response.body)) return new ExecutionUnknownError(code, message);
  if (status >= 500 || body?.code === -1008) return new RetryableError(code, message);
  // A 4xx without Binance's error body came from something in front of the exchange (a WAF 403,
  // a proxy, a wrong base URL): Binance never judged the request, so it is not REJECTED; it is
  // retried, and ends FAILED in the DLQ, to be redriven once the path is fixed.
  if (!body) return new RetryableError(code, `${message} (not from Binance's matching engine; a WAF or proxy?)`);
  // Binance's own 4xx: the request itself is wrong (bad symbol, leverage not allowed, key
  // rejected…); sending it again gives the same answer.
  return new PermanentError(code, message);
}

/**
 * Did the request possibly execute? Binance says so outright with -1006/-1007 or 503 "Unknown
 * error…". A 5xx counts as "certainly not executed" only when Binance says that too: 503
 * "Service Unavailable.", -1008 (throttled) or -1001 (internal error, may be resent). Any other
 * 5xx (a gateway's 502/504, an HTML error page) is treated as unknown, since assuming "not
 * executed" is the unsafe guess.
 */
function isUnknownExecution(status: number, body: BinanceErrorBody | undefined, rawBody: string): boolean {
  if (body && UNKNOWN_EXECUTION_CODES.has(body.code)) return true;
  if (status < 500) return false;
  if (body) return !NOT_EXECUTED_CODES.has(body.code) && !/service unavailable/i.test(body.msg);
  return !/service unavailable/i.test(rawBody);
}

function retryAfterMs(response: HttpResponse, fallbackMs: number, receivedAtMs: number): number {
  const header = response.headers['retry-after'];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return fallbackMs;
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    const seconds = Number(value);
    return seconds >= 0 ? seconds * 1000 : fallbackMs;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - receivedAtMs);
}

/** X-MBX-USED-WEIGHT-1M: the IP's request weight used in the current minute. */
export function usedWeight(response: HttpResponse): number | undefined {
  const header = response.headers['x-mbx-used-weight-1m'];
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = Number(header);
  return Number.isFinite(value) ? value : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(value: unknown): value is BinanceErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as BinanceErrorBody).code === 'number' &&
    typeof (value as BinanceErrorBody).msg === 'string'
  );
}
