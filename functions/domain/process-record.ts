/**
 * One record's work, as the batch (process-batch.ts) hands it over: a valid command against the
 * exchange, target by target, then its outcomes published, claims released and decisions recorded
 * (settle); or an invalid event's rejection. The batch decides when a record runs (decode, pause,
 * lanes); this module decides what it ends as. The steps an async-failure report shares with it
 * (decode, publish, earlier decisions) live here too, so async-failure.ts calls the same code.
 */
import { asGuardError, ExecutionUnknownError, type GuardError, RetryableError, SkipDecision } from './errors.ts';
import { accountExchange, claimEndFor, type ExecutionDeps, executeTarget, type HeldClaim, resolveTargets, type TargetWork, verdictForError } from './change-leverage.ts';
import { type Outcome, type OutcomeContext, outcomeOf, type Verdict } from './outcome.ts';
import { checkNotFromFuture } from './policy.ts';
import type { BatchDeps, InboundRecord, RecordResult } from './process-batch.ts';
import { commandFingerprint, parseJsonBody, type RiskCommand, type Target, type Validation, validateRiskEvent } from './risk-event.ts';
import { canStartWork, CHECK_RESERVE_MS, endingEarlier, RESPONSE_RESERVE_MS, WORK_RESERVE_MS } from './time-budget.ts';
import type { EarlierDecision, Log, TargetRef } from './ports.ts';

/** Targets of one event run concurrently, at most this many at a time. */
const TARGET_CONCURRENCY = 10;

/**
 * A decoded command's work. `held`: why the batch will not let it run (behind a record handed
 * back); its targets are then handed back like any retryable failure. `paused`: the pause
 * switch's answer, still being read while the targets are claimed; awaited before the exchange.
 */
export async function processCommand(
  record: InboundRecord,
  command: RiskCommand,
  deps: BatchDeps,
  held: GuardError | undefined,
  paused: Promise<GuardError | undefined>,
): Promise<RecordResult> {
  const startedAt = deps.now();
  const log = deps.logFor(command.eventId);
  const report = (targets: (Target | undefined)[], works: TargetWork[]) => settle(record, command, targets, works, startedAt, deps, log);
  const known = knownTargets(command);
  // Work stops early enough to publish FAILED outcomes and respond (time-budget.ts).
  const deadline = endingEarlier(deps.deadline, WORK_RESERVE_MS);

  // Behind a record handed back while paused, the pause is the reason to report.
  const blocker = held
    ? ((await paused) ?? held)
    : (!canStartWork(deps.deadline.remainingMs(), deps.minimumTimeToStartMs)
      ? new RetryableError('TIME_BUDGET_EXHAUSTED', 'not enough invocation time left to start this event')
      : undefined);
  if (blocker) return report(known, known.map(() => ({ verdict: { status: 'RETRY', error: blocker } })));

  const cleared = async () => {
    const reason = await paused;
    if (reason) throw reason;
  };
  const executionDeps: ExecutionDeps = { ...deps, log, deadline, cleared };
  // Fetched (or found cached) while the targets are claimed; a failure surfaces at first use.
  const credentials = deps.credentials.forAccount(command.accountId, deadline);
  credentials.catch(() => undefined);
  const account = accountExchange(command.accountId, executionDeps, credentials);
  let targets: Target[];
  try {
    // Named targets check this after their earlier decisions (a redelivery must not decide again);
    // open positions are not read for an event that could never apply.
    if (command.scope.kind === 'all-open-positions') {
      await cleared();
      checkNotFromFuture(command.issuedAtMs, deps.now());
    }
    targets = await resolveTargets(command, account);
  } catch (thrown) {
    const verdict = verdictForError(thrown);
    return report(known, known.map(() => ({ verdict })));
  }
  if (targets.length === 0) {
    return report([undefined], [{ verdict: { status: 'SKIPPED', error: new SkipDecision('NO_OPEN_POSITIONS', 'the account has no open positions') } }]);
  }
  const works = await mapWithConcurrency(targets, TARGET_CONCURRENCY, (target) =>
    executeTarget(command, target, account, executionDeps, record.attempt > 1),
  );
  return report(targets, works);
}

/** The symbols known before talking to the exchange; `undefined` stands for "the whole event". */
export function knownTargets(command: RiskCommand): (Target | undefined)[] {
  return command.scope.kind === 'targets' ? command.scope.targets : [undefined];
}

