/**
 * Drives the local stack the way AWS would deliver events to the function:
 * - SQS: events are sent to the risk-event queue; a loop polls it like Lambda's event source
 *   mapping (partial batch responses, visibility timeout, redrive to the DLQ);
 * - EventBridge: events are put on the bus; moto routes what the rule matches to its SQS target
 *   (it cannot invoke Lambda), and each matched event is invoked with its full envelope, as the
 *   rule's Lambda target would (asynchronously, with Lambda's two retries);
 * - Scheduler / direct: the payload itself is invoked asynchronously.
 * Outcomes are read from the queue subscribed to the result topic as they are published.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import { attributeValues, drainQueue, readMatchedEvents, readOutcomes, RISK_EVENT_DETAIL_TYPES, RISK_EVENT_SOURCE } from '../aws/index.ts';
import { LambdaHost } from '../lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard } from '../stack.ts';
import type { EventBridgeEntry, ScheduledEntry } from './event-file.ts';
import type { PublishedOutcome, Tracker, TrackedEvent } from './tracker.ts';

/** Lambda retries a failed asynchronous invocation twice (after ~1 and ~2 minutes; here 1 s). */
const ASYNC_ATTEMPTS = 3;
const ASYNC_RETRY_DELAY_MS = 1000;
const SQS_BATCH_LIMIT = 10;
// One message per read: readOutcomes returns as soon as `count` arrived, so 1 prints each outcome
// the moment it is published instead of collecting a batch for the whole wait.
const READ = { count: 1, timeoutMs: 1000 };

export interface SessionListener {
  /** Records handed back to SQS: redelivered after the visibility timeout, or (on their last
   *  allowed receive) moved to the DLQ by the redrive policy. */
  onHandedBack(redelivered: TrackedEvent[], toDlq: TrackedEvent[]): void;
  onAsyncFailure(event: TrackedEvent, attempt: number, message: string, willRetry: boolean): void;
  onWarning(message: string): void;
}

export interface SessionOptions {
  guard: LocalLeverageGuard;
  tracker: Tracker;
  listener: SessionListener;
  maxReceiveCount: number;
  functionTimeoutMs: number;
  onLog?: (line: string) => void;
  /** Every outcome read from the result topic's queue, with its SNS message attributes. */
  onPublished?: (outcome: PublishedOutcome, attributes: Record<string, string>) => void;
}

/** The local stack with the session driving it, as `npm start` runs it. */
export interface RunningStack {
  guard: LocalLeverageGuard;
  tracker: Tracker;
  session: Session;
  /** Stops the session, the function containers, moto and the simulator. */
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Runs `step` until stopped; errors are reported and retried after a short pause. */
function backgroundLoop(step: () => Promise<void>, onError: (error: unknown) => void) {
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        await step();
      } catch (error) {
        if (running) onError(error);
        await sleep(200);
      }
    }
  })();
  return async () => {
    running = false;
    await done;
  };
}

export class Session {
  private readonly asyncHost: LambdaHost;
  private readonly inFlight = new Set<Promise<void>>();
  private stops: (() => Promise<void>)[] = [];

  constructor(private readonly options: SessionOptions) {
    // Asynchronous invocations get containers of their own, as Lambda would scale out for them.
    // Their retries are ours (below): RIE runs one function's runtime, not Lambda's async queue.
    this.asyncHost = new LambdaHost({
      bundlePath: path.resolve(BUNDLE_PATH),
      env: options.guard.functionEnv,
      timeoutMs: options.functionTimeoutMs,
      onLog: options.onLog,
    });
  }

  private get sqs() {
    return this.options.guard.aws.clients.sqs;
  }

  /** Starts the SQS poller, the EventBridge target consumer and the outcome reader. */
  start(): void {
    const { guard, listener } = this.options;
    const warn = (what: string) => (error: unknown) => listener.onWarning(`${what}: ${messageOf(error)}`);
    this.stops = [
      backgroundLoop(() => this.pollRiskEvents(), warn('SQS poller')),
      backgroundLoop(() => this.consumeMatchedEvents(), warn('EventBridge target')),
      backgroundLoop(async () => {
        const outcomes = await readOutcomes<PublishedOutcome>(this.sqs, guard.resources.outcomesQueueUrl, READ);
        for (const { body, attributes } of outcomes) this.recordOutcome(body, attributes);
      }, warn('outcome reader')),
    ];
  }

  /** Stops the loops, lets running invocations finish, then records the outcomes still queued. */
  async stop(): Promise<void> {
    await Promise.allSettled(this.stops.map((stop) => stop()));
    this.stops = [];
    await Promise.allSettled(this.inFlight);
    this.asyncHost.stop();
    const { guard } = this.options;
    for (const message of await drainQueue(this.sqs, guard.resources.outcomesQueueUrl)) {
      this.recordOutcome(JSON.parse(message.body) as PublishedOutcome, attributeValues(message.messageAttributes));
    }
  }

  private recordOutcome(outcome: PublishedOutcome, attributes: Record<string, string>): void {
    this.options.tracker.record(outcome);
    this.options.onPublished?.(outcome, attributes);
  }

  /**
   * Nothing is being delivered: no asynchronous invocation running or waiting to retry, and the
   * risk-event queue empty (no record waiting, in a batch being handled, or hidden until its
   * redelivery). The handler publishes before it returns and the poller deletes after, so at that
   * point every outcome is on the outcomes queue.
   */
  async idle(): Promise<boolean> {
    if (this.inFlight.size > 0) return false;
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.guard.resources.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return Object.values(Attributes).every((count) => Number(count) === 0);
  }

