// Fault scripting: rules are matched in the order injected; `times` counts down (-1 or
// Infinity = forever); a rule that reaches 0 is removed.
import type { Fault, FaultRule } from './types.ts';

const FAULT_TYPES: ReadonlySet<string> = new Set<Fault['type']>([
  'rateLimit', 'ban', 'internalError', 'serviceUnavailable', 'unknownStatus',
  'throttled', 'timeout', 'reset', 'nonJson', 'latency',
]);

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export interface FaultTarget {
  method: string;
  path: string;
  symbol?: string;
}

export class FaultQueue {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): void {
    validateRule(rule);
    const times = rule.times ?? 1;
    this.rules.push({ rule, remaining: times < 0 ? Infinity : times });
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault for this request, if any rule matches; consumes one use of that rule. */
  take(target: FaultTarget): Fault | undefined {
    const index = this.rules.findIndex(({ rule }) => matches(rule, target));
    const active = this.rules[index];
    if (active === undefined) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) this.rules.splice(index, 1);
    return active.rule.fault;
  }

  pending(): FaultRule[] {
    return this.rules.map(({ rule, remaining }) => ({ ...rule, times: remaining === Infinity ? -1 : remaining }));
  }
}

function matches(rule: FaultRule, target: FaultTarget): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== target.method) return false;
  if (rule.path !== undefined && rule.path !== target.path) return false;
  if (rule.symbol !== undefined && rule.symbol !== target.symbol) return false;
  return true;
}

/** Throws on a malformed rule (used for rules coming over the control API). */
export function validateRule(rule: unknown): asserts rule is FaultRule {
  if (typeof rule !== 'object' || rule === null) throw new Error('fault rule must be an object');
  const { fault, times } = rule as { fault?: unknown; times?: unknown };
  if (typeof fault !== 'object' || fault === null) throw new Error('fault rule needs a "fault" object');
  const type = (fault as { type?: unknown }).type;
  if (typeof type !== 'string' || !FAULT_TYPES.has(type)) throw new Error(`unknown fault type ${String(type)}`);
  if (times !== undefined && (typeof times !== 'number' || Number.isNaN(times) || times === 0)) {
    throw new Error('"times" must be a positive number or -1');
  }
}