/**
 * Publishes each decided target's outcome, then releases its claim and records the decision
 * (published, or still owed, so a redelivery republishes the same verdict instead of deciding
 * again); hands the record back if any target must be retried or its outcome could not be
 * published. On the final attempt the targets still pending get their outcome first (an owed
 * earlier verdict, else FAILED), so the DLQ entry is never silent.
 */
async function settle(
  record: InboundRecord,
  command: RiskCommand,
  targets: (Target | undefined)[],
  works: TargetWork[],
  startedAt: number,
  deps: BatchDeps,
  log: Log,
): Promise<RecordResult> {
  const outcomeFor = (target: Target | undefined, verdict: Verdict) =>
    outcomeOf(command, target, verdict, outcomeContext(record, startedAt, deps));
  const refOf = (target: Target | undefined) => targetRef(command, target);
  const published: RecordResult['outcomes'] = [];
  // `decided`: the outcome is known but could not be published; it must never be replaced by a
  // FAILED one (the change may have happened), so it only goes back for another publish attempt.
  type Pending = { target: Target | undefined; error: GuardError; decided: boolean; earlier?: EarlierDecision };
  /** `recorded`: `earlier` (the decision is already recorded as owed), or `never` (it is another command's). */
  const publishAndRecord = async (target: Target | undefined, verdict: Verdict, claim: HeldClaim | undefined, recorded?: 'earlier' | 'never') => {
    const publishError = await publish(outcomeFor(target, verdict), deps, log);
    if (!publishError) published.push({ symbol: target?.symbol, status: verdict.status, code: 'error' in verdict ? verdict.error.code : undefined });
    const ref = refOf(target);
    // FAILED is never recorded: a redriven event must be tried again, and may then end otherwise.
    const decided = ref && target && verdict.status !== 'FAILED' && recorded !== 'never' && !(publishError && recorded === 'earlier');
    const decision: EarlierDecision | undefined = decided
      ? { ...(publishError ? { published: false as const, verdict } : { published: true as const, status: verdict.status }), command: commandFingerprint(command, target) }
      : undefined;
    // With a claim, the decision is recorded by its release, in the same write.
    if (claim) await releaseClaim(claim, verdict, decision, target, deps, log);
    else if (ref && decision) await recordDecision(ref, decision, deps, log);
    return publishError;
  };

  // The targets settle together, so that their outcomes share PublishBatch requests (adapters/sns).
  const settled = await Promise.all(
    targets.map(async (target, index): Promise<Pending | undefined> => {
      const { verdict, claim, earlier, unrecorded } = works[index]!;
      if (verdict.status === 'ALREADY_PUBLISHED') return undefined;
      if (verdict.status === 'RETRY') {
        await releaseClaim(claim, verdict, undefined, target, deps, log);
        return { target, error: verdict.error, decided: false, earlier };
      }
      const publishError = await publishAndRecord(target, verdict, claim, unrecorded ? 'never' : earlier ? 'earlier' : undefined);
      return publishError && { target, error: publishError, decided: true };
    }),
  );
  const pending = settled.filter((entry): entry is Pending => entry !== undefined);

  const result: RecordResult = { recordId: record.recordId, eventId: command.eventId, disposition: 'acknowledge', outcomes: published };
  if (pending.length === 0) return result;
  for (const { target, error, decided, earlier: known } of pending) {
    log.warn('transient failure; handing the record back', { symbol: target?.symbol, code: error.code, detail: error.message, finalAttempt: record.finalAttempt });
    if (!record.finalAttempt || decided) continue;
    // A record blocked as a whole (paused, held, out of time) may hold targets decided on an
    // earlier delivery: their own verdict is the truthful outcome, not FAILED. Its claim may
    // already have said so; otherwise it is asked now.
    const { earlier, ownInFlight } = known ? { earlier: known, ownInFlight: false } : await lastWordOf(command, target, deps);
    if (earlier?.published) continue;
    await publishAndRecord(target, earlier ? earlier.verdict : { status: 'FAILED', error: ownInFlight ? fateUnknown(error) : error }, undefined, earlier ? 'earlier' : undefined);
  }
  return { ...result, disposition: 'retry', error: pending[0]!.error };
}

/** `undefined` for an outcome about the whole event (no symbol known). */
function targetRef(command: RiskCommand, target: Target | undefined): TargetRef | undefined {
  return target && { eventId: command.eventId, accountId: command.accountId, symbol: target.symbol };
}

