/**
 * What was sent and what came back: one entry per sent event, holding the outcomes the function
 * published for it (one per symbol: an event with several targets gets several), matched by
 * eventId, or by the record id the function falls back to when the event has no usable eventId.
 * Each outcome (or the lack of one) is a row, checked against the event file's expectations.
 */
import { declaredEventId, type Expectation, type NoOutcomeStatus } from './event-file.ts';

/**
 * An outcome as read from the result topic. functions/domain/outcome.ts is the contract; this is
 * the part the runner reads, loosely typed so a status or field added there is shown, not refused.
 */
export interface PublishedOutcome {
  eventId: string;
  status: string;
  accountId?: string;
  symbol?: string;
  requestedLeverage?: number;
  leverage?: number;
  currentLeverage?: number;
  error?: { code: number | string; message: string; retryable?: boolean };
  trigger?: string;
  reason?: string;
  durationMs?: number;
}

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
  /** In arrival order; more than one when the event names several symbols. */
  outcomes: PublishedOutcome[];
  /** Final without an outcome, by design (see NoOutcomeStatus), and why. */
  noOutcome?: { status: NoOutcomeStatus; reason: string };
  /** SQS only: handed back on its last allowed receive, so the redrive policy moves it to the DLQ. */
  toDlq?: boolean;
  /** Outcomes that repeat a symbol this event already had an outcome for. */
  duplicates: number;
}

/** One line of the summary: an outcome, or an event that has none (yet, or by design). */
export interface Row {
  event: TrackedEvent;
  outcome?: PublishedOutcome;
}

export interface TrackerListener {
  onOutcome(outcome: PublishedOutcome, event: TrackedEvent | undefined): void;
}

export function rowsOf(events: TrackedEvent[]): Row[] {
  return events.flatMap((event) =>
    event.outcomes.length > 0 ? event.outcomes.map((outcome) => ({ event, outcome })) : [{ event }],
  );
}

export function rowStatus({ event, outcome }: Row): string | undefined {
  return outcome?.status ?? event.noOutcome?.status;
}

export function displayId(event: TrackedEvent): string {
  return event.eventId ?? event.outcomes[0]?.eventId ?? [...event.recordIds][0] ?? `#${event.seq}`;
}

/** Expectations are keyed by eventId, or by `eventId/SYMBOL` for one target of several. */
const expectationKeys = (row: Row): string[] => {
  const eventId = row.outcome?.eventId ?? displayId(row.event);
  const symbol = row.outcome?.symbol;
  return symbol ? [`${eventId}/${symbol}`, eventId] : [eventId];
};

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
    const event: TrackedEvent = {
      seq: this.events.length + 1,
      channel,
      eventId: declaredEventId(sent),
      sent,
      recordIds: new Set(recordId ? [recordId] : []),
      attempts: 0,
      outcomes: [],
      duplicates: 0,
    };
    this.events.push(event);
    return event;
  }

  findByRecordId(recordId: string): TrackedEvent | undefined {
    return this.events.find((event) => event.recordIds.has(recordId));
  }

  /**
   * The event a delivery stands for: by its record id, or else a sent event of that channel and
   * eventId whose record id is not known yet (the delivery can arrive before the send returns).
   */
  findDelivered(channel: Channel, recordId: string, body: unknown): TrackedEvent | undefined {
    const known = this.findByRecordId(recordId);
    if (known) return known;
    const eventId = declaredEventId(body);
    const sent = this.events.find((event) => event.channel === channel && event.recordIds.size === 0 && eventId !== undefined && event.eventId === eventId);
    if (sent) this.learnRecordId(sent, recordId);
    return sent;
  }

  /** A record id the function may report for this event; re-matches outcomes that came early. */
  learnRecordId(event: TrackedEvent, recordId: string): void {
    event.recordIds.add(recordId);
    for (let i = this.unmatched.length - 1; i >= 0; i--) {
      if (this.unmatched[i]!.eventId === recordId) event.outcomes.push(...this.unmatched.splice(i, 1));
    }
  }

  record(outcome: PublishedOutcome): TrackedEvent | undefined {
    const candidates = this.events.filter((e) => e.eventId === outcome.eventId || e.recordIds.has(outcome.eventId));
    const isNew = (e: TrackedEvent) => !e.outcomes.some((o) => o.symbol === outcome.symbol);
    let event = candidates.find(isNew) ?? candidates[0];
    if (!event && this.options.adoptUnmatched) {
      event = this.add((outcome.trigger as Channel | undefined) ?? 'sqs', { eventId: outcome.eventId });
      event.attempts = 1;
    }
    if (!event) this.unmatched.push(outcome);
    else {
      if (!isNew(event)) event.duplicates++;
      event.outcomes.push(outcome);
    }
    this.listener.onOutcome(outcome, event);
    return event;
  }

  markNoOutcome(event: TrackedEvent, status: NoOutcomeStatus, reason: string): void {
    event.noOutcome = { status, reason };
  }

  /** Events with neither an outcome nor a final state without one. */
  pending(): TrackedEvent[] {
    return this.events.filter((event) => event.outcomes.length === 0 && !event.noOutcome);
  }

  /**
   * Resolves true once every sent event has an outcome and `idle` says nothing is still being
   * delivered (an event naming several symbols publishes several outcomes before it is
   * acknowledged), false when the deadline passes first.
   */
  async settled(deadline: number, idle: () => Promise<boolean>, pollMs = 100): Promise<boolean> {
    while (Date.now() < deadline) {
      if (this.pending().length === 0 && (await idle())) return true;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    return false;
  }

  expectationFor(row: Row): Expectation | undefined {
    const expectations = this.options.expectations ?? {};
    return expectationKeys(row).map((key) => expectations[key]).find(Boolean);
  }

  /** What differs from the expectation, or undefined when it is met (or there is none). */
  unmet(row: Row): string | undefined {
    const status = rowStatus(row);
    if (status === undefined) return 'no outcome';
    const expected = this.expectationFor(row);
    if (!expected) return undefined;
    const { outcome } = row;
    const problems: string[] = [];
    if (status !== expected.status) problems.push(`status ${status}, expected ${expected.status}`);
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

  /** Every problem: rows that differ from their expectation, and expectations no row answered. */
  problems(): string[] {
    const rows = rowsOf(this.events);
    const answered = new Set(rows.flatMap(expectationKeys));
    const rowProblems = rows.flatMap((row) => {
      const problem = this.unmet(row);
      const several = row.event.outcomes.length > 1 && row.outcome?.symbol;
      const where = several ? `${displayId(row.event)}/${row.outcome!.symbol}` : displayId(row.event);
      return problem === undefined ? [] : [`${where} (${row.event.channel}): ${problem}`];
    });
    const unanswered = Object.keys(this.options.expectations ?? {})
      .filter((key) => !answered.has(key))
      .map((key) => `${key}: expected, but no such event or outcome`);
    return [...rowProblems, ...unanswered];
  }

  /** How many rows were checked against an expectation. */
  checkedCount(): number {
    return rowsOf(this.events).filter((row) => this.expectationFor(row)).length;
  }
}
