// Test-side client for the simulator: builds and signs requests on its own (independent of
// both the simulator and functions/), so each side checks the other.
import crypto from 'node:crypto';
import credentials from '../../local/binance-simulator/test-credentials.json' with { type: 'json' };
import {
  startBinanceSimulator,
  type BinanceSimulator,
  type SimulatorOptions,
} from '../../local/binance-simulator/index.ts';

type Credential = { apiKey: string; apiSecret?: string; privateKey?: string };
export const creds = credentials as Record<string, Credential>;

export function cred(name: string): Credential {
  const c = creds[name];
  if (c === undefined) throw new Error(`no test credential ${name}`);
  return c;
}

/** `k=v&…` with RFC 3986 percent-encoding, in the given order. */
export function encode(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
}

/** The wire value of the signature (hex for HMAC, percent-encoded base64 for key pairs). */
export function sign(c: Credential, payload: string): string {
  if (c.apiSecret !== undefined) return crypto.createHmac('sha256', c.apiSecret).update(payload).digest('hex');
  const key = crypto.createPrivateKey(c.privateKey ?? '');
  const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return encodeURIComponent(crypto.sign(algorithm, Buffer.from(payload), key).toString('base64'));
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function raw(
  sim: BinanceSimulator,
  method: string,
  pathAndQuery: string,
  init: { apiKey?: string; body?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.apiKey !== undefined) headers['X-MBX-APIKEY'] = init.apiKey;
  if (init.body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(sim.url + pathAndQuery, {
    method,
    headers,
    body: init.body,
    signal: AbortSignal.timeout(init.timeoutMs ?? 3000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface SignedCall {
  method?: 'GET' | 'POST';
  path: string;
  params?: Record<string, string | number>;
  account?: string;
  /** Overrides the account's key; null sends no X-MBX-APIKEY header. */
  apiKey?: string | null;
  timestamp?: number;
  recvWindow?: number;
  /** Local clock used for the timestamp (default Date.now). */
  now?: number;
  timeoutMs?: number;
}

/** A signed request, sent as the official connector does (all in the query string). */
export function signed(sim: BinanceSimulator, call: SignedCall): Promise<Reply> {
  const c = cred(call.account ?? 'default');
  const params: Record<string, string | number> = { ...call.params };
  if (call.recvWindow !== undefined) params.recvWindow = call.recvWindow;
  params.timestamp = call.timestamp ?? call.now ?? Date.now();
  const query = encode(params);
  const apiKey = call.apiKey === null ? undefined : (call.apiKey ?? c.apiKey);
  return raw(sim, call.method ?? 'GET', `${call.path}?${query}&signature=${sign(c, query)}`, {
    apiKey,
    timeoutMs: call.timeoutMs,
  });
}

export function setLeverage(
  sim: BinanceSimulator,
  symbol: string,
  leverage: number | string,
  extra: Partial<SignedCall> = {},
): Promise<Reply> {
  return signed(sim, { method: 'POST', path: '/papi/v1/um/leverage', params: { symbol, leverage }, ...extra });
}

export const errorBody = (code: number, msg: string) => ({ code, msg });

/**
 * Starts one simulator per suite (port 0, loopback), resets it before each test (after
 * running `onReset`, e.g. to rewind a test clock) and closes it after the suite.
 */
export function useSimulator(options: SimulatorOptions = {}, onReset: () => void = () => {}): BinanceSimulator {
  let sim: BinanceSimulator | undefined;
  beforeAll(async () => {
    sim = await startBinanceSimulator(options);
  });
  afterAll(() => sim?.close());
  beforeEach(() => {
    onReset();
    sim?.reset();
  });
  // The suite's simulator, usable as soon as beforeAll has run.
  return new Proxy({} as BinanceSimulator, {
    get: (_target, prop) => {
      if (sim === undefined) throw new Error('simulator not started');
      return Reflect.get(sim, prop);
    },
  });
}
