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
 * This module is the batch's mechanics (decode, pause, lanes, sequencing); one record's work and
 * how it settles is process-record.ts.
 */
import { type AsyncInvocationFailure, reportAsyncFailure } from './async-failure.ts';
import { asGuardError, type ErrorCode, type GuardError, RetryableError } from './errors.ts';
import { invalidEventOutcome, type OutcomeStatus, type Trigger } from './outcome.ts';
import { Outbox } from './outbox.ts';
import type { Policy } from './policy.ts';
import { decode, outcomeContext, processCommand, rejectInvalid, type RiskEventBody } from './process-record.ts';
import type { RiskCommand } from './risk-event.ts';
import { type Lanes, Sequencer } from './sequencer.ts';
import { endingEarlier, WORK_RESERVE_MS } from './time-budget.ts';
import type { CredentialStore, Deadline, Exchange, Log, OutcomePublisher, PauseSwitch, StateStore } from './ports.ts';

export interface InboundRecord {
  /** SQS messageId, EventBridge event id or Lambda request id: the fallback eventId. */
  recordId: string;
  trigger: Trigger;
  /**
   * SQS bodies arrive as text; EventBridge details and direct events arrive decoded; an async
   * invocation Lambda gave up on (an on-failure record, on SQS) is reported, not executed.
   */
  body: RiskEventBody | { asyncFailure: AsyncInvocationFailure };
  /** The last delivery before the DLQ: a retryable failure now ends as a FAILED outcome. */
  finalAttempt: boolean;
  /** Which delivery this is, counting from 1 (SQS receive count; 1 where the trigger does not say). */
  attempt: number;
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

export async function processBatch(records: InboundRecord[], deps: BatchDeps): Promise<RecordResult[]> {
  // Neither is awaited here: the switch is read, and the exchange's clock measured, while the
  // records make their claims and fetch their credentials. Nothing signed reaches the exchange
  // before the switch says go (ExecutionDeps.cleared); the clock read is public and unsigned.
  const paused = pauseReason(deps);
  deps.exchange.prepare?.(endingEarlier(deps.deadline, WORK_RESERVE_MS));
  const sequencer = new Sequencer();
  // The batch's outcomes leave together (one PublishBatch), each record's as soon as the others
  // running with it are waiting too.
  const outbox = new Outbox(deps.publisher);
  const running = <T>(work: (deps: BatchDeps) => Promise<T>) => outbox.run((publisher) => work({ ...deps, publisher }));
  return Promise.all(
    records.map((record) => {
      if ('asyncFailure' in record.body) {
        const failure = record.body.asyncFailure;
        return running((recordDeps) => reportAsyncFailure(record, failure, recordDeps));
      }
      const startedAt = deps.now();
      const validation = decode(record.body);
      if (!validation.ok) {
        const reject = () =>
          running((recordDeps) => rejectInvalid(record, invalidEventOutcome(validation.partial, validation.message, outcomeContext(record, startedAt, deps)), recordDeps));
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
        (blocked) => running((recordDeps) => processCommand(record, command, recordDeps, blocked ? heldBehindEarlierFailure() : undefined, paused)),
        (result) => result.disposition === 'retry',
      );
    }),
  );
}

/** The operators' switch is read once per invocation; if it cannot be read or understood, we stay paused. Never rejects. */
async function pauseReason(deps: BatchDeps): Promise<GuardError | undefined> {
  if (!deps.pause) return undefined;
  try {
    const state = await deps.pause.state(endingEarlier(deps.deadline, WORK_RESERVE_MS));
    if (!state.paused) return undefined;
    if (state.unrecognisedValue === undefined) return new RetryableError('PAUSED', 'leverage-guard is paused by its operators');
    const why = `the pause switch holds ${JSON.stringify(state.unrecognisedValue.slice(0, 40))}, which is neither "true" nor "false"; paused until it is one of them`;
    deps.logFor('pause-switch').warn(why);
    return new RetryableError('PAUSED', why);
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

function groupLane(group: string): string {
  return `group\u0000${group}`;
}

/** A record handed back before it was even decoded: nothing to report yet. */
async function handBackUnread(record: InboundRecord, error: GuardError): Promise<RecordResult> {
  return { recordId: record.recordId, eventId: record.recordId, disposition: 'retry', outcomes: [], error };
}

function heldBehindEarlierFailure(): RetryableError {
  return new RetryableError('EARLIER_EVENT_PENDING', 'an earlier event for the same account and symbol (or FIFO group) in this batch was handed back; this one keeps its place behind it');
}

