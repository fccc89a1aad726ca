/**
 * Structured JSON logs (Powertools Logger). Every line a record produces carries its eventId
 * (see `loggerFor`), and every line passes through the redaction replacer.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '../domain/ports.ts';
import { redactJson } from './redact.ts';

/** POWERTOOLS_SERVICE_NAME (set per stage by infra) wins; an explicit option would override it. */
export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME || 'leverage-guard';

export const logger = new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: redactJson });

export function loggerFor(eventId: string): Log {
  return logger.createChild({ persistentKeys: { eventId } });
}