/**
 * What is known of a target a last receive (or an async-failure report) cannot act on, in one
 * request: what an earlier delivery of this very command decided (another command's decision
 * under the same eventId is not its outcome), and whether its own change is in flight. If the
 * state store cannot say, FAILED is published: it may follow an earlier APPLIED (README, Known
 * limitations), but silence would be worse.
 */
export async function lastWordOf(command: RiskCommand, target: Target | undefined, deps: BatchDeps): Promise<{ earlier?: EarlierDecision; ownInFlight?: boolean }> {
  const ref = targetRef(command, target);
  if (!ref || !target || !deps.state) return {};
  const { earlier, ownInFlight } = (await deps.state.history(ref, endingEarlier(deps.deadline, CHECK_RESERVE_MS)).catch(() => undefined)) ?? {};
  const ours = earlier && (earlier.command === undefined || earlier.command === commandFingerprint(command, target)) ? earlier : undefined;
  return { ...(ours ? { earlier: ours } : {}), ...(ownInFlight ? { ownInFlight } : {}) };
}

/** A last receive that could not act, while its own change from an earlier delivery may be in force: its FAILED says so. */
export function fateUnknown(blocked: GuardError): ExecutionUnknownError {
  return new ExecutionUnknownError('EXECUTION_UNKNOWN', `an earlier delivery's change may have executed (the key is still in flight for it), and this last delivery could not find out (${blocked.code}: ${blocked.message})`);
}

/**
 * Best effort: the outcome is already out (or handed back). A missing "published" marker only
 * risks a duplicate on redelivery; a missing "owed" verdict means a redelivery decides again.
 */
async function recordDecision(ref: TargetRef, decision: EarlierDecision, deps: BatchDeps, log: Log): Promise<void> {
  try {
    await deps.state?.recordDecision(ref, decision, endingEarlier(deps.deadline, CHECK_RESERVE_MS));
  } catch (error) {
    log.warn('could not record the decision', { symbol: ref.symbol, published: decision.published, detail: asGuardError(error).message });
  }
}

/**
 * A failed release leaves the key to its lease, and an in-flight marker an older event will read
 * back (and the decision unrecorded: a redelivery then reads its own change back). It runs after
 * the publish, so it gets the check phase's deadline, not the work phase's the claim was made in
 * (which may already be over).
 */
async function releaseClaim(
  claim: HeldClaim | undefined,
  verdict: Verdict | { status: 'RETRY'; error: GuardError },
  decision: EarlierDecision | undefined,
  target: Target | undefined,
  deps: BatchDeps,
  log: Log,
): Promise<void> {
  await claim?.release(claimEndFor(verdict), decision, endingEarlier(deps.deadline, CHECK_RESERVE_MS)).catch((error: unknown) =>
    log.warn('could not release the claim; it expires with its lease', { symbol: target?.symbol, recorded: decision !== undefined, detail: asGuardError(error).message }),
  );
}

/** An invalid event's outcome: acknowledged once published. */
export async function rejectInvalid(record: InboundRecord, outcome: Outcome, deps: BatchDeps): Promise<RecordResult> {
  const result: RecordResult = { recordId: record.recordId, eventId: outcome.eventId, disposition: 'acknowledge', outcomes: [] };
  const error = await publish(outcome, deps);
  if (error) return { ...result, disposition: 'retry', error };
  return { ...result, outcomes: [{ status: outcome.status, code: outcome.error?.code }] };
}

/** Returns the error instead of throwing: a failed publish means "hand back", never "acknowledge". */
export async function publish(outcome: Outcome, deps: BatchDeps, log: Log = deps.logFor(outcome.eventId)): Promise<GuardError | undefined> {
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

export function outcomeContext(record: InboundRecord, startedAt: number, deps: BatchDeps): OutcomeContext {
  return { recordId: record.recordId, trigger: record.trigger, startedAt, now: deps.now() };
}

/** An SQS body arrives as text; an EventBridge detail or a direct payload arrives decoded. */
export type RiskEventBody = { text: string } | { value: unknown };

/** Never throws: whatever the input does to the validator, it ends as this record's rejection, not the batch's crash. */
export function decode(body: RiskEventBody): Validation {
  try {
    if ('value' in body) return validateRiskEvent(body.value);
    const parsed = parseJsonBody(body.text);
    return parsed.ok ? validateRiskEvent(parsed.value) : { ok: false, message: parsed.message, partial: {} };
  } catch (error) {
    return { ok: false, message: `event could not be validated (${asGuardError(error).message})`, partial: {} };
  }
}
