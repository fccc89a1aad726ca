/**
 * What the benchmark orchestrator and its child processes say to each other. A child reads its
 * job as JSON from argv[2] and ends by printing one line `RESULT_MARKER <json>` on stdout (the
 * function's own log lines may surround it).
 */
export const RESULT_MARKER = '@@bench-result@@';

export interface Credentials {
  apiKey: string;
  apiSecret: string;
}

/** One exchange-client contender process: one cold change, then warm sequential and concurrent calls. */
export interface ClientJob {
  simulatorUrl: string;
  credentials: Credentials;
  symbol: string;
  /** ccxt's unified symbol for `symbol` (e.g. BTC/USDT:USDT). */
  unifiedSymbol: string;
  /** Calls alternate between these two leverages, so every call really changes the state. */
  leverages: [number, number];
  warmupCalls: number;
  sequentialCalls: number;
  concurrentCalls: number;
  inFlight: number;
  /** The simulator's request-weight limit per minute (clients that pace themselves are told it). */
  weightLimitPerMinute: number;
  /** Leverage of the last call of the process, checked by the orchestrator in the simulator. */
  finalLeverage: number;
}

export interface ClientResult {
  /** Epoch ms (high resolution) when the contender's modules were loaded and its body started. */
  modulesLoadedAt: number;
  /** Epoch ms (high resolution) when the first change was confirmed. */
  coldConfirmedAt: number;
  sequentialP50Ms: number;
  sequentialP99Ms: number;
  /** CPU time (user + system) of the client process per sequential call, microseconds. */
  cpuPerCallUs: number;
  /** The user-mode part of cpuPerCallUs (the rest is the kernel: sockets, loopback delivery). */
  userCpuPerCallUs: number;
  throughputPerSec: number;
  /** CPU time of the client process per call while `inFlight` calls run at once, microseconds. */
  concurrentCpuPerCallUs: number;
  /** Every call the process made and saw confirmed. */
  confirmedCalls: number;
  rss: RssReport;
}

/** Import of a Lambda bundle in a fresh process (the init phase). */
export interface InitJob {
  bundlePath: string;
}

export interface InitResult {
  /** Epoch ms (high resolution) when the import finished. */
  readyAt: number;
  importMs: number;
  /** CPU time (user + system) of the process during the import: less sensitive to a busy machine. */
  importCpuMs: number;
  /** Which of node:http, node:https, node:tls and Node's internal undici the import loaded. */
  networkBuiltins: string[];
  rss: RssReport;
}

/** The function's handler in a fresh process, invoked with prepared events. */
export interface BatchJob {
  bundlePath: string;
  /** Invoked in order; each entry is one invocation. */
  invocations: Array<{ label: string; event: unknown; /** idle time of the container before this invocation */ waitBeforeMs?: number }>;
  /**
   * Write a V8 CPU profile (.cpuprofile, as `node --cpu-prof` writes) covering only the
   * invocations with this label, e.g. the warm ones, to `profile.path`.
   */
  profile?: { label: string; path: string; samplingIntervalUs: number };
}

export interface InvocationMeasure {
  label: string;
  /** Epoch ms (high resolution) just before the handler was called, and when it returned. */
  startedAt: number;
  endedAt: number;
  wallMs: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  response: unknown;
}

export interface BatchResult {
  /** Epoch ms (high resolution) when the bundle's import (the Lambda init) started. */
  importStartedAt: number;
  importMs: number;
  invocations: InvocationMeasure[];
  rss: RssReport;
}

export interface RssReport {
  /** The process's own peak RSS (VmHWM on Linux). */
  peakKiB: number;
  /** process.resourceUsage().maxRSS, which on Linux includes the spawning process's RSS. */
  maxRssKiB: number;
}

export interface ChildFailure {
  error: string;
}
