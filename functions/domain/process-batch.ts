/**
 * Delivery semantics, the part that must never be wrong:
 * - every record ends either acknowledged with its outcomes published, or handed back for retry;
 *   nothing is acknowledged unless its outcomes were published;
 * - a retryable failure publishes nothing, except on the record's final attempt, when a FAILED
 *   outcome is published and the record is still handed back so it lands in the DLQ;
 * - records touching the same account+symbol (or the same FIFO message group) run one after
 *   another in arrival order, and once one of them is handed back the later ones are handed back
 *   too (applying them now would let the retried, older command undo them later); records with
 *   nothing in common run concurrently;
 * - an event for several symbols gets one outcome per symbol; a failure on one symbol does not stop
 *   the others, and with a state store only the failed symbols are redone on redelivery.
 */
import { asGuardError, type ErrorCode, type GuardError, RetryableError, SkipDecision } from './errors.ts';
import { type ExecutionDeps, executeTarget, resolveTargets, type TargetVerdict, verdictForError } from './change-leverage.ts';
import { invalidEventOutcome, type Outcome, type OutcomeContext, type OutcomeStatus, outcomeOf, type Trigger, type Verdict } from './outcome.ts';
import { checkFreshness, type Policy } from './policy.ts';
import { parseJsonBody, type RiskCommand, type Target, type Validation, validateRiskEvent } from './risk-event.ts';
import { type Lanes, Sequencer } from './sequencer.ts';
import { canStartWork, CHECK_RESERVE_MS, endingEarlier, RESPONSE_RESERVE_MS, WORK_RESERVE_MS } from './time-budget.ts';
import type { CredentialStore, Deadline, Exchange, Log, OutcomePublisher, PauseSwitch, StateStore } from './ports.ts';

export interface InboundRecord {
  /** SQS messageId, EventBridge event id or Lambda request id: the fallback eventId. */
  recordId: string;
  trigger: Trigger;
  /** SQS bodies arrive as text; EventBridge details and direct events arrive decoded. */
  body: { text: string } | { value: unknown };
  /** The last delivery before the DLQ: a retryable failure now ends as a FAILED outcome. */
  finalAttempt: boolean;
  /** FIFO MessageGroupId: records of one group keep their order. */
  orderingGroup?: string;
}

export type Disposition = 'acknowledge' | 'retry';

export interface RecordResult {
  recordId: string;
  eventId: string;
  disposition: Disposition;
  /** The outcomes published for this record, in order. */
  outcomes: { symbol?: string; status: OutcomeStatus; code?: ErrorCode }[];
  /** Why the record was handed back, when it was. */
  error?: GuardError;
}

export interface BatchDeps {
  exchange: Exchange;
  credentials: CredentialStore;
  publisher: OutcomePublisher;
  state?: StateStore;
  pause?: PauseSwitch;
  policy: Policy;
  deadline: Deadline;
  logFor(eventId: string): Log;
  now(): number;
  /** Below this much time left, a record is handed back before it starts rather than cut off mid-way. */
  minimumTimeToStartMs: number;
}

/** Targets of one event run concurrently, at most this many at a time. */
const TARGET_CONCURRENCY = 10;

export async function processBatch(records: InboundRecord[], deps: BatchDeps): Promise<RecordResult[]> {
  const paused = await pauseReason(deps);
  // Not while paused: then nothing may reach the exchange. Overlaps the credential reads.
  if (!paused) deps.exchange.prepare?.(endingEarlier(deps.deadline, WORK_RESERVE_MS));
  const sequencer = new Sequencer();
  return Promise.all(
    records.map((record) => {
      const startedAt = deps.now();
      const validation = decode(record);
      if (!validation.ok) {
        const reject = () => rejectInvalid(record, invalidEventOutcome(validation.partial, validation.message, context(record, startedAt, deps)), deps);
        if (!record.orderingGroup) return reject();
        // Even an invalid record keeps its place in a FIFO group.
        const group = [groupLane(record.orderingGroup)];
        return sequencer.run(
          { waitFor: group, occupy: group },
          (blocked) => (blocked && !record.finalAttempt ? handBackUnread(record, heldBehindEarlierFailure()) : reject()),
          (result) => result.disposition === 'retry',
        );
      }
      const command = validation.command;
      return sequencer.run(
        lanesOf(record, command, sequencer),
        (blocked) => processCommand(record, command, deps, paused ?? (blocked ? heldBehindEarlierFailure() : undefined)),
        (result) => result.disposition === 'retry',
      );
    }),
  );
}

