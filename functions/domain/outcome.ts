/**
 * The outcome contract: exactly one per event and symbol, published to the result topic.
 * Builders here are the only place outcomes are shaped, so the README's contract has a single
 * source of truth.
 */
import type { ErrorCode, GuardError } from './errors.ts';
import type { PartialIdentity, RiskCommand, Target } from './risk-event.ts';

export type Trigger = 'sqs' | 'eventbridge' | 'direct';

export type OutcomeStatus = 'APPLIED' | 'REJECTED' | 'FAILED' | 'SKIPPED' | 'DRY_RUN';

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
  mode?: RiskCommand['mode'];
  status: OutcomeStatus;
  /** APPLIED: the leverage now in force. DRY_RUN: the leverage that would have been set. */
  leverage?: number;
  /** The leverage read from Binance before the change, whenever it was read. */
  currentLeverage?: number;
  maxNotionalValue?: string;
  /** The request was above the leverage cap, so the cap was set (or, on DRY_RUN, would be) instead. */
  capped?: true;
  /** Why, on REJECTED, FAILED and SKIPPED. */
  error?: OutcomeError;
  trigger: Trigger;
  issuedAt?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
  processedAt: string;
  durationMs: number;
}

/** What happened to one target (or, without a target, to the whole event). */
export type Verdict =
  | { status: 'APPLIED'; leverage: number; maxNotionalValue?: string; currentLeverage?: number; capped?: boolean }
  | { status: 'DRY_RUN'; leverage: number; currentLeverage: number; capped?: boolean }
  | { status: 'SKIPPED' | 'REJECTED' | 'FAILED'; error: GuardError; currentLeverage?: number };

/** Where and when a record was processed: the part of every outcome that is not about the event. */
export interface OutcomeContext {
  recordId: string;
  trigger: Trigger;
  startedAt: number;
  now: number;
}

export function outcomeOf(command: RiskCommand, target: Target | undefined, verdict: Verdict, context: OutcomeContext): Outcome {
  const { status, ...rest } = verdict;
  const error = 'error' in rest ? errorFields(rest.error) : undefined;
  return {
    eventId: command.eventId,
    accountId: command.accountId,
    symbol: target?.symbol,
    requestedLeverage: target?.leverage ?? (command.scope.kind === 'all-open-positions' ? command.scope.leverage : undefined),
    mode: command.mode,
    status,
    leverage: 'leverage' in rest ? rest.leverage : undefined,
    currentLeverage: rest.currentLeverage,
    maxNotionalValue: 'maxNotionalValue' in rest ? rest.maxNotionalValue : undefined,
    capped: 'capped' in rest && rest.capped ? true : undefined,
    error,
    issuedAt: command.issuedAt,
    reason: command.reason,
    metadata: command.metadata,
    ...timing(context),
  };
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
