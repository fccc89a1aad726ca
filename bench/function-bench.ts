/**
 * The built function (dist/change-leverage/index.mjs) in fresh processes, against the simulator
 * and the in-process AWS fakes: bundle size, init compared with a bare-SDK bundle, CPU per
 * record, AWS requests per record, when the change reaches the exchange under a fixed AWS
 * latency (cold and warm), and the wall time of a batch of 10 symbols under 50 ms exchange
 * latency compared with a batch of one. Every measured record must end APPLIED, published, and
 * in the simulator.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BinanceSimulator } from '../local/binance-simulator/index.ts';
import { PAUSE_CACHE_MS } from '../functions/adapters/ssm/pause-switch.ts';
import { childPath, FUNCTION_BUNDLE, INIT_VARIANTS, OUT_DIR, SDK_ONLY_BUNDLE, variantPath } from './build.ts';
import { rotate } from './client-bench.ts';
import type { FakeAws } from './fake-aws.ts';
import type { BatchJob, BatchResult, InitResult, InvocationMeasure } from './protocol.ts';
import { analyseProfile, type ProfileSummary } from './profile.ts';
import { attribute, countByOperation, firstChangeAt, type ObservedInvocation, sequentialAwsCalls } from './round-trips.ts';
import { runChildProcess } from './spawn.ts';
import { type Spread, spread } from './stats.ts';

export const ACCOUNT = 'default';
export const SECRET_ID_TEMPLATE = 'leverage-guard/binance/{accountId}';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:leverage-guard-outcomes';
const STATE_TABLE = 'leverage-guard-state';
/** The operators' pause switch, as deployed; `false` = not paused. */
export const PAUSE_PARAMETER = '/leverage-guard/paused';
/** The simulator's ten symbols: one batch of ten distinct keys, all processed concurrently. */
export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'LINKUSDT', 'AVAXUSDT', 'LTCUSDT'];
export const EXCHANGE_LATENCY_MS = 50;
/**
 * The exchange's own latency while AWS latency is injected: small (Binance is a few ms from a
 * Lambda in its region), so the cold clock sync is a real round trip without hiding AWS calls.
 */
export const ROUND_TRIP_EXCHANGE_LATENCY_MS = 5;
/** Idle time after which a warm container reads the pause switch again. */
const PAUSE_EXPIRED_IDLE_MS = PAUSE_CACHE_MS + 500;
export const PROFILE_PATH = path.join(OUT_DIR, 'profile', 'warm-batches.cpuprofile');
/**
 * 200 µs: a warm batch of 10 takes tens of ms of CPU, so the default 1 ms gives few samples per
 * batch; finer sampling inflates the profiled CPU more (the shares are what the profile is for).
 */
const PROFILE_SAMPLING_US = 200;

