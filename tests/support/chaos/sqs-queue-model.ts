/**
 * An in-memory model of an SQS queue drained by Lambda's event source mapping with
 * ReportBatchItemFailures, as the function sees it:
 * - a receive hands out up to `batchSize` visible messages in arrival order, each with
 *   `ApproximateReceiveCount` incremented. FIFO (default): a record handed back keeps its place and
 *   is visible again at once, so nothing overtakes it (as a FIFO queue keeps each message group in
 *   order), and records carry their MessageGroupId. Standard: a record handed back is invisible for
 *   `visibilityRounds` receives (its visibility timeout), so newer records overtake it;
 * - a message already received `maxReceiveCount` times is moved to the DLQ on its next receive
 *   instead of being delivered (that is when SQS applies the redrive policy);
 * - after the invocation, the messages listed in `batchItemFailures` stay, the others are deleted;
 *   a thrown invocation or an invalid response (not a batch response, an itemIdentifier that is
 *   missing, empty or not in the batch) keeps the whole batch.
 * Time is counted in receives, except in the visibility-timeout mode.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { InvocationResult } from './handler-factory.ts';

export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:leverage-guard-chaos-risk-events';

export interface QueueMessage {
  messageId: string;
  body: string;
  /** Arrival order (0-based). */
  seq: number;
  receiveCount: number;
  sentAt: number;
  firstReceivedAt?: number;
  groupId?: string;
  /** Standard queues: invisible until this receive number. */
  visibleFrom?: number;
  /** Visibility-timeout mode: invisible until this time (ms on the queue's clock). */
  invisibleUntilMs?: number;
}

export interface ReceivedBatch {
  event: SQSEvent;
  /** Snapshots as delivered (receiveCount is this receive's). */
  messages: QueueMessage[];
  /** Moved to the DLQ by this receive. */
  deadLettered: QueueMessage[];
}

export interface Settlement {
  deleted: string[];
  kept: string[];
  /** Why the whole batch was kept, when it was. */
  wholeBatchKept?: string;
}

export interface QueueOptions {
  maxReceiveCount: number;
  batchSize?: number;
  now?: () => number;
  /** Default fifo. */
  mode?: { kind: 'fifo' } | { kind: 'standard'; visibilityRounds: number } | { kind: 'visibility-timeout'; timeoutMs: number };
}

export class SqsQueueModel {
  readonly dlq: QueueMessage[] = [];
  readonly deleted: QueueMessage[] = [];
  private readonly visible: QueueMessage[] = [];
  private sent = 0;
  private receives = 0;
  private readonly batchSize: number;
  private readonly now: () => number;

  constructor(private readonly options: QueueOptions) {
    this.batchSize = options.batchSize ?? 10;
    this.now = options.now ?? Date.now;
    if (this.batchSize < 1 || this.batchSize > 10) throw new Error('SQS batch size is 1 to 10');
  }

  send(body: string, messageId = `msg-${this.sent}`, groupId?: string): QueueMessage {
    const message: QueueMessage = { messageId, body, seq: this.sent++, receiveCount: 0, sentAt: this.now() };
    if (groupId !== undefined && (this.options.mode?.kind ?? 'fifo') === 'fifo') message.groupId = groupId;
    this.visible.push(message);
    return message;
  }

  /** Messages neither deleted nor dead-lettered. */
  get depth(): number {
    return this.visible.length;
  }

  /** When the next invisible message becomes visible again (visibility-timeout mode). */
  nextVisibleAtMs(): number | undefined {
    const times = this.visible.map((m) => m.invisibleUntilMs ?? Number.NEGATIVE_INFINITY);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  receive(): ReceivedBatch | undefined {
    const messages: QueueMessage[] = [];
    const deadLettered: QueueMessage[] = [];
    this.receives += 1;
    for (const message of [...this.visible]) {
      if (messages.length === this.batchSize) break;
      if ((message.visibleFrom ?? 0) > this.receives) continue;
      if ((message.invisibleUntilMs ?? Number.NEGATIVE_INFINITY) > this.now()) continue;
      if (message.receiveCount >= this.options.maxReceiveCount) {
        this.remove(message);
        this.dlq.push(message);
        deadLettered.push(message);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= this.now();
      if (this.options.mode?.kind === 'visibility-timeout') message.invisibleUntilMs = this.now() + this.options.mode.timeoutMs;
      messages.push({ ...message });
    }
    if (messages.length === 0) return deadLettered.length > 0 ? { event: { Records: [] }, messages, deadLettered } : undefined;
    return { event: { Records: messages.map(toSqsRecord) }, messages, deadLettered };
  }

  settle(batch: ReceivedBatch, result: InvocationResult): Settlement {
    const ids = batch.messages.map((m) => m.messageId);
    const verdict = 'threw' in result ? { keepAll: `the invocation threw: ${describe(result.threw)}` } : itemFailures(result.returned, ids);
    const keep = 'keepAll' in verdict ? new Set(ids) : verdict.failures;
    const settlement: Settlement = { deleted: [], kept: [] };
    if ('keepAll' in verdict) settlement.wholeBatchKept = verdict.keepAll;
    const mode = this.options.mode;
    for (const id of ids) {
      if (keep.has(id)) {
        settlement.kept.push(id);
        const message = this.visible.find((m) => m.messageId === id);
        if (message && mode?.kind === 'standard') message.visibleFrom = this.receives + 1 + mode.visibilityRounds;
        continue;
      }
      const message = this.visible.find((m) => m.messageId === id);
      if (message === undefined) throw new Error(`settling ${id}, which is no longer in the queue`);
      this.remove(message);
      this.deleted.push(message);
      settlement.deleted.push(id);
    }
    return settlement;
  }

  private remove(message: QueueMessage): void {
    this.visible.splice(this.visible.indexOf(message), 1);
  }
}

/** What Lambda makes of a function's answer to an SQS batch (ReportBatchItemFailures). */
function itemFailures(returned: unknown, ids: string[]): { failures: Set<string> } | { keepAll: string } {
  if (returned === undefined || returned === null || returned === '') return { failures: new Set() };
  if (typeof returned !== 'object' || Array.isArray(returned)) return { keepAll: `invalid batch response ${describe(returned)}` };
  const list = (returned as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failures: new Set() };
  if (!Array.isArray(list)) return { keepAll: 'batchItemFailures is not a list' };
  const failures = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.includes(id)) {
      return { keepAll: `invalid itemIdentifier ${describe(id)}` };
    }
    failures.add(id);
  }
  return { failures };
}

export function toSqsRecord(message: QueueMessage): SQSRecord {
  return {
    messageId: message.messageId,
    receiptHandle: `rh-${message.messageId}-${message.receiveCount}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDACHAOSPRODUCER',
      ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? message.sentAt),
      ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: message.groupId === undefined ? QUEUE_ARN : `${QUEUE_ARN}.fifo`,
    awsRegion: 'us-east-1',
  };
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
