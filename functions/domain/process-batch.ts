/**
 * Delivery semantics, the part that must never be wrong:
 * - every record ends either acknowledged with its outcome published, or handed back for retry;
 *   nothing is acknowledged unless its outcome was published;
 * - a retryable failure publishes nothing, except on the record's final attempt, when a FAILED
 *   outcome is published and the record is still handed back so it lands in the DLQ;
 * - records for the same account+symbol run one after another in arrival order, and once one of
 *   them is handed back the later ones are handed back too (applying them now would let the
 *   retried, older command undo them later); different keys run concurrently.
 */
import { asGuardError, type GuardError, RetryableError } from './errors.ts';
import { changeLeverage, type ChangeLeverageDeps } from './change-leverage.ts';
import {
  appliedOutcome,
  failedOutcome,
  invalidEventOutcome,
  type Outcome,
  type OutcomeContext,
  type OutcomeStatus,
  rejectedOutcome,
  type Trigger,
} from './outcome.ts';
import { parseJsonBody, type RiskCommand, validateRiskEvent } from './risk-event.ts';
import type { Log, OutcomePublisher } from './ports.ts';

export interface InboundRecord {
  /** SQS messageId, EventBridge event id or Lambda request id: the fallback eventId. */
  recordId: string;
  trigger: Trigger;
  /** SQS bodies arrive as text; EventBridge details and direct events arrive decoded. */
  body: { text: string } | { value: unknown };
  /** The last delivery before the DLQ: a retryable failure now ends as a FAILED outcome. */
  finalAttempt: boolean;
}

export type Disposition = 'acknowledge' | 'retry';

export interface RecordResult {
  recordId: string;
  eventId: string;
  disposition: Disposition;
  /** The outcome published for this record, if any. */
  status?: OutcomeStatus;
  /** Why the record was handed back, when it was. */
  error?: GuardError;
}

export interface BatchDeps extends Omit<ChangeLeverageDeps, 'log'> {
  publisher: OutcomePublisher;
  logFor(eventId: string): Log;
  now(): number;
  /** Below this much time left, a record is handed back before it starts rather than cut off mid-way. */
  minimumTimeToStartMs: number;
}

export async function processBatch(records: InboundRecord[], deps: BatchDeps): Promise<RecordResult[]> {
  const laneTails = new Map<string, Promise<RecordResult>>();
  const handedBackKeys = new Set<string>();

  return Promise.all(
    records.map((record) => {
      const startedAt = deps.now();
      const validation = decode(record);
      if (!validation.ok) {
        const outcome = invalidEventOutcome(validation.partial, validation.message, context(record, startedAt, deps));
        return settle(record, outcome, deps);
      }
      const command = validation.command;
      const key = `${command.accountId}\u0000${command.symbol}`;
      const previous = laneTails.get(key) ?? Promise.resolve(undefined);
      const run = previous.then(async () => {
        const result = handedBackKeys.has(key)
          ? await handBack(record, command, heldBehindEarlierFailure(command), deps.now(), deps)
          : await execute(record, command, deps);
        if (result.disposition === 'retry') handedBackKeys.add(key);
        return result;
      });
      laneTails.set(key, run);
      return run;
    }),
  );
}

function decode(record: InboundRecord) {
  if ('value' in record.body) return validateRiskEvent(record.body.value);
  const parsed = parseJsonBody(record.body.text);
  return parsed.ok ? validateRiskEvent(parsed.value) : { ok: false as const, message: parsed.message, partial: {} };
}

async function execute(record: InboundRecord, command: RiskCommand, deps: BatchDeps): Promise<RecordResult> {
  const startedAt = deps.now();
  const log = deps.logFor(command.eventId);
  if (deps.deadline.remainingMs() < deps.minimumTimeToStartMs) {
    const error = new RetryableError('TIME_BUDGET_EXHAUSTED', 'not enough invocation time left to start this event');
    return handBack(record, command, error, startedAt, deps);
  }
  try {
    const setting = await changeLeverage(command, { ...deps, log });
    log.info('leverage applied', { symbol: command.symbol, leverage: setting.leverage });
    return settle(record, appliedOutcome(command, setting, context(record, startedAt, deps)), deps);
  } catch (thrown) {
    const error = asGuardError(thrown);
    if (error.retryable) return handBack(record, command, error, startedAt, deps);
    log.warn('leverage change rejected', { code: error.code, detail: error.message });
    return settle(record, rejectedOutcome(command, error, context(record, startedAt, deps)), deps);
  }
}

/** A terminal outcome is acknowledged only once it is published. */
async function settle(record: InboundRecord, outcome: Outcome, deps: BatchDeps): Promise<RecordResult> {
  const log = deps.logFor(outcome.eventId);
  try {
    await deps.publisher.publish(outcome);
  } catch (thrown) {
    const error = asGuardError(thrown);
    log.error('outcome could not be published; handing the record back', { status: outcome.status, code: error.code, detail: error.message });
    return { recordId: record.recordId, eventId: outcome.eventId, disposition: 'retry', error };
  }
  log.info('outcome published', { status: outcome.status });
  return { recordId: record.recordId, eventId: outcome.eventId, disposition: 'acknowledge', status: outcome.status };
}

/** Retry later; on the final attempt, publish FAILED first so the DLQ entry is never silent. */
async function handBack(
  record: InboundRecord,
  command: RiskCommand,
  error: GuardError,
  startedAt: number,
  deps: BatchDeps,
): Promise<RecordResult> {
  const log = deps.logFor(command.eventId);
  const handedBack: RecordResult = { recordId: record.recordId, eventId: command.eventId, disposition: 'retry', error };
  if (!record.finalAttempt) {
    log.warn('transient failure; handing the record back for retry', { code: error.code, detail: error.message });
    return handedBack;
  }
  const published = await settle(record, failedOutcome(command, error, context(record, startedAt, deps)), deps);
  return published.disposition === 'acknowledge' ? { ...handedBack, status: 'FAILED' } : published;
}

function heldBehindEarlierFailure(command: RiskCommand): RetryableError {
  return new RetryableError(
    'EARLIER_EVENT_PENDING',
    `an earlier event for ${command.accountId} ${command.symbol} in this batch was handed back; this one keeps its place behind it`,
  );
}

function context(record: InboundRecord, startedAt: number, deps: BatchDeps): OutcomeContext {
  return { recordId: record.recordId, trigger: record.trigger, startedAt, now: deps.now() };
}