/** Containers for the CPU measure; each runs the same batches, interleaved. */
const CPU_CONFIGS: Array<{ id: string; env: Record<string, string> }> = [
  { id: 'as-deployed', env: {} },
  { id: 'logs-silent', env: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  { id: 'no-state', env: { STATE_TABLE_NAME: '', PAUSE_PARAMETER: '' } },
];

export interface FunctionSettings {
  initRounds: number;
  cpuProcesses: number;
  warmBatchesPerProcess: number;
  latencyProcesses: number;
  latencyPairsPerProcess: number;
  /** Fresh containers for the round-trip measure (AWS latency injected). */
  roundTripProcesses: number;
  /** Fixed latency of every AWS call during the round-trip measure. */
  awsLatencyMs: number;
  /** Warm batches of 10 in the profiled container (0 = no profile). */
  profileBatches: number;
}

/** When the change reached the exchange, from the handler's call, in ms and in AWS latencies. */
export interface ChangeSent {
  ms: Spread;
  /** ms ÷ the injected AWS latency. */
  n: Spread;
  /** AWS calls answered one after another before the change (sequentialAwsCalls). */
  sequentialAwsCalls: Spread;
  /** Those calls in the invocation with the longest such chain, e.g. ["SSM GetParameter", "DynamoDB GetItem"]. */
  longestChain: string[];
}

export interface RoundTripSummary {
  awsLatencyMs: number;
  exchangeLatencyMs: number;
  /** First invocation of a fresh container: credentials not cached, clock not synced. */
  cold: ChangeSent;
  /** Later one-record invocations of the same containers. */
  warm: ChangeSent;
  /** One warm invocation after the pause switch's cache expired (one container per run). */
  warmPauseExpired: ChangeSent;
  /** How long that container sat idle before it. */
  pauseExpiredIdleMs: number;
  /** Cold, counted from the start of the bundle's import (init + first change). */
  coldFromInitMs: Spread;
  /** Warm batch of 10 under the same AWS latency: wall time of the invocation. */
  warmBatchMs: Spread;
}

/** Requests by "Service Operation" (AWS services and Binance). */
export type RequestCounts = Record<string, number>;

export interface InitSummary {
  id: string;
  label: string;
  bundleBytes: number;
  importMs: Spread;
  importCpuMs: Spread;
  /** Paired per round: this bundle's import minus the function's import in the same round. */
  importDeltaMs: Spread;
  /** The same for the CPU time of the import (steadier on a busy machine). */
  importCpuDeltaMs: Spread;
  /** Fresh process spawn to handler module loaded. */
  processToReadyMs: Spread;
  peakRssMiB: Spread;
  /** node:http / https / tls loaded by the import. */
  networkBuiltins: string[];
}

export interface FunctionSummary {
  init: {
    function: InitSummary;
    sdkOnly: InitSummary;
    variants: InitSummary[];
    /** Paired per round: the function's import ÷ the bare SDK bundle's. */
    ratioToSdk: Spread;
    /** The same for import CPU time. */
    cpuRatioToSdk: Spread;
  };
  /** CPU (user + system) per record, warm batches of 10, configured as deployed. */
  cpuPerRecordMs: Spread;
  /** The same with POWERTOOLS_LOG_LEVEL=SILENT: the difference is what logging costs. */
  cpuPerRecordLogsSilentMs: Spread;
  /** The same without state table and pause switch: the difference is what they cost. */
  cpuPerRecordNoStateMs: Spread;
  /** CPU per record of each container's first batch (credentials fetch, clock sync, connections). */
  firstBatchCpuPerRecordMs: Spread;
  /** Wall time of a warm batch of 10 without injected latency. */
  warmBatchWallMs: Spread;
  /** AWS and Binance requests per record, warm batches of 10 as deployed (median over batches). */
  requestsPerRecord: RequestCounts;
  /** Binance request weight per record, warm batches of 10 (median), and of a first batch. */
  exchangeWeightPerRecord: { warm: number; firstBatch: number };
  /** The same for a container's first batch of 10 (median over containers). */
  firstBatchRequestsPerRecord: RequestCounts;
  roundTrips: RoundTripSummary;
  /** Where a warm container's CPU goes, or why there is no profile. */
  profile: ProfileSummary | { skipped: string };
  latency: { singleMs: Spread; batchMs: Spread; ratio: Spread };
  /** Peak RSS (VmHWM) of the function containers. */
  peakRssMiB: Spread;
  /** getrusage maxRSS of the same containers, for comparison (inflated on Linux). */
  maxRssMiB: Spread;
  recordsVerified: number;
}

export async function benchFunction(
  simulator: BinanceSimulator,
  aws: FakeAws,
  settings: FunctionSettings,
  weightLimitPerMinute: number,
  progress: (line: string) => void,
): Promise<FunctionSummary> {
  const env = functionEnvFor(simulator, aws, weightLimitPerMinute);

  progress('  init: function bundle vs bare SDK bundle and leave-one-out variants');
  const bundles = [
    { id: 'function', label: 'change-leverage bundle', path: FUNCTION_BUNDLE },
    { id: 'sdk-only', label: 'bare SDK bundle (Secrets Manager + SNS clients)', path: SDK_ONLY_BUNDLE },
    ...INIT_VARIANTS.map((v) => ({ id: v.id, label: v.label, path: variantPath(v.id) })),
  ];
  const inits = new Map(bundles.map((b) => [b.id, [] as Array<{ result: InitResult; spawnedAt: number }>]));
  for (let round = 0; round < settings.initRounds; round++) {
    for (const bundle of rotate(bundles, round)) {
      inits.get(bundle.id)!.push(await runChildProcess<InitResult>(childPath('init'), { bundlePath: bundle.path }, env));
    }
  }
  const functionRuns = inits.get('function')!;
  const [fn, sdk, ...variants] = bundles.map((b): InitSummary => {
    const runs = inits.get(b.id)!;
    return {
      importDeltaMs: spread(runs.map((r, round) => r.result.importMs - functionRuns[round]!.result.importMs)),
      importCpuDeltaMs: spread(runs.map((r, round) => r.result.importCpuMs - functionRuns[round]!.result.importCpuMs)),
      id: b.id,
      label: b.label,
      bundleBytes: statSync(b.path).size,
      importMs: spread(runs.map((r) => r.result.importMs)),
      importCpuMs: spread(runs.map((r) => r.result.importCpuMs)),
      processToReadyMs: spread(runs.map((r) => r.result.readyAt - r.spawnedAt)),
      peakRssMiB: spread(runs.map((r) => r.result.rss.peakKiB / 1024)),
      networkBuiltins: runs[0]?.result.networkBuiltins ?? [],
    };
  }) as [InitSummary, InitSummary, ...InitSummary[]];

  const rss: number[] = [];
  const maxRss: number[] = [];
  let recordsVerified = 0;

  progress('  CPU per record: warm batches of 10, no injected latency (as deployed, logs silenced, no state table)');
  const cpu = new Map(CPU_CONFIGS.map((c) => [c.id, [] as number[]]));
  const firstCpu: number[] = [];
  const warmWall: number[] = [];
  const warmCounts: Array<Map<string, number>> = [];
  const firstCounts: Array<Map<string, number>> = [];
  const weight = { warm: [] as number[], firstBatch: [] as number[] };
  const weightPerRecord = (m: ObservedInvocation) => m.exchangeRequests.reduce((sum, r) => sum + r.weight, 0) / SYMBOLS.length;
  for (let p = 0; p < settings.cpuProcesses; p++) {
    for (const config of rotate(CPU_CONFIGS, p)) {
      const factory = new EventFactory();
      const invocations = [{ label: 'first', event: factory.batch(SYMBOLS) }];
      for (let i = 0; i < settings.warmBatchesPerProcess; i++) invocations.push({ label: 'warm', event: factory.batch(SYMBOLS) });
      const result = await runContainer(simulator, aws, factory, invocations, { ...env, ...config.env });
      recordsVerified += factory.records;
      for (const m of result.invocations) if (m.label === 'warm') cpu.get(config.id)!.push(cpuMs(m) / SYMBOLS.length);
      if (config.id !== 'as-deployed') continue;
      rss.push(result.rss.peakKiB / 1024);
      maxRss.push(result.rss.maxRssKiB / 1024);
      for (const m of result.invocations) {
        if (m.label === 'first') {
          firstCpu.push(cpuMs(m) / SYMBOLS.length);
          firstCounts.push(countByOperation(m));
          weight.firstBatch.push(weightPerRecord(m));
        } else {
          warmWall.push(m.wallMs);
          warmCounts.push(countByOperation(m));
          weight.warm.push(weightPerRecord(m));
        }
      }
    }
  }

  progress(`  batch of 10 vs one record, ${EXCHANGE_LATENCY_MS} ms exchange latency`);
  const single: number[] = [];
  const batch: number[] = [];
  const ratio: number[] = [];
  for (let p = 0; p < settings.latencyProcesses; p++) {
    const factory = new EventFactory();
    const invocations = [{ label: 'warm-up', event: factory.batch(SYMBOLS) }];
    for (let i = 0; i < settings.latencyPairsPerProcess; i++) {
      invocations.push({ label: 'single', event: factory.batch(SYMBOLS.slice(0, 1)) });
      invocations.push({ label: 'batch', event: factory.batch(SYMBOLS) });
    }
    const latency = { fault: { type: 'latency', ms: EXCHANGE_LATENCY_MS } as const, times: -1 };
    const result = await runContainer(simulator, aws, factory, invocations, env, () => simulator.injectFault(latency));
    recordsVerified += factory.records;
    rss.push(result.rss.peakKiB / 1024);
    maxRss.push(result.rss.maxRssKiB / 1024);
    const wall = (label: string) => result.invocations.filter((m) => m.label === label).map((m) => m.wallMs);
    single.push(...wall('single'));
    batch.push(...wall('batch'));
    ratio.push(spread(wall('batch')).median / spread(wall('single')).median);
  }

  progress(`  round trips before the change: ${settings.awsLatencyMs} ms on every AWS call, ${ROUND_TRIP_EXCHANGE_LATENCY_MS} ms on the exchange`);
  const roundTrips = await measureRoundTrips(simulator, aws, env, settings);
  recordsVerified += roundTrips.records;

  let profile: FunctionSummary['profile'] = { skipped: 'profileBatches is 0' };
  if (settings.profileBatches > 0) {
    progress(`  CPU profile of ${settings.profileBatches} warm batches of 10, as deployed`);
    profile = await profileWarmBatches(simulator, aws, env, settings.profileBatches);
    recordsVerified += (settings.profileBatches + 1) * SYMBOLS.length;
  }

  const sdkRuns = inits.get('sdk-only')!;
  const initRatio = spread(functionRuns.map((r, round) => r.result.importMs / sdkRuns[round]!.result.importMs));
  const initCpuRatio = spread(functionRuns.map((r, round) => r.result.importCpuMs / sdkRuns[round]!.result.importCpuMs));
  return {
    init: { function: fn, sdkOnly: sdk, variants, ratioToSdk: initRatio, cpuRatioToSdk: initCpuRatio },
    cpuPerRecordMs: spread(cpu.get('as-deployed')!),
    cpuPerRecordLogsSilentMs: spread(cpu.get('logs-silent')!),
    cpuPerRecordNoStateMs: spread(cpu.get('no-state')!),
    firstBatchCpuPerRecordMs: spread(firstCpu),
    warmBatchWallMs: spread(warmWall),
    requestsPerRecord: medianCounts(warmCounts, SYMBOLS.length),
    exchangeWeightPerRecord: { warm: spread(weight.warm).median, firstBatch: spread(weight.firstBatch).median },
    firstBatchRequestsPerRecord: medianCounts(firstCounts, SYMBOLS.length),
    roundTrips: roundTrips.summary,
    profile,
    latency: { singleMs: spread(single), batchMs: spread(batch), ratio: spread(ratio) },
    peakRssMiB: spread(rss),
    maxRssMiB: spread(maxRss),
    recordsVerified,
  };
}

function cpuMs(m: InvocationMeasure): number {
  return m.cpuUserMs + m.cpuSystemMs;
}

/**
 * A container as deployed, one first batch, then `batches` warm batches of 10 under the V8
 * profiler (warm ones only), then the profile's self time by category and by function.
 */
export async function profileWarmBatches(simulator: BinanceSimulator, aws: FakeAws, env: Record<string, string>, batches: number): Promise<ProfileSummary> {
  const factory = new EventFactory();
  const invocations = [{ label: 'first', event: factory.batch(SYMBOLS) }];
  for (let i = 0; i < batches; i++) invocations.push({ label: 'warm', event: factory.batch(SYMBOLS) });
  mkdirSync(path.dirname(PROFILE_PATH), { recursive: true });
  await runContainer(simulator, aws, factory, invocations, env, undefined, { label: 'warm', path: PROFILE_PATH, samplingIntervalUs: PROFILE_SAMPLING_US });
  return analyseProfile(PROFILE_PATH, FUNCTION_BUNDLE, batches * SYMBOLS.length);
}

/** Per operation, the median over invocations of its requests ÷ records per invocation. */
function medianCounts(counts: Array<Map<string, number>>, records: number): RequestCounts {
  const operations = [...new Set(counts.flatMap((c) => [...c.keys()]))].sort();
  return Object.fromEntries(operations.map((op) => [op, spread(counts.map((c) => (c.get(op) ?? 0) / records)).median]));
}

/**
 * Every AWS call answers after `awsLatencyMs`, the exchange after a few ms. In each fresh
 * container: one cold one-record invocation, warm one-record invocations, warm batches of 10;
 * in the last container also one invocation after the pause switch's cache has expired.
 */
async function measureRoundTrips(
  simulator: BinanceSimulator,
  aws: FakeAws,
  env: Record<string, string>,
  settings: FunctionSettings,
): Promise<{ summary: RoundTripSummary; records: number }> {
  const latency = settings.awsLatencyMs;
  const cold: ObservedInvocation[] = [];
  const warm: ObservedInvocation[] = [];
  const stale: ObservedInvocation[] = [];
  const coldFromInit: number[] = [];
  const warmBatch: number[] = [];
  let records = 0;
  aws.setLatencyMs(latency);
  try {
    for (let p = 0; p < settings.roundTripProcesses; p++) {
      const factory = new EventFactory();
      const invocations: BatchJob['invocations'] = [{ label: 'cold', event: factory.batch(SYMBOLS.slice(0, 1)) }];
      for (let i = 0; i < 3; i++) invocations.push({ label: 'warm', event: factory.batch(SYMBOLS.slice(i + 1, i + 2)) });
      for (let i = 0; i < 2; i++) invocations.push({ label: 'warm-batch', event: factory.batch(SYMBOLS) });
      if (p === settings.roundTripProcesses - 1) {
        invocations.push({ label: 'warm-pause-expired', event: factory.batch(SYMBOLS.slice(4, 5)), waitBeforeMs: PAUSE_EXPIRED_IDLE_MS });
      }
      const exchangeLatency = { fault: { type: 'latency', ms: ROUND_TRIP_EXCHANGE_LATENCY_MS } as const, times: -1 };
      const result = await runContainer(simulator, aws, factory, invocations, env, () => simulator.injectFault(exchangeLatency));
      records += factory.records;
      for (const m of result.invocations) {
        if (m.label === 'cold') {
          cold.push(m);
          coldFromInit.push(firstChangeAt(m) - result.importStartedAt);
        } else if (m.label === 'warm') warm.push(m);
        else if (m.label === 'warm-pause-expired') stale.push(m);
        else warmBatch.push(m.wallMs);
      }
    }
  } finally {
    aws.setLatencyMs(0);
  }
  const changeSent = (invocations: ObservedInvocation[]): ChangeSent => {
    const ms = invocations.map((m) => firstChangeAt(m) - m.startedAt);
    const chains = invocations.map((m) => sequentialAwsCalls(m.awsCalls, firstChangeAt(m)));
    const longest = chains.reduce((a, b) => (b.length > a.length ? b : a), []);
    return {
      ms: spread(ms),
      n: spread(ms.map((x) => x / latency)),
      sequentialAwsCalls: spread(chains.map((c) => c.length)),
      longestChain: longest.map((c) => `${c.service} ${c.operation}`),
    };
  };
  return {
    records,
    summary: {
      awsLatencyMs: latency,
      exchangeLatencyMs: ROUND_TRIP_EXCHANGE_LATENCY_MS,
      cold: changeSent(cold),
      warm: changeSent(warm),
      warmPauseExpired: changeSent(stale),
      pauseExpiredIdleMs: PAUSE_EXPIRED_IDLE_MS,
      coldFromInitMs: spread(coldFromInit),
      warmBatchMs: spread(warmBatch),
    },
  };
}

interface ContainerRun extends Omit<BatchResult, 'invocations'> {
  invocations: ObservedInvocation[];
}

/**
 * One fresh container: reset the exchange, run the invocations, check every record applied.
 * Each invocation comes back with the AWS and exchange requests that arrived while it ran.
 */
async function runContainer(
  simulator: BinanceSimulator,
  aws: FakeAws,
  factory: EventFactory,
  invocations: BatchJob['invocations'],
  env: Record<string, string>,
  prepare?: () => void,
  profile?: BatchJob['profile'],
): Promise<ContainerRun> {
  simulator.reset();
  prepare?.();
  aws.takePublished();
  aws.takeCalls();
  const job: BatchJob = { bundlePath: FUNCTION_BUNDLE, invocations, ...(profile ? { profile } : {}) };
  const { result } = await runChildProcess<BatchResult>(childPath('batch'), job, env);
  for (const m of result.invocations) {
    const failures = (m.response as { batchItemFailures?: unknown[] }).batchItemFailures;
    if (!Array.isArray(failures) || failures.length > 0) throw new Error(`${m.label} invocation handed records back: ${JSON.stringify(m.response)}`);
  }
  const outcomes = aws.takePublished().map((message) => JSON.parse(message) as { status: string; leverage?: number; requestedLeverage?: number });
  const isApplied = (o: (typeof outcomes)[number]) => o.status === 'APPLIED' && o.leverage === o.requestedLeverage;
  const applied = outcomes.filter(isApplied).length;
  if (applied !== factory.records || outcomes.length !== factory.records) {
    const other = outcomes.find((o) => !isApplied(o));
    throw new Error(`expected ${factory.records} APPLIED outcomes, got ${applied} of ${outcomes.length} published${other ? `; e.g. ${JSON.stringify(other).slice(0, 600)}` : ''}`);
  }
  if (env.STATE_TABLE_NAME) {
    const done = aws.dynamodb.items(STATE_TABLE).map((item) => (item.pk && 'S' in item.pk ? item.pk.S : ''));
    const unmarked = factory.eventIds.filter((id) => !done.some((pk) => pk.endsWith(`#${id}`)));
    if (unmarked.length > 0) throw new Error(`${unmarked.length} events have no completion marker in the state table, e.g. ${unmarked[0]}`);
  }
  for (const [symbol, leverage] of factory.lastLeverage) {
    const held = simulator.leverageOf(ACCOUNT, symbol);
    if (held !== leverage) throw new Error(`the simulator holds leverage ${held} for ${symbol}, expected ${leverage}`);
  }
  return { ...result, invocations: attribute(result.invocations, aws.takeCalls(), simulator.requests()) };
}

/** SQS events whose every record really changes its symbol's leverage (5 ⇄ 6). */
class EventFactory {
  readonly lastLeverage = new Map<string, number>();
  readonly eventIds: string[] = [];
  records = 0;
  /** Event ids must be unique across containers: the state table remembers completed events. */
  private readonly prefix = `bench-${randomUUID().slice(0, 8)}`;

  batch(symbols: string[]): SQSEvent {
    return { Records: symbols.map((symbol) => this.record(symbol)) };
  }

  private record(symbol: string): SQSRecord {
    const leverage = this.lastLeverage.get(symbol) === 5 ? 6 : 5;
    this.lastLeverage.set(symbol, leverage);
    this.records += 1;
    const id = `${this.prefix}-${this.records}`;
    this.eventIds.push(id);
    const issuedAt = new Date().toISOString();
    return {
      messageId: id,
      receiptHandle: `receipt-${id}`,
      body: JSON.stringify({ eventId: id, accountId: ACCOUNT, symbol, leverage, issuedAt, reason: 'benchmark' }),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'BENCH',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:leverage-guard-events',
      awsRegion: 'us-east-1',
    };
  }
}

export function functionEnvFor(simulator: BinanceSimulator, aws: FakeAws, weightLimitPerMinute: number): Record<string, string> {
  return { ...functionEnv(simulator.url, aws.endpoint), BINANCE_WEIGHT_LIMIT: String(weightLimitPerMinute) };
}

function functionEnv(simulatorUrl: string, awsEndpoint: string): Record<string, string> {
  return {
    BINANCE_SECRET_ID: SECRET_ID_TEMPLATE,
    RESULT_TOPIC_ARN: TOPIC_ARN,
    BINANCE_PAPI_URL: simulatorUrl,
    BINANCE_TIME_URL: `${simulatorUrl}/fapi/v1/time`,
    // As deployed (infra/functions.yml): ordering/idempotency state in DynamoDB, pause switch in SSM.
    STATE_TABLE_NAME: STATE_TABLE,
    PAUSE_PARAMETER,
    POWERTOOLS_SERVICE_NAME: 'leverage-guard',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL: awsEndpoint,
    AWS_LAMBDA_FUNCTION_NAME: 'change-leverage',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  };
}
