/**
 * For TypeScript risk systems: build a risk event the function will accept, and send it to the
 * risk-event queue or the event bus. Validation is the function's own (validateRiskEvent), so an
 * event that passes here cannot be REJECTED as INVALID_EVENT there. The caller passes its own
 * AWS SDK clients (region, credentials and retries stay the caller's choice).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type * as v from 'valibot';
import { RISK_EVENT_DETAIL_TYPES, RISK_EVENT_SOURCE } from './event-pattern.ts';
import { type riskEventSchema, validateRiskEvent } from '../domain/risk-event.ts';

/** A risk event as producers write it (optional fields may be left out). */
export type RiskEvent = v.InferInput<typeof riskEventSchema>;

export class InvalidRiskEventError extends Error {
  override name = 'InvalidRiskEventError';
}

/**
 * Checks the event against the contract and returns it ready to send, with `issuedAt` set to
 * `now` when absent (the function orders changes per account and symbol by `issuedAt`, so an
 * event without one can be overtaken by an older one). Throws InvalidRiskEventError with the
 * same field-by-field message the function would publish in a REJECTED outcome.
 */
export function buildRiskEvent(fields: RiskEvent, now: Date = new Date()): RiskEvent {
  const event: RiskEvent = { ...fields, issuedAt: fields.issuedAt ?? now.toISOString() };
  const result = validateRiskEvent(event);
  if (!result.ok) throw new InvalidRiskEventError(result.message);
  return event;
}

export interface QueueDestination {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
  /**
   * FIFO queue only. Default `<accountId>:<symbol>` (what the function's ordering expects); an
   * event with `targets` or `symbols` must name its group, since it spans several pairs.
   */
  messageGroupId?: string;
}

export interface BusDestination {
  eventBridge: Pick<EventBridgeClient, 'send'>;
  /** Default: the account's default bus, where the deployed rule listens. */
  eventBusName?: string;
  /** One of RISK_EVENT_DETAIL_TYPES (default the first): the rule drops any other. */
  detailType?: string;
}

export type Destination = QueueDestination | BusDestination;

/** Where the event went: the SQS MessageId or the EventBridge event id. */
export interface Sent {
  id: string;
}

function fifoFields(event: RiskEvent, destination: QueueDestination) {
  if (!destination.queueUrl.endsWith('.fifo')) return {};
  const accountId = event.accountId ?? 'default';
  const group = destination.messageGroupId ?? (event.symbol !== undefined && !event.targets && !event.symbols ? `${accountId}:${event.symbol}` : undefined);
  if (!group) throw new InvalidRiskEventError('messageGroupId: required to send an event with targets or symbols to a FIFO queue');
  // The eventId identifies a command: SQS drops a resend of it within its 5-minute window.
  return { MessageGroupId: group, MessageDeduplicationId: event.eventId };
}

/** Validates (as buildRiskEvent) and sends one event; resolves with the id the service gave it. */
export async function sendRiskEvent(destination: Destination, fields: RiskEvent, now?: Date): Promise<Sent> {
  const event = buildRiskEvent(fields, now);
  if ('eventBridge' in destination && destination.detailType !== undefined && !RISK_EVENT_DETAIL_TYPES.includes(destination.detailType)) {
    throw new InvalidRiskEventError(`detailType: must be one of ${RISK_EVENT_DETAIL_TYPES.join(', ')} (the rule drops any other), got ${destination.detailType}`);
  }
  if ('sqs' in destination) {
    const { MessageId } = await destination.sqs.send(
      new SendMessageCommand({ QueueUrl: destination.queueUrl, MessageBody: JSON.stringify(event), ...fifoFields(event, destination) }),
    );
    if (!MessageId) throw new Error('SQS returned no MessageId');
    return { id: MessageId };
  }
  const { Entries = [], FailedEntryCount } = await destination.eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: destination.eventBusName,
          Source: RISK_EVENT_SOURCE,
          DetailType: destination.detailType ?? RISK_EVENT_DETAIL_TYPES[0],
          Detail: JSON.stringify(event),
        },
      ],
    }),
  );
  const [entry] = Entries;
  if (FailedEntryCount || !entry?.EventId) throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim());
  return { id: entry.EventId };
}
