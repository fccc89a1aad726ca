/**
 * The Lambda edge of the flow: which trigger invoked us, turned into inbound records (normalise),
 * and the record results turned back into what that trigger expects (respond).
 */
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { InboundRecord, RecordResult } from '../domain/process-batch.ts';

export type LambdaEvent = SQSEvent | EventBridgeEvent<string, unknown> | unknown;

export function normalise(event: LambdaEvent, context: Pick<Context, 'awsRequestId'>, maxReceiveCount: number): InboundRecord[] {
  if (isSqsEvent(event)) {
    return event.Records.map((record) => {
      // An unreadable count fails closed both ways: a redelivery ("maybe acted before") and the
      // final attempt (a FAILED outcome rather than a silent DLQ entry).
      const receiveCount = Number(record.attributes.ApproximateReceiveCount);
      const readable = Number.isInteger(receiveCount) && receiveCount >= 1;
      return {
        recordId: record.messageId,
        trigger: 'sqs',
        body: { text: record.body },
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

/**
 * SQS gets a partial batch response. An async invocation (EventBridge, Scheduler, direct) fails
 * when its event was handed back, so Lambda's retries and on-failure destination take over; a
 * permanent result returns normally, since retrying it would only repeat the rejection.
 */
export function respond(event: LambdaEvent, results: RecordResult[]): SQSBatchResponse | Pick<RecordResult, 'eventId' | 'outcomes'> {
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
