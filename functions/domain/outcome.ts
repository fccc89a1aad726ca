/**
 * The outcome contract: exactly one per event (per symbol, once rules fan out), published to the
 * result topic. Builders here are the only place outcomes are shaped, so the contract in the
 * README has a single source of truth.
 */
import type { ErrorCode, GuardError } from './errors.ts';
import type { PartialIdentity, RiskCommand } from './risk-event.ts';
import type { LeverageSetting } from './ports.ts';

export type Trigger = 'sqs' | 'eventbridge' | 'direct';

export type OutcomeStatus = 'APPLIED' | 'REJECTED' | 'FAILED';

export interface OutcomeError {
  code: ErrorCode;
  message: string;
  /** true only on FAILED: the cause was transient, so redriving the event may succeed. */
  retryable: boolean;
}

export interface Outcome {
  eventId: string;
  accountId?: string;
  symbol?: string;
  requestedLeverage?: number;
  status: OutcomeStatus;
  leverage?: number;
  maxNotionalValue?: string;
  error?: OutcomeError;
  trigger: Trigger;
  issuedAt?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
  processedAt: string;
  durationMs: number;
}

/** Where and when a record was processed: the part of every outcome that is not about the event. */
export interface OutcomeContext {
  recordId: string;
  trigger: Trigger;
  startedAt: number;
  now: number;
}

export function appliedOutcome(command: RiskCommand, setting: LeverageSetting, context: OutcomeContext): Outcome {
  return {
    ...commandFields(command),
    status: 'APPLIED',
    leverage: setting.leverage,
    maxNotionalValue: setting.maxNotionalValue,
    ...timing(context),
  };
}

/** A permanent error (exchange business error, bad credentials format…) for a valid command. */
export function rejectedOutcome(command: RiskCommand, error: GuardError, context: OutcomeContext): Outcome {
  return { ...commandFields(command), status: 'REJECTED', error: errorFields(error), ...timing(context) };
}

/** Retries are exhausted: the record goes to the DLQ with this outcome published. */
export function failedOutcome(command: RiskCommand, error: GuardError, context: OutcomeContext): Outcome {
  return { ...commandFields(command), status: 'FAILED', error: errorFields(error), ...timing(context) };
}

/** The event itself is unusable; identify it as well as we can (falling back to the record id). */
export function invalidEventOutcome(partial: PartialIdentity, message: string, context: OutcomeContext): Outcome {
  return {
    eventId: partial.eventId ?? context.recordId,
    accountId: partial.accountId,
    symbol: partial.symbol,
    requestedLeverage: partial.requestedLeverage,
    status: 'REJECTED',
    error: { code: 'INVALID_EVENT', message, retryable: false },
    ...timing(context),
  };
}

function commandFields(command: RiskCommand) {
  return {
    eventId: command.eventId,
    accountId: command.accountId,
    symbol: command.symbol,
    requestedLeverage: command.leverage,
    issuedAt: command.issuedAt,
    reason: command.reason,
    metadata: command.metadata,
  };
}

function errorFields(error: GuardError): OutcomeError {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

function timing(context: OutcomeContext) {
  return {
    trigger: context.trigger,
    processedAt: new Date(context.now).toISOString(),
    durationMs: Math.max(0, context.now - context.startedAt),
  };
}
