// A local stand-in for Lambda's SQS event-source mapping: receives a batch, hands it to the
// function as Lambda would, and applies the partial-batch response. Ours because no AWS piece
// runs here: the mapping is part of the Lambda service, which neither moto (no Lambda without
// Docker) nor the Runtime Interface Emulator (one function's runtime only) provides. The function
// itself runs on RIE + the Runtime Interface Client (local/lambda/lambda-host.ts).
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  SQSBatchResponse,
  SQSEvent,
  SQSMessageAttribute,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';

export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  /** Up to 10, as ReceiveMessage allows (Lambda's larger batches need a batching window). */
  batchSize: number;
  /** How long a received batch stays hidden; failed records reappear after it. */
  visibilityTimeoutSeconds: number;
  invoke: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  /** Long-poll wait per receive (default 1 s; Lambda uses 20 s, too slow for tests). */
  waitTimeSeconds?: number;
  /** Called when receiving or deleting fails in continuous mode (default: ignored, retried). */
  onError?: (error: unknown) => void;
}

export interface PollResult {
  received: number;
  /** Records acknowledged (deleted from the queue). */
  deleted: number;
  /** Message ids left on the queue to be redelivered after the visibility timeout. */
  retried: string[];
  /** Why the whole batch was left on the queue: the handler threw or answered malformed. */
  batchFailure?: string;
}

export interface DrainOptions {
  /** Stop after this long without receiving anything; must exceed the visibility timeout for
   *  redeliveries (and DLQ moves) to be seen. */
  idleMs: number;
  /** Hard stop, in case a handler keeps a message cycling forever. */
  maxMs: number;
}

export interface DrainResult {
  batches: PollResult[];
  received: number;
  deleted: number;
  timedOut: boolean;
}

export interface SqsPoller {
  pollOnce(): Promise<PollResult>;
  runUntilDrained(options: DrainOptions): Promise<DrainResult>;
  /** Polls continuously until `stop()`; results go nowhere, so pair it with readOutcomes. */
  start(): void;
  stop(): Promise<void>;
}

// The system attributes Lambda copies into `record.attributes`; SQS may return more.
const LAMBDA_RECORD_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
] as const satisfies readonly (keyof SQSRecordAttributes)[];

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

/** Lambda's camelCase attribute shape: binaries as base64, list fields always present. */
function toLambdaMessageAttribute(value: MessageAttributeValue): SQSMessageAttribute {
  const attribute: SQSMessageAttribute = {
    stringListValues: value.StringListValues ?? [],
    binaryListValues: (value.BinaryListValues ?? []).map(toBase64),
    dataType: value.DataType ?? 'String',
  };
  if (value.StringValue !== undefined) attribute.stringValue = value.StringValue;
  if (value.BinaryValue !== undefined) attribute.binaryValue = toBase64(value.BinaryValue);
  return attribute;
}

function toLambdaAttributes(attributes: Record<string, string> = {}): SQSRecordAttributes {
  const picked: Partial<SQSRecordAttributes> = {};
  for (const name of LAMBDA_RECORD_ATTRIBUTES) {
    const value = attributes[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked as SQSRecordAttributes;
}

/** `arn:aws:sqs:<region>:<account>:<name>` → region. */
export function regionOfArn(arn: string): string {
  const region = arn.split(':')[3];
  if (!region) throw new Error(`not an ARN with a region: ${arn}`);
  return region;
}

/** Builds the record exactly as Lambda's SQS event source delivers it. */
export function toLambdaRecord(message: Message, queueArn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toLambdaMessageAttribute(value);
  }
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: toLambdaAttributes(message.Attributes),
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: regionOfArn(queueArn),
  };
  // Lambda adds the attributes digest only when the message has attributes.
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

export type BatchVerdict = { failedIds: Set<string> } | { batchFailure: string };

/**
 * Applies Lambda's documented rules for partial batch responses: a null/empty response or
 * `batchItemFailures` list acknowledges everything; a non-object response, a non-array list, or
 * an item whose `itemIdentifier` is missing, empty or not in the batch fails the whole batch.
 */
export function interpretBatchResponse(response: unknown, batchIds: ReadonlySet<string>): BatchVerdict {
  if (response === null || response === undefined) return { failedIds: new Set() };
  if (typeof response !== 'object' || Array.isArray(response)) {
    return { batchFailure: `response is not an object: ${JSON.stringify(response)}` };
  }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return { failedIds: new Set() };
  if (!Array.isArray(failures)) return { batchFailure: 'batchItemFailures is not an array' };
  const failedIds = new Set<string>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.has(id)) {
      return { batchFailure: `invalid itemIdentifier: ${JSON.stringify(failure)}` };
    }
    failedIds.add(id);
  }
  return { failedIds };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createSqsPoller(options: SqsPollerOptions): SqsPoller {
  const { sqs, queueUrl, queueArn, batchSize, visibilityTimeoutSeconds, invoke } = options;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;

  async function receive(): Promise<Message[]> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        VisibilityTimeout: visibilityTimeoutSeconds,
        WaitTimeSeconds: waitTimeSeconds,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages;
  }

  async function acknowledge(records: SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { Failed = [] } = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    if (Failed.length > 0) throw new Error(`SQS refused to delete: ${JSON.stringify(Failed)}`);
  }

  async function pollOnce(): Promise<PollResult> {
    const records = (await receive()).map((m) => toLambdaRecord(m, queueArn));
    if (records.length === 0) return { received: 0, deleted: 0, retried: [] };
    const allIds = records.map((r) => r.messageId);

    let verdict: BatchVerdict;
    try {
      verdict = interpretBatchResponse(await invoke({ Records: records }), new Set(allIds));
    } catch (error) {
      verdict = { batchFailure: `handler threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    // Like Lambda, a failed batch is simply not deleted: every record reappears after the
    // visibility timeout and counts towards maxReceiveCount.
    if ('batchFailure' in verdict) {
      return { received: records.length, deleted: 0, retried: allIds, batchFailure: verdict.batchFailure };
    }
    const acknowledged = records.filter((r) => !verdict.failedIds.has(r.messageId));
    await acknowledge(acknowledged);
    return { received: records.length, deleted: acknowledged.length, retried: [...verdict.failedIds] };
  }

  async function runUntilDrained({ idleMs, maxMs }: DrainOptions): Promise<DrainResult> {
    const started = Date.now();
    const batches: PollResult[] = [];
    let lastActivity = started;
    while (Date.now() - lastActivity < idleMs) {
      if (Date.now() - started >= maxMs) return summarize(batches, true);
      const result = await pollOnce();
      if (result.received > 0) {
        batches.push(result);
        lastActivity = Date.now();
      }
    }
    return summarize(batches, false);
  }

  let loop: Promise<void> | undefined;
  let running = false;

  function start(): void {
    if (loop) return;
    running = true;
    loop = (async () => {
      while (running) {
        try {
          await pollOnce();
        } catch (error) {
          options.onError?.(error);
          await sleep(100);
        }
      }
    })();
  }

  /** Resolves once the in-flight poll (at most one wait period plus the handler) finished. */
  async function stop(): Promise<void> {
    running = false;
    await loop;
    loop = undefined;
  }

  return { pollOnce, runUntilDrained, start, stop };
}

function summarize(batches: PollResult[], timedOut: boolean): DrainResult {
  return {
    batches,
    received: batches.reduce((n, b) => n + b.received, 0),
    deleted: batches.reduce((n, b) => n + b.deleted, 0),
    timedOut,
  };
}
