/**
 * Exchange clients side by side: each contender in its own fresh process per round, contenders
 * interleaved (the order rotates every round), one simulator, state reset before every process.
 * A run counts only if every call came back confirmed and the simulator agrees.
 */
import type { BinanceSimulator } from '../local/binance-simulator/index.ts';
import { type ChildScript, childPath } from './build.ts';
import type { ClientJob, ClientResult, Credentials } from './protocol.ts';
import { runChildProcess } from './spawn.ts';
import { type Spread, spread } from './stats.ts';

export interface ClientContender {
  id: string;
  label: string;
  script: ChildScript;
}

export interface ClientSettings {
  rounds: number;
  warmupCalls: number;
  sequentialCalls: number;
  concurrentCalls: number;
  inFlight: number;
  /** Extra processes per contender that only make the cold change (cold numbers are the noisiest). */
  coldOnlyRounds: number;
}

/** One contender process's measures. */
export interface ClientSample {
  round: number;
  coldMs: number;
  /** Spawn → the contender's modules loaded (node start-up + imports). */
  loadMs: number;
  /** Modules loaded → first change confirmed (client set-up + first request, incl. connect). */
  firstCallMs: number;
  p50Ms: number;
  p99Ms: number;
  cpuPerCallUs: number;
  userCpuPerCallUs: number;
  concurrentCpuPerCallUs: number;
  /** CPU of the orchestrating process (the simulator, mostly) per request it served. */
  simulatorCpuUs: number;
  /** Requests the process sent besides its leverage changes (clock sync, market data, …). */
  otherRequests: number;
  throughput: number;
  /** Peak RSS of the process (VmHWM), MiB. */
  peakRssMiB: number;
  /** getrusage maxRSS, MiB: inflated by the orchestrator's RSS on Linux (see children/io.ts). */
  maxRssMiB: number;
}

export type ClientMeasure = Exclude<keyof ClientSample, 'round'>;

export interface ClientSummary {
  contender: ClientContender;
  /** Full processes: cold change, then warm calls. */
  samples: ClientSample[];
  /** Processes that only made the cold change. */
  coldSamples: ClientSample[];
  errors: string[];
}

const COLD_MEASURES: ReadonlySet<ClientMeasure> = new Set(['coldMs', 'loadMs', 'firstCallMs']);

/** Cold measures come from every process (full and cold-only); the others from full processes. */
function samplesFor(summary: ClientSummary, name: ClientMeasure): ClientSample[] {
  return COLD_MEASURES.has(name) ? [...summary.samples, ...summary.coldSamples] : summary.samples;
}

/** Spread of one measure over a contender's processes (undefined when every run failed). */
export function measure(summary: ClientSummary | undefined, name: ClientMeasure): Spread | undefined {
  const samples = summary ? samplesFor(summary, name) : [];
  return samples.length > 0 ? spread(samples.map((s) => s[name])) : undefined;
}

/**
 * a ÷ b per round (the two ran minutes apart at most, on the same machine state), then the spread
 * of those ratios: steadier on a noisy machine than a ratio of two medians.
 */
export function pairedRatio(a: ClientSummary | undefined, b: ClientSummary | undefined, name: ClientMeasure): Spread | undefined {
  if (!a || !b) return undefined;
  const others = samplesFor(b, name);
  const ratios = samplesFor(a, name).flatMap((x) => {
    const y = others.find((s) => s.round === x.round);
    return y ? [x[name] / y[name]] : [];
  });
  return ratios.length > 0 ? spread(ratios) : undefined;
}

const ACCOUNT = 'default';
const SYMBOL = 'BTCUSDT';
const UNIFIED_SYMBOL = 'BTC/USDT:USDT';
const LEVERAGES: [number, number] = [10, 11];
const FINAL_LEVERAGE = 12;
const LEVERAGE_PATH = '/papi/v1/um/leverage';

/** What the comparison needs of a simulator (the plain one, or the TLS front in tls.ts). */
export type SimulatorView = Pick<BinanceSimulator, 'url' | 'reset' | 'requests' | 'leverageOf'>;

