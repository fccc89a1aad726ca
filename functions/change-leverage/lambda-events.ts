/**
 * The Lambda edge of the flow: which trigger invoked us, turned into inbound records (normalise),
 * and the record results turned back into what that trigger expects (respond).
 */
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AsyncInvocationFailure } from '../domain/async-failure.ts';
import { type ErrorCode, withoutAwsIdentity } from '../domain/errors.ts';
import type { InboundRecord, RecordResult } from '../domain/process-batch.ts';

// Events arrive as `unknown`: SQS, EventBridge, Scheduler or a direct invocation, told apart by
// their shape (isSqsEvent, isEventBridgeEvent), never trusted by type.
export function normalise(event: unknown, context: Pick<Context, 'awsRequestId'>, maxReceiveCount: number): InboundRecord[] {
  if (isSqsEvent(event)) {
    return event.Records.map((record) => {
      // An unreadable count fails closed both ways: a redelivery ("maybe acted before") and the
      // final attempt (a FAILED outcome rather than a silent DLQ entry).
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const readable = Number.isInteger(receiveCount) && receiveCount >= 1;
      const asyncFailure = asyncFailureIn(record.body);
      return {
        recordId: record.messageId,
        trigger: asyncFailure?.trigger ?? 'sqs',
        body: asyncFailure ? { asyncFailure } : { text: record.body },
        finalAttempt: !readable || receiveCount >= maxReceiveCount,
        attempt: readable ? receiveCount : 2,
        orderingGroup: record.attributes.MessageGroupId,
      };
    });
  }
  if (isEventBridgeEvent(event)) {
    return [{ recordId: event.id, trigger: 'eventbridge', body: { value: event.detail }, finalAttempt: false, attempt: 1 }];
  }
  // Direct and EventBridge Scheduler invocations carry the risk event itself.
  return [{ recordId: context.awsRequestId, trigger: 'direct', body: { value: event }, finalAttempt: false, attempt: 1 }];
}

export class HandedBackError extends Error {
  constructor(result: RecordResult) {
    super(`event ${result.eventId} handed back for retry: ${result.error?.code}: ${result.error?.message}`);
    this.name = 'HandedBackError';
  }
}

/** Reads a HandedBackError's message back (from an on-failure record): its code and message. */
const HANDED_BACK = /^event [\s\S]*? handed back for retry: (\S+?): ([\s\S]*)$/;

/**
 * What a Lambda on-failure destination delivers for an asynchronous invocation (EventBridge rule,
 * Scheduler, direct `Event` invoke) that Lambda gave up on. Recognised by its shape on any queue:
 * no risk event has a `requestContext` (the contract refuses unknown fields).
 */
interface AsyncInvocationRecord {
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount?: number };
  requestPayload?: unknown;
  responsePayload?: unknown;
}

function asyncFailureIn(body: string): AsyncInvocationFailure | undefined {
  // Most bodies are risk events: skip the second JSON parse for them.
  if (!body.includes('"requestContext"')) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isAsyncInvocationRecord(record)) return undefined;
  const original = record.requestPayload;
  const viaEventBridge = isEventBridgeEvent(original);
  return {
    trigger: viaEventBridge ? 'eventbridge' : 'direct',
    event: 'requestPayload' in record ? { value: viaEventBridge ? original.detail : original } : undefined,
    // What the original invocation fell back on (see the end of normalise).
    fallbackEventId: viaEventBridge ? original.id : record.requestContext.requestId,
    error: lastErrorOf(record),
  };
}

/**
 * The code and message of the FAILED outcome: the code our own HandedBackError carried when the
 * last attempt ended with one, otherwise Lambda's condition (RETRIES_EXHAUSTED,
 * EVENT_AGE_EXCEEDED). The functionArn is never used: it holds the account id.
 */
function lastErrorOf(record: AsyncInvocationRecord): { code: ErrorCode; message: string } {
  const { condition, approximateInvokeCount: attempts } = record.requestContext;
  const gaveUp = `Lambda gave up on the asynchronous invocation (${condition}${typeof attempts === 'number' ? ` after ${attempts} attempts` : ''})`;
  const conditionCode = condition.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/\W/g, '_').toUpperCase();
  const last = record.responsePayload as { errorType?: unknown; errorMessage?: unknown } | null | undefined;
  if (typeof last?.errorMessage !== 'string') return { code: conditionCode, message: withoutAwsIdentity(gaveUp) };
  const handedBack = last.errorType === 'HandedBackError' ? HANDED_BACK.exec(last.errorMessage) : null;
  if (handedBack) {
    const [, code, message] = handedBack as unknown as [string, string, string];
    return { code: /^-?\d+$/.test(code) ? Number(code) : code, message: withoutAwsIdentity(`${gaveUp}; last error: ${message}`) };
  }
  const type = typeof last.errorType === 'string' ? `${last.errorType}: ` : '';
  return { code: conditionCode, message: withoutAwsIdentity(`${gaveUp}; last error: ${type}${last.errorMessage}`) };
}

function isAsyncInvocationRecord(value: unknown): value is AsyncInvocationRecord {
  const context = (value as Partial<AsyncInvocationRecord> | null)?.requestContext;
  return (
    typeof context === 'object' &&
    context !== null &&
    typeof context.requestId === 'string' &&
    typeof context.functionArn === 'string' &&
    typeof context.condition === 'string'
  );
}

/**
 * SQS gets a partial batch response. An async invocation (EventBridge, Scheduler, direct) fails
 * when its event was handed back, so Lambda's retries and on-failure destination take over; a
 * permanent result returns normally, since retrying it would only repeat the rejection.
 */
export function respond(event: unknown, results: RecordResult[]): SQSBatchResponse | Pick<RecordResult, 'eventId' | 'outcomes'> {
  if (isSqsEvent(event)) {
    return {
      batchItemFailures: results.filter((r) => r.disposition === 'retry').map((r) => ({ itemIdentifier: r.recordId })),
    };
  }
  const [result] = results;
  if (!result) throw new Error('no result for the invocation event');
  if (result.disposition === 'retry') throw new HandedBackError(result);
  return { eventId: result.eventId, outcomes: result.outcomes };
}

function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as SQSEvent | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => r?.eventSource === 'aws:sqs');
}

function isEventBridgeEvent(event: unknown): event is EventBridgeEvent<string, unknown> {
  if (typeof event !== 'object' || event === null) return false;
  const candidate = event as Partial<EventBridgeEvent<string, unknown>>;
  return typeof candidate['detail-type'] === 'string' && typeof candidate.source === 'string' && typeof candidate.id === 'string' && 'detail' in candidate;
}
