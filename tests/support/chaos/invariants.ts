/**
 * "Nothing is ever lost": the invariants every chaos run must satisfy, whatever failed.
 * The unit is a target: one symbol of one event (an event with `targets` has several; an invalid
 * event has one, `*`), since the outcome contract is one outcome per event and symbol.
 * Each check returns human-readable violations (empty = fine), naming the message and invocation.
 */
import type { Outcome } from '../../../functions/domain/outcome.ts';
import type { PublishedOutcome } from './aws-fakes.ts';
import { type ChaosTrace, keyOf, type SentMessage } from './run-scenario.ts';
import type { IntendedTarget } from './scenario.ts';
import { completionMarkerFailed } from './state-fakes.ts';

/** Outcomes that end a target for good. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['APPLIED', 'REJECTED', 'SKIPPED', 'DRY_RUN']);
/** Outcomes that say this target changed nothing at the exchange. */
const NOTHING_CHANGED: ReadonlySet<string> = new Set(['REJECTED', 'SKIPPED', 'DRY_RUN']);

export function checkInvariants(trace: ChaosTrace): string[] {
  const index = indexTrace(trace);
  return [
    ...checkDrained(trace),
    ...checkOneOutcomeEach(trace, index),
    ...checkOutcomeContents(index),
    ...checkInvocations(trace, index),
    ...checkExchangeOrder(trace, index),
    ...checkFinalLeverage(trace, index),
    ...(trace.logMismatch ? [`exchange log: ${trace.logMismatch}`] : []),
  ];
}

/** One symbol of one event. */
interface Unit {
  message: SentMessage;
  /** `*` for an invalid event. */
  symbol: string;
  target?: IntendedTarget;
  outcomes: PublishedOutcome[];
}

interface TraceIndex {
  byId: Map<string, SentMessage>;
  units: Unit[];
  unitsOf: Map<string, Unit[]>;
  /** Outcomes no target accounts for (unknown eventId, or a symbol the event did not name). */
  strays: PublishedOutcome[];
  /** The target each exchange write came from (leverages are unique per key, see planMessages). */
  writers: (Unit | undefined)[];
  dlq: Set<string>;
  deleted: Set<string>;
}

function indexTrace(trace: ChaosTrace): TraceIndex {
  const byId = new Map(trace.messages.map((m) => [m.messageId, m]));
  const units: Unit[] = [];
  const unitsOf = new Map<string, Unit[]>();
  const byOutcomeKey = new Map<string, Unit>();
  for (const message of trace.messages) {
    const list = message.command
      ? message.command.targets.map((target) => ({ message, symbol: target.symbol, target, outcomes: [] }))
      : [{ message, symbol: '*', outcomes: [] }];
    units.push(...list);
    unitsOf.set(message.messageId, list);
    for (const unit of list) {
      for (const id of idsOf(message)) byOutcomeKey.set(`${id} ${unit.symbol}`, unit);
    }
  }
  const strays: PublishedOutcome[] = [];
  for (const published of trace.published) {
    const { eventId, symbol } = published.outcome;
    const unit = byOutcomeKey.get(`${eventId} ${symbol}`) ?? byOutcomeKey.get(`${eventId} *`);
    if (unit === undefined) strays.push(published);
    else unit.outcomes.push(published);
  }
  const writers = trace.writes.map((w) =>
    units.find((u) => u.target && keyOf(u.message.command!.accountId, u.symbol) === keyOf(w.account, w.symbol) && u.target.leverage === w.leverage),
  );
  return { byId, units, unitsOf, strays, writers, dlq: new Set(trace.dlq), deleted: new Set(trace.deleted) };
}

const describeMessage = (m: SentMessage) => {
  if (!m.command) return `${m.messageId} (${m.eventId ?? 'no eventId'} invalid:${m.invalid})`;
  const { accountId, targets, mode, dryRun } = m.command;
  const flags = `${mode === 'reduce-only' ? ' reduce-only' : ''}${dryRun ? ' dry-run' : ''}`;
  return `${m.messageId} (${m.eventId} ${accountId} ${targets.map((t) => `${t.symbol} ×${t.leverage}`).join(' + ')}${flags})`;
};
const label = (u: Unit) => (u.target && u.message.command!.targets.length > 1 ? `${describeMessage(u.message)}[${u.symbol}]` : describeMessage(u.message));
const statuses = (list: PublishedOutcome[]) => list.map((p) => `${p.outcome.status}@inv${p.invocation}`).join(', ') || 'none';

