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

/**
 * The record's log: the shared logger with the eventId passed along on every line. Not
 * `logger.createChild({ persistentKeys: { eventId } })`, which prints the same fields but builds a
 * whole Logger per record (options merged, its own Console): 40 µs of CPU per record against a
 * few for this (bench/profile/micro.ts), about a fifth of a bare exchange call (issue 13).
 */
export function loggerFor(eventId: string): Log {
  const key = { eventId };
  return {
    debug: (message, ...extra) => logger.debug(message, key, ...extra),
    info: (message, ...extra) => logger.info(message, key, ...extra),
    warn: (message, ...extra) => logger.warn(message, key, ...extra),
    error: (message, ...extra) => logger.error(message, key, ...extra),
  };
}
