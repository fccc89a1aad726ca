// Reads what the function published (SNS → outcomes queue, raw delivery) and what SQS gave up on
// (the DLQ), deleting what it reads so the next test starts from an empty queue.
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './clients.ts';
import { attributeValues } from './message-attributes.ts';

export { attributeValues };

export interface ReceivedMessage {
  messageId: string;
  body: string;
  /** SQS system attributes (ApproximateReceiveCount, SentTimestamp, MessageGroupId...). */
  attributes: Record<string, string>;
  /** Message attributes as SQS returns them (DataType, StringValue or BinaryValue). */
  messageAttributes: Record<string, MessageAttributeValue>;
}

export interface Outcome<T = unknown> {
  /** The published message, parsed as JSON. */
  body: T;
  /** SNS message attributes by name: the string value, or base64 for Binary attributes. */
  attributes: Record<string, string>;
  message: ReceivedMessage;
}

export interface ReadOutcomesOptions {
  count: number;
  timeoutMs: number;
}

const SQS_MAX_BATCH = 10;
const SQS_MAX_WAIT_SECONDS = 20;

function toReceivedMessage(message: Message): ReceivedMessage {
  return {
    messageId: message.MessageId ?? '',
    body: message.Body ?? '',
    attributes: { ...message.Attributes },
    messageAttributes: { ...message.MessageAttributes },
  };
}

function parseOutcome<T>(message: ReceivedMessage): Outcome<T> {
  let body: T;
  try {
    body = JSON.parse(message.body) as T;
  } catch {
    throw new Error(`outcome ${message.messageId} is not JSON: ${message.body.slice(0, 200)}`);
  }
  return { body, attributes: attributeValues(message.messageAttributes), message };
}

async function receiveAndDelete(
  sqs: SQSClient,
  queueUrl: string,
  maxMessages: number,
  waitTimeSeconds: number,
): Promise<ReceivedMessage[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(SQS_MAX_BATCH, maxMessages),
      WaitTimeSeconds: waitTimeSeconds,
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return Messages.map(toReceivedMessage);
}

/**
 * Long-polls until `count` outcomes arrived or `timeoutMs` passed, and returns what arrived
 * (possibly fewer: callers assert the length, which gives a clearer failure than a throw).
 * Never receives more than `count`, so later outcomes stay for the next read.
 */
export async function readOutcomes<T = unknown>(
  sqs: SQSClient,
  queueUrl: string,
  { count, timeoutMs }: ReadOutcomesOptions,
): Promise<Outcome<T>[]> {
  const deadline = Date.now() + timeoutMs;
  const received: ReceivedMessage[] = [];
  while (received.length < count) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    // Whole seconds only; the last sub-second slice is a short poll followed by a brief pause.
    const waitSeconds = Math.min(SQS_MAX_WAIT_SECONDS, Math.floor(remainingMs / 1000));
    const batch = await receiveAndDelete(sqs, queueUrl, count - received.length, waitSeconds);
    received.push(...batch);
    if (batch.length === 0 && waitSeconds === 0) await new Promise((r) => setTimeout(r, 50));
  }
  return received.map((message) => parseOutcome<T>(message));
}

/**
 * Receives and deletes every message currently visible in a queue (e.g. the DLQ). Stops at the
 * first empty short poll: moto answers deterministically, unlike real SQS's sampled short polls.
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<ReceivedMessage[]> {
  const drained: ReceivedMessage[] = [];
  for (;;) {
    const batch = await receiveAndDelete(sqs, queueUrl, SQS_MAX_BATCH, 0);
    if (batch.length === 0) return drained;
    drained.push(...batch);
  }
}

/**
 * Events the risk-event rule delivered to its SQS target, shaped as Lambda receives them from
 * EventBridge. moto 5.2.5 builds the SQS body from a default template that drops `account`
 * (moto/events/utils.py DEFAULT_EVENT_INPUT_TEMPLATE); it is put back here so the events can be
 * fed to the handler as direct EventBridge invocations.
 */
export async function readMatchedEvents<TDetail = unknown>(
  sqs: SQSClient,
  queueUrl: string,
  options: ReadOutcomesOptions & { account?: string },
): Promise<EventBridgeEvent<string, TDetail>[]> {
  const delivered = await readOutcomes<EventBridgeEvent<string, TDetail>>(sqs, queueUrl, options);
  return delivered.map(({ body }) => ({ ...body, account: body.account ?? options.account ?? LOCAL_ACCOUNT_ID }));
}