function checkDrained(trace: ChaosTrace): string[] {
  return trace.undrained.length > 0 ? [`queue did not drain: ${trace.undrained.join(', ')} still queued`] : [];
}

/**
 * Deleted record: each target exactly one terminal outcome. Record in the DLQ: each target exactly
 * one outcome, FAILED or (decided on an earlier receive) terminal; none only if SNS refused that
 * target's outcome on the final receive.
 * Documented trade-off (functions/domain/process-batch.ts, markCompleted): when the state store
 * cannot record a target as completed, a redelivery decides it again, so a target whose
 * markCompleted failed may have repeated terminal outcomes (and a FAILED last, in the DLQ).
 */
function checkOneOutcomeEach(trace: ChaosTrace, index: TraceIndex): string[] {
  const violations = index.strays.map((p) => `outcome for no target: ${p.outcome.eventId} ${p.outcome.symbol ?? ''} ${p.outcome.status}@inv${p.invocation}`);
  for (const m of trace.messages) {
    if (index.deleted.has(m.messageId) && index.dlq.has(m.messageId)) violations.push(`${describeMessage(m)} both deleted and dead-lettered`);
  }
  for (const unit of index.units) {
    const { message, outcomes } = unit;
    const repeatsAllowed = message.command !== undefined && completionMarkerFailed(trace.stateFailures, message.command.accountId, unit.symbol, message.eventId);
    const terminal = outcomes.filter((p) => TERMINAL_STATUSES.has(p.outcome.status));
    if (index.deleted.has(message.messageId)) {
      const ok = terminal.length === outcomes.length && (outcomes.length === 1 || (repeatsAllowed && outcomes.length > 1));
      if (!ok) violations.push(`${label(unit)} deleted with outcomes [${statuses(outcomes)}], expected exactly one terminal outcome`);
    } else if (index.dlq.has(message.messageId)) {
      const lastReceive = lastInvocationOf(trace, message.messageId);
      const refusedOnLast = trace.refused.some((r) => r.invocation === lastReceive && idsOf(message).includes(r.eventId));
      const failedLastOnly = outcomes.slice(0, -1).every((p) => TERMINAL_STATUSES.has(p.outcome.status));
      const ok = outcomes.length === 1 || (outcomes.length === 0 && refusedOnLast) || (repeatsAllowed && outcomes.length > 1 && failedLastOnly);
      if (!ok) violations.push(`${label(unit)} dead-lettered with outcomes [${statuses(outcomes)}], expected exactly one (FAILED unless decided earlier)`);
    }
  }
  return violations;
}

function checkOutcomeContents(index: TraceIndex): string[] {
  const violations: string[] = [];
  for (const unit of index.units) {
    for (const { outcome, attributes, invocation } of unit.outcomes) {
      const problem = outcomeProblem(unit, outcome) ?? (attributes.status === outcome.status ? undefined : `status attribute ${attributes.status}`);
      if (problem) violations.push(`${label(unit)} outcome ${outcome.status}@inv${invocation}: ${problem} — ${JSON.stringify(outcome)}`);
    }
  }
  return violations;
}

function outcomeProblem(unit: Unit, outcome: Outcome): string | undefined {
  const { message, target } = unit;
  if (outcome.trigger !== 'sqs') return `trigger ${outcome.trigger}`;
  if (!message.command || !target) {
    if (outcome.status !== 'REJECTED' || outcome.error?.code !== 'INVALID_EVENT') return 'an invalid event must be REJECTED with INVALID_EVENT';
    if (!outcome.error.message) return 'INVALID_EVENT without a message';
    return undefined;
  }
  const { accountId, dryRun } = message.command;
  if (outcome.accountId !== accountId || outcome.symbol !== target.symbol || outcome.requestedLeverage !== target.leverage) return 'identity does not match the target';
  if ((outcome.status === 'APPLIED' || outcome.status === 'DRY_RUN') && outcome.leverage !== target.leverage) return `${outcome.status} with leverage ${outcome.leverage}`;
  if (outcome.status === 'APPLIED' && dryRun) return 'APPLIED for a dry run';
  if (outcome.status === 'DRY_RUN' && !dryRun) return 'DRY_RUN for an event that is not one';
  if (outcome.status === 'FAILED' && outcome.error?.retryable !== true) return 'FAILED must be retryable';
  if ((outcome.status === 'REJECTED' || outcome.status === 'SKIPPED') && (outcome.error?.retryable !== false || outcome.error.code === 'INVALID_EVENT')) {
    return `${outcome.status} valid event needs a permanent, non-INVALID_EVENT error`;
  }
  return undefined;
}

