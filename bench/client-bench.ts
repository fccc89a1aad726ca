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
}

export interface ClientSummary {
  contender: ClientContender;
  runs: number;
  errors: string[];
  coldMs?: Spread;
  /** Spawn → the contender's modules loaded (node start-up + imports). */
  loadMs?: Spread;
  /** Modules loaded → first change confirmed (client set-up + first request, incl. connect). */
  firstCallMs?: Spread;
  cpuPerCallUs?: Spread;
  /** CPU of the orchestrating process (the simulator, mostly) per request it served. */
  simulatorCpuUs?: Spread;
  p50Ms?: Spread;
  p99Ms?: Spread;
  throughput?: Spread;
  maxRssMiB?: Spread;
}

const ACCOUNT = 'default';
const SYMBOL = 'BTCUSDT';
const UNIFIED_SYMBOL = 'BTC/USDT:USDT';
const LEVERAGES: [number, number] = [10, 11];
const FINAL_LEVERAGE = 12;
const LEVERAGE_PATH = '/papi/v1/um/leverage';

export async function benchClients(
  simulator: BinanceSimulator,
  credentials: Credentials,
  contenders: ClientContender[],
  settings: ClientSettings,
  progress: (line: string) => void,
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
  };
  const expectedCalls = 1 + settings.warmupCalls + settings.sequentialCalls + settings.concurrentCalls + 1;
  const samples = new Map(contenders.map((c) => [c.id, { ok: [] as Array<{ cold: number; spawnedAt: number; simulatorCpuUs: number; run: ClientResult }>, errors: [] as string[] }]));

  for (let round = 0; round < settings.rounds; round++) {
    for (const contender of rotate(contenders, round)) {
      const entry = samples.get(contender.id)!;
      simulator.reset();
      try {
        const cpuBefore = process.cpuUsage();
        const { result, spawnedAt } = await runChildProcess<ClientResult>(childPath(contender.script), job);
        const cpu = process.cpuUsage(cpuBefore);
        const requests = verify(simulator, result, expectedCalls);
        const simulatorCpuUs = (cpu.user + cpu.system) / requests;
        entry.ok.push({ cold: result.coldConfirmedAt - spawnedAt, spawnedAt, simulatorCpuUs, run: result });
        progress(`  ${contender.id} round ${round + 1}: cold ${(result.coldConfirmedAt - spawnedAt).toFixed(0)} ms, p50 ${result.sequentialP50Ms.toFixed(3)} ms, ${result.cpuPerCallUs.toFixed(0)} µs CPU/call, ${result.throughputPerSec.toFixed(0)}/s`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        entry.errors.push(message);
        progress(`  ${contender.id} round ${round + 1}: FAILED ${message.slice(0, 200)}`);
      }
    }
  }

  return contenders.map((contender) => {
    const { ok, errors } = samples.get(contender.id)!;
    const summary: ClientSummary = { contender, runs: ok.length, errors };
    if (ok.length === 0) return summary;
    return {
      ...summary,
      coldMs: spread(ok.map((s) => s.cold)),
      loadMs: spread(ok.map((s) => s.run.modulesLoadedAt - s.spawnedAt)),
      firstCallMs: spread(ok.map((s) => s.run.coldConfirmedAt - s.run.modulesLoadedAt)),
      cpuPerCallUs: spread(ok.map((s) => s.run.cpuPerCallUs)),
      simulatorCpuUs: spread(ok.map((s) => s.simulatorCpuUs)),
      p50Ms: spread(ok.map((s) => s.run.sequentialP50Ms)),
      p99Ms: spread(ok.map((s) => s.run.sequentialP99Ms)),
      throughput: spread(ok.map((s) => s.run.throughputPerSec)),
      maxRssMiB: spread(ok.map((s) => s.run.maxRssKiB / 1024)),
    };
  });
}

/**
 * The child's word is not enough: the simulator must have applied exactly those changes.
 * Returns how many requests the simulator served in all.
 */
function verify(simulator: BinanceSimulator, result: ClientResult, expectedCalls: number): number {
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
