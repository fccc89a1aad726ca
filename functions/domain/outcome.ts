/**
 * The outcome contract: exactly one per event and symbol, published to the result topic.
 * Builders here are the only place outcomes are shaped, so the README's contract has a single
 * source of truth. Every builder caps what it echoes (see `fitted`), so any outcome fits the topic.
 */
import { type ErrorCode, type GuardError, PermanentError } from './errors.ts';
import { MAX_METADATA_BYTES, type PartialIdentity, type RiskCommand, serialisedBytes, type Target } from './risk-event.ts';

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
  /** true when `metadata` holds only its leading entries: the rest did not fit its byte cap. */
  metadataTruncated?: boolean;
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

/** SNS refuses a message over 256 KiB, body and message attributes together. */
export const SNS_MAX_MESSAGE_BYTES = 256 * 1024;
/**
 * What one outcome may echo. Together (at most ~48 KB of JSON even with every character escaped,
 * plus attributes that repeat status, symbol and accountId) far below SNS's limit, and below the
 * limits of what subscribers wrap it in (SQS, Lambda).
 */
export const OUTCOME_CAPS = { messageBytes: 4096, metadataBytes: MAX_METADATA_BYTES, textChars: 512 } as const;

export function outcomeOf(command: RiskCommand, target: Target | undefined, verdict: Verdict, context: OutcomeContext): Outcome {
  const { status, ...rest } = verdict;
  const error = 'error' in rest ? errorFields(rest.error) : undefined;
  return fitted({
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
  });
}

/** The event itself is unusable; identify it as well as we can (falling back to the record id). */
export function invalidEventOutcome(partial: PartialIdentity, message: string, context: OutcomeContext): Outcome {
  return identifiedOnlyOutcome(partial, { status: 'REJECTED', error: new PermanentError('INVALID_EVENT', message) }, context);
}

/** An outcome about an event known only by what could be salvaged of its identity (not a command). */
export function identifiedOnlyOutcome(
  partial: PartialIdentity,
  verdict: { status: 'REJECTED' | 'FAILED'; error: GuardError },
  context: OutcomeContext,
): Outcome {
  return fitted({
    eventId: partial.eventId ?? context.recordId,
    accountId: partial.accountId,
    symbol: partial.symbol,
    requestedLeverage: partial.requestedLeverage,
    status: verdict.status,
    error: errorFields(verdict.error),
    ...timing(context),
  });
}

/**
 * Caps what an outcome echoes, so that it always fits the topic: the error message by its UTF-8
 * bytes, metadata by its serialised bytes (leading entries kept, `metadataTruncated` set), other
 * echoed text (error codes included) by characters. Validated events are within these caps already; what exceeds them
 * comes from elsewhere (a foreign error's message, a fallback id, a Lambda error record).
 */
function fitted(outcome: Outcome): Outcome {
  const text = (value: string | undefined) => (value === undefined ? undefined : truncateChars(value, OUTCOME_CAPS.textChars));
  const metadata = outcome.metadata && leadingEntries(outcome.metadata, OUTCOME_CAPS.metadataBytes);
  return {
    ...outcome,
    eventId: truncateChars(outcome.eventId, OUTCOME_CAPS.textChars),
    accountId: text(outcome.accountId),
    symbol: text(outcome.symbol),
    maxNotionalValue: text(outcome.maxNotionalValue),
    issuedAt: text(outcome.issuedAt),
    reason: text(outcome.reason),
    error: outcome.error && {
      ...outcome.error,
      code: typeof outcome.error.code === 'string' ? truncateChars(outcome.error.code, OUTCOME_CAPS.textChars) : outcome.error.code,
      message: truncateBytes(outcome.error.message, OUTCOME_CAPS.messageBytes),
    },
    metadata: metadata?.entries,
    metadataTruncated: metadata?.truncated || undefined,
  };
}

function leadingEntries(metadata: Record<string, unknown>, maxBytes: number): { entries: Record<string, unknown>; truncated: boolean } {
  if (serialisedBytes(metadata) <= maxBytes) return { entries: metadata, truncated: false };
  const entries: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    entries[key] = value;
    if (serialisedBytes(entries) > maxBytes) {
      delete entries[key];
      break;
    }
  }
  return { entries, truncated: true };
}

const ELLIPSIS = '…';

function truncateChars(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - ELLIPSIS.length)}${ELLIPSIS}`;
}

function truncateBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // A multi-byte character cut in half decodes as U+FFFD; drop it.
  const kept = bytes.subarray(0, maxBytes - Buffer.byteLength(ELLIPSIS)).toString('utf8').replace(/\uFFFD$/, '');
  return `${kept}${ELLIPSIS}`;
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