/**
 * Per invocation: a record is acknowledged only once every target's outcome is out; a record
 * handed back before its final receive published no FAILED outcome (and, with a single target,
 * nothing at all); on its final receive, at most one outcome per target.
 */
function checkInvocations(trace: ChaosTrace, index: TraceIndex): string[] {
  const violations: string[] = [];
  const max = trace.scenario.maxReceiveCount;
  for (const inv of trace.invocations) {
    if (inv.result === undefined || inv.settlement === undefined) continue;
    if ('threw' in inv.result) violations.push(`inv${inv.index}: the SQS invocation threw ${String(inv.result.threw)}`);
    if (inv.settlement.wholeBatchKept) violations.push(`inv${inv.index}: whole batch kept: ${inv.settlement.wholeBatchKept}`);
    const inBatch = new Set(inv.batch.map((b) => b.messageId));
    for (const unit of index.units) {
      if (!inBatch.has(unit.message.messageId) && unit.outcomes.some((p) => p.invocation === inv.index)) {
        violations.push(`inv${inv.index}: outcome for ${label(unit)}, which was not in the batch`);
      }
    }
    for (const { messageId, receiveCount } of inv.batch) {
      const units = index.unitsOf.get(messageId)!;
      const deleted = inv.settlement.deleted.includes(messageId);
      for (const unit of units) {
        const here = unit.outcomes.filter((p) => p.invocation === inv.index);
        const upToHere = unit.outcomes.filter((p) => p.invocation <= inv.index);
        if (deleted) {
          if (upToHere.length === 0) violations.push(`inv${inv.index}: ${label(unit)} acknowledged before its outcome was published`);
        } else if (receiveCount < max) {
          if (units.length === 1 ? here.length > 0 : here.some((p) => p.outcome.status === 'FAILED')) {
            violations.push(`inv${inv.index}: ${label(unit)} handed back (receive ${receiveCount}/${max}) after publishing [${statuses(here)}]`);
          }
        } else if (here.length > 1) {
          violations.push(`inv${inv.index}: ${label(unit)} handed back on its final receive after publishing [${statuses(here)}]`);
        }
      }
    }
  }
  return violations;
}

/**
 * Per account+symbol, the changes that reached the exchange follow arrival order (which is also
 * issuedAt order): a re-sent event may repeat, but never after a newer one of its key was applied.
 */
function checkExchangeOrder(trace: ChaosTrace, index: TraceIndex): string[] {
  const violations: string[] = [];
  const newest = new Map<string, Unit>();
  for (const [n, write] of trace.writes.entries()) {
    const key = keyOf(write.account, write.symbol);
    const author = index.writers[n];
    if (author === undefined) {
      violations.push(`write #${n} ${key} ×${write.leverage} matches no target of that key`);
      continue;
    }
    const latest = newest.get(key);
    if (latest !== undefined && author.message.seq < latest.message.seq) {
      violations.push(`write #${n}: ${label(author)} reached the exchange after the newer ${label(latest)}`);
    } else {
      newest.set(key, author);
    }
  }
  return violations;
}

/**
 * REJECTED, SKIPPED and DRY_RUN mean the change never reached the exchange (SKIPPED SUPERSEDED may
 * follow this event's own earlier change, as long as a newer event's change did replace it); the
 * final leverage of each key is what its last APPLIED target asked for, unless a later target whose
 * outcome is FAILED (or missing: SNS refused it on the final receive) got through.
 */
