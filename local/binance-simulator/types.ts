// Public types of the local Binance Portfolio Margin (PAPI) simulator.

export interface SimulatorAccountSeed {
  name: string;
  apiKey: string;
  /** HMAC-SHA256 secret (HMAC accounts). */
  apiSecret?: string;
  /** Ed25519 or RSA public key, SPKI PEM (key-pair accounts). */
  publicKeyPem?: string;
  positions?: Record<string, { positionAmt: string; entryPrice: string }>;
  leverage?: Record<string, number>;
}

export interface SimulatorBracket {
  bracket: number;
  initialLeverage: number;
  notionalCap: number;
  notionalFloor: number;
  maintMarginRatio: number;
  cum: number;
}

export interface SimulatorSymbolSeed {
  symbol: string;
  markPrice: string;
  brackets: SimulatorBracket[];
}

export interface SimulatorSeed {
  accounts: SimulatorAccountSeed[];
  symbols: SimulatorSymbolSeed[];
  defaultLeverage?: number;
  weightLimitPerMinute?: number;
}

export type Fault =
  | { type: 'rateLimit'; retryAfterSeconds: number }
  | { type: 'ban'; seconds: number }
  | { type: 'internalError' }
  | { type: 'serviceUnavailable' }
  | { type: 'unknownStatus'; apply: boolean; code?: -1006 | -1007 }
  | { type: 'throttled' }
  | { type: 'timeout'; apply: boolean }
  | { type: 'reset'; apply: boolean }
  | { type: 'nonJson'; status: number }
  | { type: 'latency'; ms: number };

export interface FaultRule {
  fault: Fault;
  symbol?: string;
  path?: string;
  method?: string;
  /** How many matching requests the rule hits; default 1; -1 (or Infinity) = forever. */
  times?: number;
}

export interface RecordedRequest {
  seq: number;
  /** Arrival time (simulator clock, ms, without skew). */
  at: number;
  method: string;
  path: string;
  /** Decoded parameters of the query string and the form body. */
  query: Record<string, string>;
  apiKey?: string;
  account?: string;
  /** HTTP status sent; 0 while pending or when no response was sent (timeout, reset). */
  status: number;
  code?: number;
  weight: number;
  /** Name of the fault applied to this request, if any. */
  fault?: Fault['type'];
}

export interface BinanceSimulator {
  url: string;
  port: number;
  injectFault(rule: FaultRule): void;
  clearFaults(): void;
  setClockSkewMs(ms: number): void;
  requests(): RecordedRequest[];
  leverageOf(account: string, symbol: string): number;
  setLeverage(account: string, symbol: string, leverage: number): void;
  setPosition(account: string, symbol: string, positionAmt: string): void;
  usedWeight(): number;
  reset(): void;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  /** 0 = a free port (default). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default: seed.json. */
  seed?: SimulatorSeed;
  /** Clock (ms since epoch) for server time and rate-limit windows; default Date.now. */
  now?: () => number;
}