/** @param env extra environment of every contender process (e.g. the TLS trust anchor) */
export async function benchClients(
  simulator: SimulatorView,
  weightLimitPerMinute: number,
  credentials: Credentials,
  contenders: ClientContender[],
  settings: ClientSettings,
  progress: (line: string) => void,
  env: Record<string, string> = {},
): Promise<ClientSummary[]> {
  const job: ClientJob = {
    simulatorUrl: simulator.url,
    credentials,
    symbol: SYMBOL,
    unifiedSymbol: UNIFIED_SYMBOL,
    leverages: LEVERAGES,
    warmupCalls: settings.warmupCalls,
    sequentialCalls: settings.sequentialCalls,
    concurrentCalls: settings.concurrentCalls,
    inFlight: settings.inFlight,
    finalLeverage: FINAL_LEVERAGE,
    weightLimitPerMinute,
  };
  const expectedCalls = 1 + settings.warmupCalls + settings.sequentialCalls + settings.concurrentCalls + 1;
  const coldJob: ClientJob = { ...job, warmupCalls: 0, sequentialCalls: 0, concurrentCalls: 0 };
  const summaries = contenders.map((contender): ClientSummary => ({ contender, samples: [], coldSamples: [], errors: [] }));

  // Cold-only rounds are numbered after the full ones, so pairing never mixes the two kinds.
  for (let round = 0; round < settings.rounds + settings.coldOnlyRounds; round++) {
    const coldOnly = round >= settings.rounds;
    for (const summary of rotate(summaries, round)) {
      const { id, script } = summary.contender;
      simulator.reset();
      try {
        const cpuBefore = process.cpuUsage();
        const { result: r, spawnedAt } = await runChildProcess<ClientResult>(childPath(script), coldOnly ? coldJob : job, env);
        const cpu = process.cpuUsage(cpuBefore);
        const requests = verify(simulator, r, coldOnly ? 2 : expectedCalls);
        const otherRequests = requests - (coldOnly ? 2 : expectedCalls);
        const sample: ClientSample = {
          round,
          coldMs: r.coldConfirmedAt - spawnedAt,
          loadMs: r.modulesLoadedAt - spawnedAt,
          firstCallMs: r.coldConfirmedAt - r.modulesLoadedAt,
          p50Ms: r.sequentialP50Ms,
          p99Ms: r.sequentialP99Ms,
          cpuPerCallUs: r.cpuPerCallUs,
          userCpuPerCallUs: r.userCpuPerCallUs,
          concurrentCpuPerCallUs: r.concurrentCpuPerCallUs,
          simulatorCpuUs: (cpu.user + cpu.system) / requests,
          otherRequests,
          throughput: r.throughputPerSec,
          peakRssMiB: r.rss.peakKiB / 1024,
          maxRssMiB: r.rss.maxRssKiB / 1024,
        };
        if (coldOnly) {
          summary.coldSamples.push(sample);
          continue;
        }
        summary.samples.push(sample);
        progress(
          `  ${id} round ${round + 1}: cold ${sample.coldMs.toFixed(0)} ms, p50 ${sample.p50Ms.toFixed(3)} ms at ${sample.cpuPerCallUs.toFixed(0)} µs CPU/call, ` +
            `${sample.throughput.toFixed(0)}/s at ${sample.concurrentCpuPerCallUs.toFixed(0)} µs CPU/call`,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        summary.errors.push(message);
        progress(`  ${id} round ${round + 1}: FAILED ${message.slice(0, 200)}`);
      }
    }
  }
  return summaries;
}

/**
 * The child's word is not enough: the simulator must have applied exactly those changes.
 * Returns how many requests the simulator served in all.
 */
function verify(simulator: SimulatorView, result: ClientResult, expectedCalls: number): number {
  if (result.confirmedCalls !== expectedCalls) {
    throw new Error(`the child confirmed ${result.confirmedCalls} changes, expected ${expectedCalls}`);
  }
  const requests = simulator.requests();
  const applied = requests.filter((r) => r.method === 'POST' && r.path === LEVERAGE_PATH && r.status === 200).length;
  if (applied !== expectedCalls) throw new Error(`the simulator applied ${applied} leverage changes, expected ${expectedCalls}`);
  const leverage = simulator.leverageOf(ACCOUNT, SYMBOL);
  if (leverage !== FINAL_LEVERAGE) throw new Error(`the simulator holds leverage ${leverage} for ${SYMBOL}, expected ${FINAL_LEVERAGE}`);
  return requests.length;
}

export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