function checkFinalLeverage(trace: ChaosTrace, index: TraceIndex): string[] {
  const violations: string[] = [];
  const writers = new Set(index.writers.filter((u) => u !== undefined));
  const replacedByNewer = (unit: Unit) => {
    const last = index.writers.lastIndexOf(unit);
    return index.writers.some((w, n) => n > last && w !== undefined && w.symbol === unit.symbol && w.message.command!.accountId === unit.message.command!.accountId && w.message.seq > unit.message.seq);
  };
  for (const unit of writers) {
    for (const { outcome } of unit.outcomes) {
      if (!NOTHING_CHANGED.has(outcome.status)) continue;
      if (outcome.error?.code === 'SUPERSEDED' && replacedByNewer(unit)) continue;
      violations.push(`${label(unit)} ended ${outcome.status} (${outcome.error?.code ?? ''}) but its change reached the exchange`);
    }
  }
  for (const [key, final] of trace.finalLeverage) {
    const ofKey = index.units.filter((u) => u.target && keyOf(u.message.command!.accountId, u.symbol) === key);
    const lastApplied = ofKey.findLast((u) => u.outcomes.some((p) => p.outcome.status === 'APPLIED'));
    const laterWriters = ofKey.filter((u) => writers.has(u) && (lastApplied === undefined || u.message.seq > lastApplied.message.seq));
    for (const unit of laterWriters) {
      if (unit.outcomes.some((p) => TERMINAL_STATUSES.has(p.outcome.status))) {
        violations.push(`${key}: ${label(unit)} changed the exchange after the last APPLIED target but ended [${statuses(unit.outcomes)}]`);
      }
    }
    if (laterWriters.length > 0) continue;
    const expected = lastApplied?.target?.leverage ?? trace.initialLeverage.get(key);
    if (final !== expected) {
      violations.push(`${key}: final leverage ${final}, expected ${expected} (${lastApplied ? `last APPLIED ${label(lastApplied)}` : 'initial, nothing applied'})`);
    }
  }
  return violations;
}

function idsOf(m: SentMessage): string[] {
  return m.eventId === undefined ? [m.messageId] : [m.eventId, m.messageId];
}

function lastInvocationOf(trace: ChaosTrace, messageId: string): number | undefined {
  return trace.invocations.findLast((inv) => inv.batch.some((b) => b.messageId === messageId))?.index;
}

/** A compact account of a run, for failure messages. */
export function describeTrace(trace: ChaosTrace): string {
  const { scenario } = trace;
  const setup = scenario.stateStore ? `state store, ${scenario.queueMode}${scenario.queueMode === 'standard' ? ` (invisible ${scenario.visibilityRounds})` : ''}` : 'no state store, fifo';
  const lines = [`maxReceiveCount ${scenario.maxReceiveCount}, batch ${scenario.batchSize}, ${setup}, ${trace.messages.length} messages:`];
  for (const m of trace.messages) lines.push(`  ${describeMessage(m)}${m.command?.issuedAt ? ` issued ${m.command.issuedAt}` : ''}`);
  for (const inv of trace.invocations) {
    const result = inv.result === undefined ? '' : 'threw' in inv.result ? ` threw ${String(inv.result.threw)}` : ` kept [${inv.settlement?.kept.join(', ')}]`;
    lines.push(`inv${inv.index}: [${inv.batch.map((b) => `${b.messageId}#${b.receiveCount}`).join(', ')}]${inv.deadLettered.length ? ` dlq+[${inv.deadLettered.join(', ')}]` : ''}${result}`);
  }
  for (const p of trace.published) {
    const { eventId, symbol, status, error } = p.outcome;
    lines.push(`published inv${p.invocation} ${eventId} ${symbol ?? ''} ${status}${error ? ` ${error.code}: ${error.message}` : ''}`);
  }
  for (const r of trace.refused) lines.push(`SNS refused inv${r.invocation} ${r.eventId}`);
  for (const f of trace.stateFailures) lines.push(`DynamoDB failed inv${f.invocation} ${f.operation} ${f.pk} (${f.when})`);
  lines.push(`writes: ${trace.writes.map((w) => `${w.account} ${w.symbol} ×${w.leverage}`).join(' | ') || 'none'}`);
  return lines.join('\n');
}
