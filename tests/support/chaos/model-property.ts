/**
 * The model-based concurrency property, shared by the CI suite (tests/chaos/model-concurrency.test.ts,
 * fixed seed) and the long runner (scripts/chaos-long.ts --model): for any scenario and any
 * interleaving fast-check's scheduler picks, the run satisfies the invariants in model-invariants.ts.
 */
import fc from 'fast-check';
import { checkModelInvariants, describeModelTrace, MODEL_INVARIANTS, type ModelInvariant } from './model-invariants.ts';
import { runModelScenario } from './model-run.ts';
import type { ContainerMutation } from './model-world.ts';
import { type ModelLimits, modelScenario } from './model-scenario.ts';

export class ModelInvariantViolation extends Error {
  constructor(violations: { invariant: string; message: string }[], account: string) {
    super(`${violations.length} invariant violation(s):\n- ${violations.map((v) => `[${v.invariant}] ${v.message}`).join('\n- ')}\n\nrun:\n${account}`);
    this.name = 'ModelInvariantViolation';
  }
}

export interface ModelPropertyOptions {
  limits?: ModelLimits;
  /** Check only these invariants (all by default), e.g. to find a counterexample per invariant. */
  invariants?: readonly ModelInvariant[];
  /** Test hook: break every container on purpose (model-invariants-bite.test.ts). */
  mutation?: ContainerMutation;
}

export function modelConcurrencyProperty(options: ModelPropertyOptions = {}) {
  return fc.asyncProperty(modelScenario(options.limits), fc.scheduler(), async (scenario, scheduler) => {
    const trace = await runModelScenario(scenario, scheduler, options.mutation);
    const violations = checkModelInvariants(trace, options.invariants ?? MODEL_INVARIANTS);
    if (violations.length > 0) throw new ModelInvariantViolation(violations, describeModelTrace(trace));
  });
}
