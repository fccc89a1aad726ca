/**
 * Ground truth of what reached the exchange: every leverage change the simulator applied, in the
 * order it applied them. The request log only shows changes that were answered 200; a fault with
 * `apply: true` (unknownStatus, timeout, reset) changes the leverage behind an error, and those are
 * exactly the changes ordering bugs hide behind. So this wraps the simulator state's single write
 * path (SimulatorState.setLeverage, reached by POST /papi/v1/um/leverage, faulted or not).
 * Tests never call sim.setLeverage while recording (it would be recorded too).
 */
import { type Account, SimulatorState } from '../../../local/binance-simulator/state.ts';
import type { BinanceSimulator } from '../../../local/binance-simulator/index.ts';

export interface LeverageWrite {
  account: string;
  symbol: string;
  leverage: number;
  /** The invocation running when it happened, as the recorder was told. */
  invocation?: number;
}

interface Recorder {
  writes: LeverageWrite[];
  invocation?: number;
}

const recorders = new Set<Recorder>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = SimulatorState.prototype.setLeverage;
  SimulatorState.prototype.setLeverage = function setLeverage(this: SimulatorState, account: Account, symbol: string, leverage: number) {
    original.call(this, account, symbol, leverage);
    for (const recorder of recorders) {
      recorder.writes.push({ account: account.name, symbol, leverage, ...(recorder.invocation === undefined ? {} : { invocation: recorder.invocation }) });
    }
  };
}

/** Starts recording writes into `writes`, each tagged with `invocation` as set at the time; `stop()` ends it. */
export function recordLeverageWrites(): Recorder & { stop(): void } {
  install();
  const recorder: Recorder = { writes: [] };
  recorders.add(recorder);
  return Object.assign(recorder, { stop: () => void recorders.delete(recorder) });
}

/**
 * The request log agrees with the recorded writes: per account+symbol, every POST the simulator
 * answered 200 appears among the writes, in the same relative order (per key only: a delayed
 * request of one key may land after a later request of another). Catches a recorder that
 * silently stopped working.
 */
export function checkWritesAgainstLog(sim: BinanceSimulator, writes: LeverageWrite[]): string | undefined {
  const key = (account: string | undefined, symbol: string | undefined) => `${account} ${symbol}`;
  const cursors = new Map<string, number>();
  for (const request of sim.requests()) {
    if (request.method !== 'POST' || request.path !== '/papi/v1/um/leverage' || request.status !== 200) continue;
    const leverage = Number(request.query.leverage);
    const k = key(request.account, request.query.symbol);
    const from = cursors.get(k) ?? 0;
    const match = writes.findIndex((w, index) => index >= from && key(w.account, w.symbol) === k && w.leverage === leverage);
    if (match < 0) return `POST #${request.seq} (${k} ${leverage}) was answered 200 but no matching write was recorded`;
    cursors.set(k, match + 1);
  }
  return undefined;
}
