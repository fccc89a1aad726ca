/**
 * An asynchronous invocation Lambda gave up on (retries exhausted, or the event too old), as its
 * on-failure destination records it. The function never ran the event to a published outcome, so
 * it is reported now: FAILED for each of the event's symbols that has no outcome yet, or REJECTED
 * when the event itself was invalid (its rejection was never published, or the invocation would
 * have succeeded). Nothing is sent to the exchange: Lambda has already given up on the change,
 * and a late change is a decision for a new event, not for a failure report.
 */
import { type ErrorCode, RetryableError } from './errors.ts';
import { identifiedOnlyOutcome, invalidEventOutcome, type Outcome, type OutcomeContext, outcomeOf } from './outcome.ts';
import type { BatchDeps, InboundRecord, RecordResult } from './process-batch.ts';
import { decode, fateUnknown, knownTargets, lastWordOf, publish } from './process-record.ts';

export interface AsyncInvocationFailure {
  /** How the event had come: an EventBridge rule, or a direct (Scheduler) invocation. */
  trigger: 'eventbridge' | 'direct';
  /** The risk event as the function received it (an EventBridge event's detail); absent when the record lacks it. */
  event?: { value: unknown };
  /** The eventId the original invocation fell back on: the EventBridge event id or the Lambda request id. */
  fallbackEventId: string;
  /** Why Lambda gave up, with the last error when there was one; free of account ids and ARNs. */
  error: { code: ErrorCode; message: string };
}

/** Acknowledged once every outcome is published; handed back (to publish again) otherwise. */
export async function reportAsyncFailure(
  record: InboundRecord,
  failure: AsyncInvocationFailure,
  deps: BatchDeps,
): Promise<RecordResult> {
  const startedAt = deps.now();
  const context = (): OutcomeContext => ({ recordId: failure.fallbackEventId, trigger: failure.trigger, startedAt, now: deps.now() });
  const error = new RetryableError(failure.error.code, failure.error.message);
  const validation = failure.event && decode(failure.event);

  let eventId: string;
  let outcomes: Outcome[];
  if (!validation) {
    eventId = failure.fallbackEventId;
    outcomes = [identifiedOnlyOutcome({}, { status: 'FAILED', error }, context())];
  } else if (!validation.ok) {
    eventId = validation.partial.eventId ?? failure.fallbackEventId;
    outcomes = [invalidEventOutcome(validation.partial, validation.message, context())];
  } else {
    const { command } = validation;
    eventId = command.eventId;
    outcomes = [];
    for (const target of knownTargets(command)) {
      // A symbol decided on an earlier attempt has its outcome, or is owed exactly that one.
      const { earlier, ownInFlight } = await lastWordOf(command, target, deps);
      if (earlier?.published) continue;
      outcomes.push(outcomeOf(command, target, earlier ? earlier.verdict : { status: 'FAILED', error: ownInFlight ? fateUnknown(error) : error }, context()));
    }
  }

  const log = deps.logFor(eventId);
  log.warn('Lambda gave up on an asynchronous invocation; reporting it', { trigger: failure.trigger, code: error.code, detail: error.message });
  const result: RecordResult = { recordId: record.recordId, eventId, disposition: 'acknowledge', outcomes: [] };
  for (const outcome of outcomes) {
    const publishError = await publish(outcome, deps, log);
    if (publishError) return { ...result, disposition: 'retry', error: publishError };
    result.outcomes.push({ symbol: outcome.symbol, status: outcome.status, code: outcome.error?.code });
  }
  return result;
}
