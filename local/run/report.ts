// What `npm start` prints: one line per outcome as it arrives, then a table, totals and the
// expectation check. Colour only on a terminal (and never with NO_COLOR).
import { declaredField, FINAL_STATUSES, type FinalStatus } from './event-file.ts';
import {
  type Channel,
  displayId,
  finalStatus,
  type PublishedOutcome,
  type TrackedEvent,
  unmetExpectation,
} from './tracker.ts';

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const style = { dim: paint(2), bold: paint(1), red: paint(31), green: paint(32), yellow: paint(33), cyan: paint(36) };

const STATUS_STYLE: Record<FinalStatus, (text: string) => string> = {
  APPLIED: style.green,
  REJECTED: style.yellow,
  FAILED: style.red,
  HANDED_BACK: style.red,
  NOT_DELIVERED: style.red,
};

function colorStatus(status: FinalStatus | undefined, width = 0): string {
  const text = (status ?? 'NO OUTCOME').padEnd(width);
  return status ? STATUS_STYLE[status](text) : style.red(text);
}

/** How the event reached the function, next to the trigger the function itself reported. */
function triggerOf(event: TrackedEvent | undefined, outcome: PublishedOutcome | undefined): string {
  const reported = outcome?.trigger;
  const channel: Channel | undefined = event?.channel;
  if (channel === 'scheduler') return `${reported ?? 'direct'} (scheduler)`;
  return reported ?? channel ?? '?';
}

/** `8x`, `-4028 Leverage 100 is not valid.`, or the handed-back reason. */
function resultOf(event: TrackedEvent | undefined, outcome: PublishedOutcome | undefined, maxMessage = 70): string {
  if (outcome?.status === 'APPLIED') return `${outcome.leverage}x`;
  if (outcome?.error) return `${outcome.error.code} ${truncate(outcome.error.message, maxMessage)}`;
  if (event?.noOutcome) return truncate(event.noOutcome.reason, maxMessage);
  return '-';
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function outcomeLine(outcome: PublishedOutcome, event: TrackedEvent | undefined, elapsedMs: number): string {
  const requested = outcome.requestedLeverage === undefined ? '' : `${outcome.requestedLeverage}x`;
  const details = [triggerOf(event, outcome), `${outcome.durationMs} ms`];
  if (event && event.attempts > 1) details.push(`attempt ${event.attempts}`);
  if (event === undefined) details.push('not sent by this run');
  if (event && event.duplicates > 0) details.push(style.red('DUPLICATE outcome'));
  return [
    style.dim(`[${seconds(elapsedMs).padStart(6)}]`),
    colorStatus(outcome.status, 8),
    outcome.eventId.padEnd(24),
    `${outcome.accountId ?? '?'}/${outcome.symbol ?? '?'}`.padEnd(17),
    `${requested.padStart(4)} → ${resultOf(event, outcome, 60)}`.padEnd(12),
    style.dim(`${details.join(', ')}${outcome.reason ? ` · ${outcome.reason}` : ''}`),
  ].join(' ');
}

/** The outcome's value; for events without an outcome, what the event as sent says. */
function sentOr(event: TrackedEvent, field: string, reported: string | undefined): string {
  if (event.outcome) return reported ?? '-';
  const sent = declaredField(event.sent, field);
  return typeof sent === 'string' ? sent : '-';
}

const leverageText = (value: unknown): string => (typeof value === 'number' ? `${value}x` : '-');

interface Column {
  title: string;
  value: (event: TrackedEvent) => string;
  align?: 'right';
  color?: (event: TrackedEvent, padded: string) => string;
}

const COLUMNS: Column[] = [
  { title: 'eventId', value: displayId },
  { title: 'trigger', value: (e) => triggerOf(e, e.outcome) },
  { title: 'account', value: (e) => sentOr(e, 'accountId', e.outcome?.accountId) },
  { title: 'symbol', value: (e) => sentOr(e, 'symbol', e.outcome?.symbol) },
  { title: 'requested', value: (e) => leverageText(e.outcome ? e.outcome.requestedLeverage : declaredField(e.sent, 'leverage')), align: 'right' },
  { title: 'status', value: (e) => finalStatus(e) ?? 'NO OUTCOME', color: (e, padded) => colorStatus(finalStatus(e), padded.length) },
  { title: 'leverage / error', value: (e) => resultOf(e, e.outcome, 48) },
  { title: 'tries', value: (e) => String(e.attempts), align: 'right' },
  { title: 'duration', value: (e) => (e.outcome ? `${e.outcome.durationMs} ms` : '-'), align: 'right' },
  { title: 'check', value: (e) => (unmetExpectation(e) === undefined ? (e.expected ? 'ok' : '') : 'UNEXPECTED') },
];

export function summaryTable(events: TrackedEvent[]): string {
  const rows = events.map((event) => COLUMNS.map((column) => column.value(event)));
  const widths = COLUMNS.map((column, i) => Math.max(column.title.length, ...rows.map((row) => row[i]!.length)));
  const pad = (text: string, i: number) => (COLUMNS[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: string[]) => cells.join('  ').trimEnd();
  const header = line(COLUMNS.map((column, i) => style.bold(pad(column.title, i))));
  const rule = line(widths.map((width) => '─'.repeat(width)));
  const body = events.map((event, r) =>
    line(rows[r]!.map((cell, i) => {
      const padded = pad(cell, i);
      return COLUMNS[i]!.color?.(event, padded) ?? padded;
    })),
  );
  return [header, rule, ...body].join('\n');
}

export function totalsLine(events: TrackedEvent[]): string {
  const counts = new Map<string, number>();
  for (const event of events) {
    const status = finalStatus(event) ?? 'NO OUTCOME';
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const ordered = [...FINAL_STATUSES, 'NO OUTCOME'].filter((status) => counts.has(status));
  return `Totals: ${ordered.map((status) => `${status} ${counts.get(status)}`).join(', ')} (${events.length} events)`;
}

/** One line per event whose final state differs from what the event file expects. */
export function expectationReport(events: TrackedEvent[]): string[] {
  return events.flatMap((event) => {
    const problem = unmetExpectation(event);
    return problem === undefined ? [] : [`${displayId(event)} (${event.channel}): ${problem}`];
  });
}
