/**
 * Function configuration from environment variables, read once at cold start. A missing or
 * invalid setting stops the function before it touches any event, with a message naming the
 * variable, rather than failing record by record.
 */
import type { LeverageCaps } from '../domain/policy.ts';
import { MAX_LEVERAGE, MIN_LEVERAGE, UM_SYMBOL } from '../domain/risk-event.ts';

export interface Config {
  secretIdTemplate: string;
  resultTopicArn: string;
  papiUrl: string;
  timeUrl: string;
  recvWindowMs: number;
  maxReceiveCount: number;
  requestTimeoutMs: number;
  credentialsCacheTtlMs: number;
  /** The IP's request-weight limit per minute; requests are paced to stay below it. */
  weightLimitPerMinute: number;
  leverageCaps?: LeverageCaps;
  maxEventAgeMs: number;
  dryRun: boolean;
  /** Unset: no cross-invocation ordering or duplicate detection. */
  stateTableName?: string;
  /** Unset: no pause switch. */
  pauseParameter?: string;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): Config {
  return {
    secretIdTemplate: required(env, 'BINANCE_SECRET_ID'),
    resultTopicArn: required(env, 'RESULT_TOPIC_ARN'),
    papiUrl: baseUrl(env, 'BINANCE_PAPI_URL', 'https://papi.binance.com'),
    timeUrl: baseUrl(env, 'BINANCE_TIME_URL', 'https://fapi.binance.com/fapi/v1/time'),
    recvWindowMs: integer(env, 'BINANCE_RECV_WINDOW', 5000, 1, 60_000),
    maxReceiveCount: integer(env, 'MAX_RECEIVE_COUNT', 3, 1, 1000),
    requestTimeoutMs: integer(env, 'BINANCE_REQUEST_TIMEOUT_MS', 5000, 100, 60_000),
    credentialsCacheTtlMs: integer(env, 'CREDENTIALS_CACHE_TTL_SECONDS', 300, 0, 86_400) * 1000,
    weightLimitPerMinute: integer(env, 'BINANCE_WEIGHT_LIMIT', 6000, 1, 1_000_000),
    leverageCaps: leverageCaps(env, 'LEVERAGE_CAPS'),
    maxEventAgeMs: integer(env, 'MAX_EVENT_AGE_SECONDS', 900, 1, 7 * 86_400) * 1000,
    dryRun: boolean(env, 'DRY_RUN'),
    stateTableName: env.STATE_TABLE_NAME?.trim() || undefined,
    pauseParameter: env.PAUSE_PARAMETER?.trim() || undefined,
  };
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is required');
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

/** `{"BTCUSDT": 20, "*": 10}`: symbol (or "*" for all others) → maximum leverage. */
function leverageCaps(env: Env, name: string): LeverageCaps | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, `must be a JSON object such as {"BTCUSDT": 20, "*": 10}, got "${raw}"`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(name, 'must be a JSON object of symbol → maximum leverage');
  }
  for (const [symbol, cap] of Object.entries(parsed)) {
    if (symbol !== '*' && !UM_SYMBOL.test(symbol)) throw new ConfigError(name, `has an invalid symbol "${symbol}"`);
    if (!Number.isInteger(cap) || cap < MIN_LEVERAGE || cap > MAX_LEVERAGE) {
      throw new ConfigError(name, `cap for ${symbol} must be a whole number from ${MIN_LEVERAGE} to ${MAX_LEVERAGE}, got ${JSON.stringify(cap)}`);
    }
  }
  return Object.freeze({ ...(parsed as Record<string, number>) });
}

/** https only; plain http is allowed for loopback hosts (the simulator, tests). */
function baseUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol === 'https:') return raw;
  if (url.protocol === 'http:' && isLoopback(url.hostname)) return raw;
  throw new ConfigError(name, `must use https (plain http only for loopback hosts), got "${raw}"`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
