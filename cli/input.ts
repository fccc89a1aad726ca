/**
 * Reading risk events from a file or stdin: one event, an array of events, or an `npm start`
 * event file (README, "Event files"), whose events are listed with where they sit in the file.
 */
import { readFileSync } from 'node:fs';
import { parseJsonBody } from '../functions/domain/risk-event.ts';
import { EventFileError, parseEventFile } from '../local/run/event-file.ts';
import { UsageError } from './output.ts';

export interface InputEvent {
  /** Where in the input: `event`, `events[2]`, `sqs[0]`, `eventBridge[1].detail`… */
  where: string;
  event: unknown;
  /** Set when the entry is not even JSON (a raw SQS body in an event file). */
  unparsable?: string;
}

const EVENT_FILE_KEYS = ['faults', 'sqs', 'eventBridge', 'scheduled', 'expect'];

export function readJsonInput(source: string): unknown {
  let text: string;
  try {
    text = source === '-' ? readFileSync(0, 'utf8') : readFileSync(source, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${source === '-' ? 'stdin' : source}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source === '-' ? 'stdin' : source} is not JSON: ${(error as Error).message}`);
  }
}

export function isEventFile(json: unknown): boolean {
  return typeof json === 'object' && json !== null && !Array.isArray(json) && EVENT_FILE_KEYS.some((key) => key in json);
}

export function eventsOf(json: unknown): InputEvent[] {
  if (Array.isArray(json)) return json.map((event, index) => ({ where: `events[${index}]`, event }));
  if (!isEventFile(json)) return [{ where: 'event', event: json }];
  let file;
  try {
    file = parseEventFile(json);
  } catch (error) {
    if (error instanceof EventFileError) throw new UsageError(`event file: ${error.message}`);
    throw error;
  }
  return [
    ...file.sqs.map((body, index): InputEvent => {
      if (typeof body !== 'string') return { where: `sqs[${index}]`, event: body };
      const parsed = parseJsonBody(body);
      return parsed.ok ? { where: `sqs[${index}]`, event: parsed.value } : { where: `sqs[${index}]`, event: body, unparsable: parsed.message };
    }),
    ...file.eventBridge.map((entry, index) => ({ where: `eventBridge[${index}].detail`, event: entry.detail })),
    ...file.scheduled.map((entry, index) => ({ where: `scheduled[${index}]`, event: entry.event })),
  ];
}
