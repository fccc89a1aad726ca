// What `npm start` prints: one line per outcome as it arrives, then a table (a row per outcome,
// or per event without one), totals by status and the expectation check. Colour only on a
// terminal (and never with NO_COLOR).
import { declaredField } from './event-file.ts';
import { type PublishedOutcome, type Row, rowsOf, rowStatus, type TrackedEvent, type Tracker } from './tracker.ts';

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const style = { dim: paint(2), bold: paint(1), red: paint(31), green: paint(32), yellow: paint(33), cyan: paint(36) };

const STATUS_STYLE: Record<string, (text: string) => string> = {
  APPLIED: style.green,
  DRY_RUN: style.cyan,
  REJECTED: style.yellow,
  SKIPPED: style.yellow,
};
/** Totals list these first, then any other status in order of appearance. */
const STATUS_ORDER = ['APPLIED', 'DRY_RUN', 'SKIPPED', 'REJECTED', 'FAILED', 'HANDED_BACK', 'NOT_DELIVERED'];
const NO_OUTCOME = 'NO OUTCOME';

function colorStatus(status: string | undefined, width = 0): string {
  const text = (status ?? NO_OUTCOME).padEnd(width);
  return (status && STATUS_STYLE[status]) ? STATUS_STYLE[status](text) : style.red(text);
}

/** An outcome with the event it belongs to, if known; or an event without an outcome. */
type Shown = Partial<Row>;

/** The trigger the function reported, and how the run delivered it when that says more. */
function triggerOf({ event, outcome }: Shown): string {
  const reported = outcome?.trigger;
  if (event?.channel === 'scheduler') return `${reported ?? 'direct'} (scheduler)`;
  return reported ?? event?.channel ?? '?';
}

/** `8x`, `20x → 8x` when the prior leverage is known, an error, or why there is no outcome. */
function resultOf({ event, outcome }: Shown, maxMessage: number): string {
  if (outcome?.leverage !== undefined && !outcome.error) {
    const before = outcome.currentLeverage === undefined ? '' : `${outcome.currentLeverage}x → `;
    return `${before}${outcome.leverage}x`;
  }
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

const leverageText = (value: unknown): string => (typeof value === 'number' ? `${value}x` : '-');

/** The outcome's value; for an event without an outcome, what the event as sent says. */
function fieldOf({ event, outcome }: Shown, field: 'accountId' | 'symbol'): string {
  if (outcome) return outcome[field] ?? '-';
  const sent = declaredField(event?.sent, field);
  return typeof sent === 'string' ? sent : '-';
}

function requestedOf({ event, outcome }: Shown): string {
  return leverageText(outcome ? outcome.requestedLeverage : declaredField(event?.sent, 'leverage'));
}

export function outcomeLine(outcome: PublishedOutcome, event: TrackedEvent | undefined, elapsedMs: number): string {
  const row: Shown = { event, outcome };
  const details = [triggerOf(row)];
  if (outcome.durationMs !== undefined) details.push(`${outcome.durationMs} ms`);
  if (event && event.attempts > 1) details.push(`attempt ${event.attempts}`);
  if (event === undefined) details.push('not sent by this run');
  const duplicate = event && event.duplicates > 0 && event.outcomes.filter((o) => o.symbol === outcome.symbol).length > 1;
  if (duplicate) details.push(style.red('DUPLICATE outcome'));
  return [
    style.dim(`[${seconds(elapsedMs).padStart(6)}]`),
    colorStatus(outcome.status, 8),
    outcome.eventId.padEnd(24),
    `${fieldOf(row, 'accountId')}/${fieldOf(row, 'symbol')}`.padEnd(17),
    // A failure next to what was asked; a success as the change it made.
    (outcome.error ? `${requestedOf(row).replace('-', '?')}: ${resultOf(row, 60)}` : resultOf(row, 60)).padEnd(10),
    style.dim(`${details.join(', ')}${outcome.reason ? ` · ${outcome.reason}` : ''}`),
  ].join(' ');
}

interface Column {
  title: string;
  value: (row: Row, tracker: Tracker) => string;
  align?: 'right';
  color?: (row: Row, padded: string) => string;
}

const COLUMNS: Column[] = [
  { title: 'eventId', value: ({ event, outcome }) => outcome?.eventId ?? event.eventId ?? [...event.recordIds][0] ?? '-' },
  { title: 'trigger', value: triggerOf },
  { title: 'account', value: (row) => fieldOf(row, 'accountId') },
  { title: 'symbol', value: (row) => fieldOf(row, 'symbol') },
  { title: 'requested', value: requestedOf, align: 'right' },
  { title: 'status', value: (row) => rowStatus(row) ?? NO_OUTCOME, color: (row, padded) => colorStatus(rowStatus(row), padded.length) },
  { title: 'leverage / error', value: (row) => resultOf(row, 48) },
  { title: 'tries', value: ({ event }) => String(event.attempts), align: 'right' },
  { title: 'duration', value: ({ outcome }) => (outcome?.durationMs === undefined ? '-' : `${outcome.durationMs} ms`), align: 'right' },
  { title: 'check', value: (row, tracker) => (tracker.unmet(row) !== undefined ? 'UNEXPECTED' : tracker.expectationFor(row) ? 'ok' : '') },
];

export function summaryTable(tracker: Tracker): string {
  const rows = rowsOf(tracker.events);
  const cells = rows.map((row) => COLUMNS.map((column) => column.value(row, tracker)));
  const widths = COLUMNS.map((column, i) => Math.max(column.title.length, ...cells.map((line) => line[i]!.length)));
  const pad = (text: string, i: number) => (COLUMNS[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (texts: string[]) => texts.join('  ').trimEnd();
  const header = line(COLUMNS.map((column, i) => style.bold(pad(column.title, i))));
  const rule = line(widths.map((width) => '─'.repeat(width)));
  const body = rows.map((row, r) =>
    line(cells[r]!.map((cell, i) => COLUMNS[i]!.color?.(row, pad(cell, i)) ?? pad(cell, i))),
  );
  return [header, rule, ...body].join('\n');
}

export function totalsLine(events: TrackedEvent[]): string {
  const rows = rowsOf(events);
  const counts = new Map<string, number>();
  for (const row of rows) {
    const status = rowStatus(row) ?? NO_OUTCOME;
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  const ordered = [...STATUS_ORDER.filter((status) => counts.has(status)), ...[...counts.keys()].filter((s) => !STATUS_ORDER.includes(s))];
  const outcomes = rows.filter((row) => row.outcome).length;
  const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const size = plural(events.length, 'event') + (rows.length === events.length ? '' : `, ${plural(outcomes, 'outcome')}`);
  return `Totals: ${ordered.map((status) => `${status} ${counts.get(status)}`).join(', ')} (${size})`;
}
