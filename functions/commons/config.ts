/**
 * Function configuration from environment variables, read once at cold start. A missing or
 * invalid setting stops the function before it touches any event, with a message naming the
 * variable, rather than failing record by record.
 */
export interface Config {
  secretIdTemplate: string;
  resultTopicArn: string;
  papiUrl: string;
  timeUrl: string;
  recvWindowMs: number;
  maxReceiveCount: number;
  requestTimeoutMs: number;
  credentialsCacheTtlMs: number;
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
