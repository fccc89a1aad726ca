/**
 * What was sent and what came back: one entry per sent event, matched to the outcome the function
 * published for it (by eventId, or by the record id the function falls back to when the event has
 * no usable eventId), and checked against the event file's expectations.
 */
import type { Outcome as PublishedOutcome } from '../../functions/domain/outcome.ts';
import { declaredEventId, type Expectation, type FinalStatus, type NoOutcomeStatus } from './event-file.ts';

export type { PublishedOutcome };

export type Channel = 'sqs' | 'eventbridge' | 'scheduler' | 'direct';

export interface TrackedEvent {
  /** Order of sending. */
  seq: number;
  channel: Channel;
  /** The eventId as written in the event, when it has a usable one. */
  eventId?: string;
  /** The event as sent (the SQS body, the EventBridge detail, the invocation payload). */
  sent: unknown;
  /** Ids the function may report instead: SQS message id, EventBridge event id, invocation result. */
  recordIds: Set<string>;
  /** Deliveries (SQS receives) or invocation attempts so far. */
  attempts: number;
  expected?: Expectation;
  outcome?: PublishedOutcome;
  /** Final without an outcome, by design (see NoOutcomeStatus), and why. */
  noOutcome?: { status: NoOutcomeStatus; reason: string };
  /** SQS only: handed back on its last allowed receive, so the redrive policy moves it to the DLQ. */
  toDlq?: boolean;
  /** Set when a second outcome arrives for the same event. */
  duplicates: number;
}

export interface TrackerListener {
  onOutcome(outcome: PublishedOutcome, event: TrackedEvent | undefined): void;
}

export function finalStatus(event: TrackedEvent): FinalStatus | undefined {
  if (event.outcome) return event.outcome.status;
  return event.noOutcome?.status;
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
    private readonly options: {
      expectations?: Record<string, Expectation>;
      /** Track outcomes of events sent by others (the AWS CLI in --serve) as they arrive. */
      adoptUnmatched?: boolean;
    } = {},
  ) {}

  add(channel: Channel, sent: unknown, recordId?: string): TrackedEvent {
    const eventId = declaredEventId(sent);
    const event: TrackedEvent = {
      seq: this.events.length + 1,
      channel,
      eventId,
      sent,
      recordIds: new Set(recordId ? [recordId] : []),
      attempts: 0,
      expected: eventId === undefined ? undefined : this.options.expectations?.[eventId],
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
    let event = candidates.find((e) => !e.outcome) ?? candidates[0];
    if (!event && this.options.adoptUnmatched) {
      event = this.add(outcome.trigger, { eventId: outcome.eventId });
      event.attempts = 1;
    }
    if (!event) this.unmatched.push(outcome);
    else if (event.outcome) event.duplicates++;
    else event.outcome = outcome;
    this.listener.onOutcome(outcome, event);
    return event;
  }

  markNoOutcome(event: TrackedEvent, status: NoOutcomeStatus, reason: string): void {
    event.noOutcome = { status, reason };
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
