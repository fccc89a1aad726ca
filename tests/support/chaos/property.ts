/**
 * The chaos property, shared by the CI suite (tests/chaos, fixed seed, few runs) and the long
 * runner (scripts/chaos-long.ts, random seed, many runs): for any scenario, the run satisfies
 * every invariant in invariants.ts.
 */
import fc from 'fast-check';
import type { BinanceSimulator } from '../../../local/binance-simulator/index.ts';
import { checkInvariants, describeTrace } from './invariants.ts';
import { type ChaosEnvironment, runChaosScenario } from './run-scenario.ts';
import { chaosScenario, type ScenarioLimits } from './scenario.ts';

/** Short, so a timeout or a hung socket costs little; the client never sends below 200 ms of budget. */
export const CHAOS_REQUEST_TIMEOUT_MS = 250;

export class InvariantViolation extends Error {
  constructor(violations: string[], account: string) {
    super(`${violations.length} invariant violation(s):\n- ${violations.join('\n- ')}\n\nrun:\n${account}`);
    this.name = 'InvariantViolation';
  }
}

export interface PropertyOptions {
  limits?: ScenarioLimits;
  env?: Partial<ChaosEnvironment>;
}

export function nothingIsLostProperty(sim: BinanceSimulator, options: PropertyOptions = {}) {
  return fc.asyncProperty(chaosScenario(options.limits), async (scenario) => {
    const trace = await runChaosScenario({ sim, requestTimeoutMs: CHAOS_REQUEST_TIMEOUT_MS, ...options.env }, scenario);
    const violations = checkInvariants(trace);
    if (violations.length > 0) throw new InvariantViolation(violations, describeTrace(trace));
  });
}
