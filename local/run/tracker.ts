/**
 * What was sent and what came back: one entry per sent event, matched to the outcome the function
 * published for it (by eventId, or by the record id the function falls back to when the event has
 * no usable eventId), and checked against the event file's expectations.
 */
import type { Outcome as PublishedOutcome } from '../../functions/domain/outcome.ts';
import type { Expectation, FinalStatus } from './event-file.ts';

export type { PublishedOutcome };

export type Channel = 'sqs' | 'eventbridge' | 'scheduler' | 'direct';

export interface TrackedEvent {
  /** Order of sending. */
  seq: number;
  channel: Channel;
  /** The eventId as written in the event, when it has a usable one. */
  eventId?: string;
  /** Ids the function may report instead: SQS message id, EventBridge event id, invocation result. */
  recordIds: Set<string>;
  /** Deliveries (SQS receives) or invocation attempts so far. */
  attempts: number;
  expected?: Expectation;
  outcome?: PublishedOutcome;
  /** Async invocation handed back on every attempt: no outcome, Lambda's on-failure path takes it. */
  handedBack?: string;
  /** Set when a second outcome arrives for the same event. */
  duplicates: number;
}

export interface TrackerListener {
  onOutcome(outcome: PublishedOutcome, event: TrackedEvent | undefined): void;
}

export function finalStatus(event: TrackedEvent): FinalStatus | undefined {
  if (event.outcome) return event.outcome.status;
  return event.handedBack === undefined ? undefined : 'HANDED_BACK';
}

export function displayId(event: TrackedEvent): string {
  return event.eventId ?? event.outcome?.eventId ?? [...event.recordIds][0] ?? `#${event.seq}`;
}

/** What differs from the expectation, or undefined when it is met (or there is none). */
export function unmetExpectation(event: TrackedEvent): string | undefined {
  const { expected } = event;
  const status = finalStatus(event);
  if (status === undefined) return 'no outcome';
  if (!expected) return undefined;
  const problems: string[] = [];
  if (status !== expected.status) problems.push(`status ${status}, expected ${expected.status}`);
  const outcome = event.outcome;
  if (expected.leverage !== undefined && outcome?.leverage !== expected.leverage) {
    problems.push(`leverage ${outcome?.leverage ?? '-'}, expected ${expected.leverage}`);
  }
  if (expected.code !== undefined && outcome?.error?.code !== expected.code) {
    problems.push(`code ${outcome?.error?.code ?? '-'}, expected ${expected.code}`);
  }
  if (expected.trigger !== undefined && outcome?.trigger !== expected.trigger) {
    problems.push(`trigger ${outcome?.trigger ?? '-'}, expected ${expected.trigger}`);
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

export class Tracker {
  readonly events: TrackedEvent[] = [];
  /** Outcomes that matched no sent event (yet: an invocation's record id may be learnt later). */
  readonly unmatched: PublishedOutcome[] = [];

  constructor(
    private readonly listener: TrackerListener,
    private readonly expectations: Record<string, Expectation> = {},
  ) {}

  add(channel: Channel, eventId: string | undefined, recordId?: string): TrackedEvent {
    const event: TrackedEvent = {
      seq: this.events.length + 1,
      channel,
      eventId,
      recordIds: new Set(recordId ? [recordId] : []),
      attempts: 0,
      expected: eventId === undefined ? undefined : this.expectations[eventId],
      duplicates: 0,
    };
    this.events.push(event);
    return event;
  }

  findByRecordId(recordId: string): TrackedEvent | undefined {
    return this.events.find((event) => event.recordIds.has(recordId));
  }

  /** A record id the function may report for this event; re-matches outcomes that came early. */
  learnRecordId(event: TrackedEvent, recordId: string): void {
    event.recordIds.add(recordId);
    const early = this.unmatched.findIndex((outcome) => outcome.eventId === recordId && !event.outcome);
    if (early >= 0) {
      const [outcome] = this.unmatched.splice(early, 1);
      event.outcome = outcome;
    }
  }

  record(outcome: PublishedOutcome): TrackedEvent | undefined {
    const candidates = this.events.filter((e) => e.eventId === outcome.eventId || e.recordIds.has(outcome.eventId));
    const event = candidates.find((e) => !e.outcome) ?? candidates[0];
    if (!event) this.unmatched.push(outcome);
    else if (event.outcome) event.duplicates++;
    else event.outcome = outcome;
    this.listener.onOutcome(outcome, event);
    return event;
  }

  markHandedBack(event: TrackedEvent, reason: string): void {
    event.handedBack = reason;
  }

  pending(): TrackedEvent[] {
    return this.events.filter((event) => finalStatus(event) === undefined);
  }

  /** Resolves true once every sent event is final, false when the deadline passes first. */
  async settled(deadline: number, pollMs = 100): Promise<boolean> {
    while (this.pending().length > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    return true;
  }
}