/** Never throws: whatever the input does to the validator, it ends as this record's rejection, not the batch's crash. */
function decode(record: InboundRecord): Validation {
  try {
    if ('value' in record.body) return validateRiskEvent(record.body.value);
    const parsed = parseJsonBody(record.body.text);
    return parsed.ok ? validateRiskEvent(parsed.value) : { ok: false, message: parsed.message, partial: {} };
  } catch (error) {
    return { ok: false, message: `event could not be validated (${asGuardError(error).message})`, partial: {} };
  }
}

/** The operators' switch is read once per invocation; if it cannot be read, we stay paused. */
async function pauseReason(deps: BatchDeps): Promise<GuardError | undefined> {
  if (!deps.pause) return undefined;
  try {
    return (await deps.pause.isPaused(endingEarlier(deps.deadline, WORK_RESERVE_MS))) ? new RetryableError('PAUSED', 'leverage-guard is paused by its operators') : undefined;
  } catch (error) {
    return new RetryableError('PAUSE_SWITCH_UNAVAILABLE', `the pause switch could not be read (${asGuardError(error).message})`);
  }
}

function lanesOf(record: InboundRecord, command: RiskCommand, sequencer: Sequencer): Lanes {
  const accountLane = `account\u0000${command.accountId}`;
  const keyPrefix = `key\u0000${command.accountId}\u0000`;
  const groupLanes = record.orderingGroup ? [groupLane(record.orderingGroup)] : [];
  if (command.scope.kind === 'all-open-positions') {
    // Touches symbols not known yet: wait for everything earlier on the account.
    return { waitFor: [accountLane, ...sequencer.knownLanes(keyPrefix), ...groupLanes], occupy: [accountLane, ...groupLanes] };
  }
  const keyLanes = command.scope.targets.map((target) => keyPrefix + target.symbol);
  return { waitFor: [accountLane, ...keyLanes, ...groupLanes], occupy: [...keyLanes, ...groupLanes] };
}

async function processCommand(record: InboundRecord, command: RiskCommand, deps: BatchDeps, held: GuardError | undefined): Promise<RecordResult> {
  const startedAt = deps.now();
  const log = deps.logFor(command.eventId);
  const report = (targets: (Target | undefined)[], verdicts: TargetVerdict[]) =>
    settle(record, command, targets, verdicts, startedAt, deps, log);
  const known = knownTargets(command);
  // Work stops early enough to publish FAILED outcomes and respond (time-budget.ts).
  const deadline = endingEarlier(deps.deadline, WORK_RESERVE_MS);

  const blocker =
    held ??
    (!canStartWork(deps.deadline.remainingMs(), deps.minimumTimeToStartMs)
      ? new RetryableError('TIME_BUDGET_EXHAUSTED', 'not enough invocation time left to start this event')
      : undefined);
  if (blocker) return report(known, known.map(() => ({ status: 'RETRY', error: blocker })));

  const executionDeps: ExecutionDeps = { ...deps, log, deadline };
  let targets: Target[];
  let credentials;
  try {
    checkFreshness(command.issuedAt, deps.now(), deps.policy.maxEventAgeMs);
    credentials = await deps.credentials.forAccount(command.accountId, deadline);
    targets = await resolveTargets(command, credentials, executionDeps);
  } catch (thrown) {
    const verdict = verdictForError(thrown);
    return report(known, known.map(() => verdict));
  }
  if (targets.length === 0) {
    return report([undefined], [{ status: 'SKIPPED', error: new SkipDecision('NO_OPEN_POSITIONS', 'the account has no open positions') }]);
  }
  const verdicts = await mapWithConcurrency(targets, TARGET_CONCURRENCY, (target) =>
    executeTarget(command, target, credentials, executionDeps),
  );
  return report(targets, verdicts);
}

/** The symbols known before talking to the exchange; `undefined` stands for "the whole event". */
function knownTargets(command: RiskCommand): (Target | undefined)[] {
  return command.scope.kind === 'targets' ? command.scope.targets : [undefined];
}

/**
 * Publishes each decided target's outcome (and remembers it as completed); hands the record back
 * if any target must be retried or its outcome could not be published. On the final attempt the
 * targets still pending get a FAILED outcome first, so the DLQ entry is never silent.
 */