  private async pollRiskEvents(): Promise<void> {
    const result = await this.options.guard.poller.pollOnce();
    if (result.received === 0) return;
    const { tracker, listener, maxReceiveCount } = this.options;
    if (result.batchFailure) listener.onWarning(`whole batch handed back: ${result.batchFailure}`);
    const retried = result.retried.map((id) => tracker.findByRecordId(id)).filter((e): e is TrackedEvent => !!e);
    if (retried.length === 0) return;
    // Only handed-back records are known by id: receives = 1 + hand-backs, up to maxReceiveCount,
    // when SQS moves the record to the DLQ instead of delivering it again.
    const toDlq = retried.filter((event) => event.attempts >= maxReceiveCount);
    const redelivered = retried.filter((event) => event.attempts < maxReceiveCount);
    for (const event of redelivered) event.attempts++;
    for (const event of toDlq) event.toDlq = true;
    listener.onHandedBack(redelivered, toDlq);
  }

  private async consumeMatchedEvents(): Promise<void> {
    const { guard, tracker } = this.options;
    const matched = await readMatchedEvents(this.sqs, guard.resources.eventTargetQueueUrl, READ);
    for (const envelope of matched) {
      // Events put by someone else (e.g. `aws events put-events` in --serve) are tracked on arrival.
      const event = tracker.findDelivered('eventbridge', envelope.id, envelope.detail) ?? tracker.add('eventbridge', envelope.detail, envelope.id);
      this.invokeAsync(event, envelope);
    }
  }

  /** Sends bodies to the risk-event queue in order (objects as JSON, strings as they are). */
  async sendToQueue(bodies: unknown[]): Promise<TrackedEvent[]> {
    const { guard, tracker } = this.options;
    const sent: TrackedEvent[] = [];
    for (let start = 0; start < bodies.length; start += SQS_BATCH_LIMIT) {
      const chunk = bodies.slice(start, start + SQS_BATCH_LIMIT);
      // Tracked before sending: the poller may receive a message before SendMessageBatch returns.
      const events = chunk.map((body) => tracker.add('sqs', body));
      const { Successful = [], Failed = [] } = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: guard.resources.queueUrl,
          Entries: chunk.map((body, index) => ({
            Id: String(index),
            MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
          })),
        }),
      );
      if (Failed.length > 0) throw new Error(`SQS refused messages: ${JSON.stringify(Failed)}`);
      for (const entry of Successful) {
        const event = events[Number(entry.Id)];
        if (event && entry.MessageId) tracker.learnRecordId(event, entry.MessageId);
      }
      for (const event of events) event.attempts = 1;
      sent.push(...events);
    }
    return sent;
  }

  /** Puts events on the bus; the rule delivers the matching ones to the function. */
  async putOnBus(entries: EventBridgeEntry[]): Promise<TrackedEvent[]> {
    const { guard, tracker } = this.options;
    const sent: TrackedEvent[] = [];
    for (let start = 0; start < entries.length; start += SQS_BATCH_LIMIT) {
      const chunk = entries.slice(start, start + SQS_BATCH_LIMIT);
      const events = chunk.map((entry) => tracker.add('eventbridge', entry.detail));
      const { Entries = [], FailedEntryCount } = await guard.aws.clients.eventBridge.send(
        new PutEventsCommand({
          Entries: chunk.map((entry) => ({
            EventBusName: guard.resources.eventBusName,
            Source: RISK_EVENT_SOURCE,
            DetailType: entry.detailType ?? RISK_EVENT_DETAIL_TYPES[0],
            Detail: JSON.stringify(entry.detail),
          })),
        }),
      );
      if (FailedEntryCount) throw new Error(`EventBridge refused events: ${JSON.stringify(Entries)}`);
      Entries.forEach((result, index) => {
        const event = events[index];
        if (event && result.EventId) tracker.learnRecordId(event, result.EventId);
      });
      // The rule matches on source (always ours) and detail-type: anything else never reaches it.
      chunk.forEach((entry, index) => {
        const event = events[index];
        if (event && entry.detailType !== undefined && !RISK_EVENT_DETAIL_TYPES.includes(entry.detailType)) {
          tracker.markNoOutcome(event, 'NOT_DELIVERED', `detail-type ${entry.detailType} does not match the rule (${RISK_EVENT_DETAIL_TYPES.join(', ')})`);
        }
      });
      sent.push(...events);
    }
    return sent;
  }

  /** Invokes the function with each payload, as an EventBridge Scheduler schedule would. */
  invokeScheduled(entries: ScheduledEntry[]): TrackedEvent[] {
    return entries.map((entry) => {
      const event = this.options.tracker.add('scheduler', entry.event);
      this.invokeAsync(event, entry.event);
      return event;
    });
  }

  /** A direct invocation: resolves with the function's response (or its error). */
  async invokeDirect(payload: unknown): Promise<{ event: TrackedEvent; done: Promise<void> }> {
    const event = this.options.tracker.add('direct', payload);
    return { event, done: this.invokeAsync(event, payload) };
  }

  /** Lambda's asynchronous invocation: a function error is retried twice, then dropped. */
  private invokeAsync(event: TrackedEvent, payload: unknown): Promise<void> {
    const { tracker, listener } = this.options;
    const run = (async () => {
      for (let attempt = 1; attempt <= ASYNC_ATTEMPTS; attempt++) {
        event.attempts = attempt;
        try {
          const response = await this.asyncHost.invoke<{ eventId?: unknown } | null>(payload);
          if (typeof response?.eventId === 'string') tracker.learnRecordId(event, response.eventId);
          return;
        } catch (error) {
          const willRetry = attempt < ASYNC_ATTEMPTS;
          listener.onAsyncFailure(event, attempt, messageOf(error), willRetry);
          if (willRetry) await sleep(ASYNC_RETRY_DELAY_MS);
          else tracker.markNoOutcome(event, 'HANDED_BACK', messageOf(error));
        }
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }
}
