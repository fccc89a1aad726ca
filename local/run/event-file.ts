/**
 * The event files `npm start` sends: which risk events go through which channel, which faults the
 * Binance simulator injects first, and (optionally) what each event's outcome should be.
 *
 *   {
 *     "description": "free text",
 *     "faults":      [FaultRule, ...],                      injected into the simulator first
 *     "sqs":         [riskEvent | "raw body", ...],         sent to the risk-event queue, in order
 *     "eventBridge": [detail | {"detail-type", "detail"}],  put on the bus (rule → function)
 *     "scheduled":   [event | {"schedule", "event"}],       direct invocation, as Scheduler does
 *     "expect":      {"<eventId>" or "<eventId>/<SYMBOL>": "APPLIED" | {status, leverage?, code?, trigger?}}
 *   }
 *
 * A plain JSON array is shorthand for `{ "sqs": [...] }`. Events are sent exactly as written (an
 * invalid event is the point of some entries), so only the envelope is checked here.
 */
import { readFileSync } from 'node:fs';
import type { FaultRule } from '../binance-simulator/types.ts';

export const DEFAULT_EVENTS_PATH = 'local/events/default.json';

/**
 * Final states of a sent event without an outcome, by design: an asynchronous invocation handed
 * back on every attempt (Lambda's on-failure destination takes it), or an EventBridge event the
 * rule does not match. Every other final state is an outcome status (APPLIED, REJECTED...).
 */
export type NoOutcomeStatus = 'HANDED_BACK' | 'NOT_DELIVERED';

export interface Expectation {
  /** An outcome status, or a NoOutcomeStatus. */
  status: string;
  leverage?: number;
  /** Error code: a Binance code (-4028) or the function's own (INVALID_EVENT). */
  code?: number | string;
  trigger?: string;
}

export interface EventBridgeEntry {
  detailType?: string;
  detail: unknown;
}

export interface ScheduledEntry {
  schedule?: string;
  event: unknown;
}

export interface EventFile {
  description?: string;
  faults: FaultRule[];
  sqs: unknown[];
  eventBridge: EventBridgeEntry[];
  scheduled: ScheduledEntry[];
  expect: Record<string, Expectation>;
}

export class EventFileError extends Error {
  override name = 'EventFileError';
}

const TOP_LEVEL_KEYS = ['description', '_comment', 'faults', 'sqs', 'eventBridge', 'scheduled', 'expect'];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function listOf(value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new EventFileError(`${field} must be an array`);
  return value;
}

function parseFault(rule: unknown, index: number): FaultRule {
  if (!isObject(rule) || !isObject(rule.fault) || typeof rule.fault.type !== 'string') {
    throw new EventFileError(`faults[${index}] must be a FaultRule such as {"fault":{"type":"serviceUnavailable"},"symbol":"BNBUSDT"}`);
  }
  return rule as unknown as FaultRule;
}

function parseSqsBody(body: unknown, index: number): unknown {
  if (body === undefined || body === null) throw new EventFileError(`sqs[${index}] is empty`);
  return body;
}

function parseEventBridge(entry: unknown, index: number): EventBridgeEntry {
  if (isObject(entry) && 'detail' in entry && ('detail-type' in entry || 'detailType' in entry)) {
    const detailType = entry['detail-type'] ?? entry.detailType;
    if (typeof detailType !== 'string') throw new EventFileError(`eventBridge[${index}]: detail-type must be a string`);
    return { detailType, detail: entry.detail };
  }
  if (!isObject(entry)) throw new EventFileError(`eventBridge[${index}] must be an object (the event detail)`);
  return { detail: entry };
}

function parseScheduled(entry: unknown, index: number): ScheduledEntry {
  if (isObject(entry) && 'event' in entry && typeof entry.schedule === 'string') {
    return { schedule: entry.schedule, event: entry.event };
  }
  if (entry === undefined) throw new EventFileError(`scheduled[${index}] is empty`);
  return { event: entry };
}

function parseExpectation(value: unknown, eventId: string): Expectation {
  const expectation = typeof value === 'string' ? { status: value } : value;
  if (!isObject(expectation) || typeof expectation.status !== 'string' || !/^[A-Z][A-Z_]*$/.test(expectation.status)) {
    throw new EventFileError(`expect.${eventId}: status must be a status such as APPLIED, REJECTED, FAILED or HANDED_BACK`);
  }
  if (expectation.leverage !== undefined && typeof expectation.leverage !== 'number') {
    throw new EventFileError(`expect.${eventId}: leverage must be a number`);
  }
  if (expectation.code !== undefined && !['number', 'string'].includes(typeof expectation.code)) {
    throw new EventFileError(`expect.${eventId}: code must be a number or a string`);
  }
  return expectation as unknown as Expectation;
}

export function parseEventFile(json: unknown): EventFile {
  if (Array.isArray(json)) return { faults: [], sqs: json.map(parseSqsBody), eventBridge: [], scheduled: [], expect: {} };
  if (!isObject(json)) throw new EventFileError('must be a JSON object (or an array of risk events)');
  const unknown = Object.keys(json).filter((key) => !TOP_LEVEL_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new EventFileError(`unknown field ${unknown.join(', ')} (allowed: ${TOP_LEVEL_KEYS.join(', ')})`);
  }
  if (json.expect !== undefined && !isObject(json.expect)) throw new EventFileError('expect must be an object keyed by eventId');
  const file: EventFile = {
    description: typeof json.description === 'string' ? json.description : undefined,
    faults: listOf(json.faults, 'faults').map(parseFault),
    sqs: listOf(json.sqs, 'sqs').map(parseSqsBody),
    eventBridge: listOf(json.eventBridge, 'eventBridge').map(parseEventBridge),
    scheduled: listOf(json.scheduled, 'scheduled').map(parseScheduled),
    expect: Object.fromEntries(
      Object.entries(json.expect ?? {}).map(([eventId, value]) => [eventId, parseExpectation(value, eventId)]),
    ),
  };
  if (file.sqs.length + file.eventBridge.length + file.scheduled.length === 0) {
    throw new EventFileError('no events: give at least one of sqs, eventBridge, scheduled');
  }
  return file;
}

export function loadEventFile(path: string): EventFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new EventFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new EventFileError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseEventFile(json);
  } catch (error) {
    if (error instanceof EventFileError) throw new EventFileError(`${path}: ${error.message}`);
    throw error;
  }
}

/** A field of the event as written (for the summary of events that got no outcome). */
export function declaredField(event: unknown, field: string): unknown {
  return isObject(event) ? event[field] : undefined;
}

/** The eventId the function will report, when the event as written carries a usable one. */
export function declaredEventId(event: unknown): string | undefined {
  const eventId = declaredField(event, 'eventId');
  return typeof eventId === 'string' && eventId.length > 0 && eventId.length <= 128 ? eventId : undefined;
}