async function settle(
  record: InboundRecord,
  command: RiskCommand,
  targets: (Target | undefined)[],
  verdicts: TargetVerdict[],
  startedAt: number,
  deps: BatchDeps,
  log: Log,
): Promise<RecordResult> {
  const outcomeFor = (target: Target | undefined, verdict: Verdict) =>
    outcomeOf(command, target, verdict, context(record, startedAt, deps));
  const published: RecordResult['outcomes'] = [];
  // `decided`: the outcome is known but could not be published; it must never be replaced by a
  // FAILED one (the change may have happened), so it only goes back for another publish attempt.
  const pending: { target: Target | undefined; error: GuardError; decided: boolean }[] = [];

  for (const [index, target] of targets.entries()) {
    const verdict = verdicts[index];
    if (verdict === undefined) continue;
    if (verdict.status === 'RETRY') {
      pending.push({ target, error: verdict.error, decided: false });
      continue;
    }
    const publishError = await publish(outcomeFor(target, verdict), deps, log);
    if (publishError) {
      pending.push({ target, error: publishError, decided: true });
      continue;
    }
    published.push({ symbol: target?.symbol, status: verdict.status, code: 'error' in verdict ? verdict.error.code : undefined });
    if (target) await markCompleted(command, target, deps, log);
  }

  const result: RecordResult = { recordId: record.recordId, eventId: command.eventId, disposition: 'acknowledge', outcomes: published };
  if (pending.length === 0) return result;
  for (const { target, error, decided } of pending) {
    log.warn('transient failure; handing the record back', { symbol: target?.symbol, code: error.code, detail: error.message, finalAttempt: record.finalAttempt });
    if (!record.finalAttempt || decided || (await completedEarlier(command, target, deps))) continue;
    if (!(await publish(outcomeFor(target, { status: 'FAILED', error }), deps, log))) {
      published.push({ symbol: target?.symbol, status: 'FAILED', code: error.code });
    }
  }
  return { ...result, disposition: 'retry', error: pending[0]!.error };
}

/**
 * A record blocked as a whole (paused, held behind an earlier one, out of time) may hold targets
 * that completed on an earlier delivery; they already have their outcome. If the state store
 * cannot say, FAILED is published: a duplicate is better than silence.
 */
async function completedEarlier(command: RiskCommand, target: Target | undefined, deps: BatchDeps): Promise<boolean> {
  if (!target || !deps.state) return false;
  return deps.state
    .isCompleted({ eventId: command.eventId, accountId: command.accountId, symbol: target.symbol }, endingEarlier(deps.deadline, CHECK_RESERVE_MS))
    .catch(() => false);
}

/** Best effort: the outcome is already out; a missing marker only risks a duplicate on redelivery. */
async function markCompleted(command: RiskCommand, target: Target, deps: BatchDeps, log: Log): Promise<void> {
  try {
    await deps.state?.markCompleted({ eventId: command.eventId, accountId: command.accountId, symbol: target.symbol }, endingEarlier(deps.deadline, CHECK_RESERVE_MS));
  } catch (error) {
    log.warn('could not record the event as completed', { symbol: target.symbol, detail: asGuardError(error).message });
  }
}

function groupLane(group: string): string {
  return `group\u0000${group}`;
}

/** A record handed back before it was even decoded: nothing to report yet. */
async function handBackUnread(record: InboundRecord, error: GuardError): Promise<RecordResult> {
  return { recordId: record.recordId, eventId: record.recordId, disposition: 'retry', outcomes: [], error };
}

/** An invalid event's outcome: acknowledged once published. */
async function rejectInvalid(record: InboundRecord, outcome: Outcome, deps: BatchDeps): Promise<RecordResult> {
  const result: RecordResult = { recordId: record.recordId, eventId: outcome.eventId, disposition: 'acknowledge', outcomes: [] };
  const error = await publish(outcome, deps);
  if (error) return { ...result, disposition: 'retry', error };
  return { ...result, outcomes: [{ status: outcome.status, code: outcome.error?.code }] };
}

/** Returns the error instead of throwing: a failed publish means "hand back", never "acknowledge". */
async function publish(outcome: Outcome, deps: BatchDeps, log: Log = deps.logFor(outcome.eventId)): Promise<GuardError | undefined> {
  try {
    await deps.publisher.publish(outcome, endingEarlier(deps.deadline, RESPONSE_RESERVE_MS));
    log.info('outcome published', { symbol: outcome.symbol, status: outcome.status, code: outcome.error?.code });
    return undefined;
  } catch (thrown) {
    const error = asGuardError(thrown);
    log.error('outcome could not be published', { symbol: outcome.symbol, status: outcome.status, code: error.code, detail: error.message });
    return error;
  }
}

function heldBehindEarlierFailure(): RetryableError {
  return new RetryableError('EARLIER_EVENT_PENDING', 'an earlier event for the same account and symbol (or FIFO group) in this batch was handed back; this one keeps its place behind it');
}

async function mapWithConcurrency<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function context(record: InboundRecord, startedAt: number, deps: BatchDeps): OutcomeContext {
  return { recordId: record.recordId, trigger: record.trigger, startedAt, now: deps.now() };
}
