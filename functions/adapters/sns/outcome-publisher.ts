/**
 * Publishes each outcome to the result topic, with message attributes subscribers can filter on
 * (status, symbol, accountId). The outcomes an invocation publishes at about the same time are
 * coalesced into SNS PublishBatch requests (up to 10 entries, 256 KiB together): one round trip
 * and one signature instead of ten. Each caller still learns the fate of its own outcome: an
 * entry SNS reports as failed, or does not report at all, rejects that caller only; a request
 * that fails rejects all of its entries. A publish failure is retryable: the record is never
 * acknowledged without its outcome.
 */
import { describeError, RetryableError } from '../../domain/errors.ts';
import { type Outcome, SNS_MAX_MESSAGE_BYTES } from '../../domain/outcome.ts';
import type { Deadline, OutcomePublisher } from '../../domain/ports.ts';
import { callBudgetMs } from '../../domain/time-budget.ts';
import { AWS_CALL_TIMEOUT_MS } from '../aws-sdk/bounded-call.ts';
import type { PublishBatchCall, PublishBatchEntry, PublishBatchOutput, StringAttribute } from './publish-batch.ts';

/** SNS's limits for one PublishBatch request. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = SNS_MAX_MESSAGE_BYTES;

const WHAT = 'publishing the outcome';

interface QueuedEntry {
  entry: PublishBatchEntry;
  deadline: Deadline | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SnsOutcomePublisher implements OutcomePublisher {
  private queue: QueuedEntry[] = [];
  private queuedBytes = 0;
  /**
   * A batch leaves when 10 outcomes are queued, or at the end of the event-loop turn in which its
   * first outcome was queued (setImmediate): every outcome decided on that turn goes with it (e.g.
   * all records whose exchange answers were read in the same poll), and none waits for more.
   * A linger was measured and not taken: built bundle, warm batches of 10 symbols (as deployed:
   * state table, pause switch), PAPI simulator, bench/fake-aws.ts, 4 x 21 batches per setting;
   * SNS requests per batch of 10 / CPU per record (this machine, noisy to about +-0.3 ms):
   *                         exchange answers at once   50 ms each      50..59 ms (spread)
   *   one Publish each       10    / 3.5 ms            10   / 3.3 ms   10   / 3.3 ms
   *   end of turn            2.1   / 2.2 ms            2.5  / 2.5 ms   4.8  / 3.0 ms
   *   linger 5 ms            1.1   / 2.2 ms            1.3  / 2.3 ms   2.3  / 2.9 ms
   *   linger 10 ms           1.05  / 2.1 ms            1.05 / 2.3 ms   1.7  / 2.5 ms
   * Batching at all saves about 1 ms of CPU per record; a linger saves one to three more requests
   * per batch but no CPU that stands out of the noise, and it would delay every outcome of a batch
   * that is not full (a direct or EventBridge event's single outcome always) by the whole linger.
   */
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    /** publish-batch.ts's createPublishBatchCall, or a fake. */
    private readonly publishBatch: PublishBatchCall,
    private readonly topicArn: string,
  ) {}

  publish(outcome: Outcome, deadline?: Deadline): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // An outcome whose own deadline leaves no time fails at once and never joins a batch, so
      // it cannot cut short the others' request.
      callBudgetMs(AWS_CALL_TIMEOUT_MS, deadline, WHAT);
      const message = JSON.stringify(outcome);
      const attributes = attributesOf(outcome);
      const bytes = payloadBytes(message, attributes);
      if (this.queue.length > 0 && this.queuedBytes + bytes > MAX_BATCH_BYTES) this.flush();
      // The Id only has to be unique within its request; its position is.
      this.queue.push({ entry: { Id: String(this.queue.length), Message: message, MessageAttributes: attributes }, deadline, resolve, reject });
      this.queuedBytes += bytes;
      if (this.queue.length >= MAX_BATCH_ENTRIES) this.flush();
      else if (this.scheduled === undefined) this.scheduled = setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (batch.length > 0) void this.send(batch);
  }

  private async send(batch: QueuedEntry[]): Promise<void> {
    let output: PublishBatchOutput;
    try {
      // The request's timeout is the tightest entry deadline's budget (publish-batch.ts).
      output = await this.publishBatch({ TopicArn: this.topicArn, PublishBatchRequestEntries: batch.map((queued) => queued.entry) }, tightest(batch.map((queued) => queued.deadline)));
    } catch (error) {
      const rejection =
        error instanceof RetryableError ? error : new RetryableError('OUTCOME_PUBLISH_FAILED', `could not publish the outcome (${describeError(error)})`, undefined, { cause: error });
      for (const queued of batch) queued.reject(rejection);
      return;
    }
    const published = new Set(output.Successful.map((entry) => entry.Id));
    const failures = new Map(output.Failed.map((entry) => [entry.Id, entry]));
    for (const queued of batch) {
      const failure = failures.get(queued.entry.Id);
      if (failure) queued.reject(new RetryableError('OUTCOME_PUBLISH_FAILED', `could not publish the outcome (${failure.Code}: ${failure.Message ?? 'no message'})`));
      else if (published.has(queued.entry.Id)) queued.resolve();
      // Fail closed: an entry SNS reported neither way may not have been published.
      else queued.reject(new RetryableError('OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (SNS did not report this entry of its batch)'));
    }
  }
}

export function attributesOf(outcome: Outcome): Record<string, StringAttribute> {
  const attributes: Record<string, StringAttribute> = {};
  const values = { status: outcome.status, symbol: outcome.symbol, accountId: outcome.accountId };
  for (const [name, value] of Object.entries(values)) {
    // SNS rejects empty attribute values; an invalid event may have no symbol or account.
    if (value) attributes[name] = { DataType: 'String', StringValue: value };
  }
  return attributes;
}

/** What SNS counts against its size limit: the message and each attribute's name, type and value. */
export function payloadBytes(message: string, attributes: Record<string, StringAttribute>): number {
  let bytes = Buffer.byteLength(message);
  for (const [name, { DataType, StringValue }] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(DataType) + Buffer.byteLength(StringValue);
  }
  return bytes;
}

/** A request carrying several entries must end when the first of their deadlines does. */
function tightest(deadlines: (Deadline | undefined)[]): Deadline | undefined {
  const given = deadlines.filter((deadline) => deadline !== undefined);
  if (given.length <= 1) return given[0];
  return { remainingMs: () => Math.min(...given.map((deadline) => deadline.remainingMs())) };
}
