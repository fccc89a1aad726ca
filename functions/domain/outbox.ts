/**
 * The outcomes of one invocation, gathered so they leave together: the publisher (SNS) then
 * carries them in one PublishBatch request instead of one per record. An outcome is held while
 * other records of the batch are still working, and handed to the publisher as soon as every
 * running record is waiting on a publish (or has finished), or after at most LINGER_MS, or once
 * a full request's worth is waiting. A record alone in its invocation (a direct or EventBridge
 * event) is never held: it is the only running record, and it is waiting.
 *
 * Records queued behind others (process-batch's lanes) are not running, so nothing ever waits for
 * a record that itself waits for an outcome to be published: no deadlock.
 */
import type { Outcome } from './outcome.ts';
import type { Deadline, OutcomePublisher } from './ports.ts';
import { MIN_CALL_BUDGET_MS } from './time-budget.ts';

/**
 * The longest an outcome waits for the rest of the batch: long enough for the exchange answers of
 * one batch to arrive (they come within a few ms of each other), short against the time its
 * claim stays held and a record's own latency. Measured: see docs/benchmarks.md, SNS requests per
 * batch of 10.
 */
export const LINGER_MS = 20;
/** One PublishBatch request's worth (SNS allows 10 entries). */
const FULL = 10;

interface Held {
  outcome: Outcome;
  deadline: Deadline | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
  record: number;
}

export class Outbox {
  private running = 0;
  private nextRecord = 0;
  private held: Held[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly publisher: OutcomePublisher) {}

  /** Runs one record's work, counted as running meanwhile; its outcomes go through `publisher`. */
  async run<T>(work: (publisher: OutcomePublisher) => Promise<T>): Promise<T> {
    const record = this.nextRecord++;
    this.running++;
    try {
      return await work({ publish: (outcome, deadline) => this.hold(record, outcome, deadline) });
    } finally {
      this.running--;
      this.flushIfAllWaiting();
    }
  }

  private hold(record: number, outcome: Outcome, deadline: Deadline | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.held.push({ outcome, deadline, resolve, reject, record });
      const tightest = deadline ? deadline.remainingMs() - MIN_CALL_BUDGET_MS - LINGER_MS : LINGER_MS;
      if (this.held.length >= FULL || tightest <= 0) return this.flush();
      if (!this.flushIfAllWaiting()) this.timer ??= setTimeout(() => this.flush(), Math.min(LINGER_MS, tightest));
    });
  }

  private flushIfAllWaiting(): boolean {
    const waiting = new Set(this.held.map((entry) => entry.record)).size;
    if (this.held.length === 0 || waiting < this.running) return false;
    this.flush();
    return true;
  }

  /** All held outcomes go to the publisher in this one turn, so its batching sees them together. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.held;
    this.held = [];
    for (const { outcome, deadline, resolve, reject } of held) new Promise<void>((done) => done(this.publisher.publish(outcome, deadline))).then(resolve, reject);
  }
}
