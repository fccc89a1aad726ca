/**
 * The built function (dist/change-leverage/index.mjs) in fresh processes, against the simulator
 * and the in-process AWS fakes: bundle size, init compared with a bare-SDK bundle, CPU per
 * record, and the wall time of a batch of 10 symbols under 50 ms exchange latency compared with
 * a batch of one. Every measured record must end APPLIED, published, and in the simulator.
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BinanceSimulator } from '../local/binance-simulator/index.ts';
import { childPath, FUNCTION_BUNDLE, INIT_VARIANTS, SDK_ONLY_BUNDLE, variantPath } from './build.ts';
import { rotate } from './client-bench.ts';
import type { FakeAws } from './fake-aws.ts';
import type { BatchJob, BatchResult, InitResult, InvocationMeasure } from './protocol.ts';
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
}

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
  const env = { ...functionEnv(simulator.url, aws.endpoint), BINANCE_WEIGHT_LIMIT: String(weightLimitPerMinute) };

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
        if (m.label === 'first') firstCpu.push(cpuMs(m) / SYMBOLS.length);
        else warmWall.push(m.wallMs);
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
    latency: { singleMs: spread(single), batchMs: spread(batch), ratio: spread(ratio) },
    peakRssMiB: spread(rss),
    maxRssMiB: spread(maxRss),
    recordsVerified,
  };
}

function cpuMs(m: InvocationMeasure): number {
  return m.cpuUserMs + m.cpuSystemMs;
}

/** One fresh container: reset the exchange, run the invocations, check every record applied. */
async function runContainer(
  simulator: BinanceSimulator,
  aws: FakeAws,
  factory: EventFactory,
  invocations: BatchJob['invocations'],
  env: Record<string, string>,
  prepare?: () => void,
): Promise<BatchResult> {
  simulator.reset();
  prepare?.();
  aws.takePublished();
  const { result } = await runChildProcess<BatchResult>(childPath('batch'), { bundlePath: FUNCTION_BUNDLE, invocations } satisfies BatchJob, env);
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
  return result;
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
