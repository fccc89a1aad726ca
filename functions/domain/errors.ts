/**
 * The one error taxonomy used everywhere: every failure is either permanent (retrying the same
 * event cannot help, so it ends as a REJECTED outcome) or retryable (the record goes back to its
 * queue, or the async invocation fails, until retries run out and it ends as FAILED).
 *
 * `code` is Binance's numeric code when the exchange gave one, otherwise a stable string.
 * Messages must never contain credential material: they end up in outcomes and logs.
 */
export type ErrorCode = number | string;

export abstract class GuardError extends Error {
  abstract readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(withoutAwsIdentity(message), options);
    this.name = new.target.name;
  }
}

export class PermanentError extends GuardError {
  readonly retryable = false;
}

/**
 * A decision not to act (stale, superseded, not a reduction…): permanent, reported as SKIPPED
 * rather than REJECTED because nothing is wrong with the event or the exchange.
 */
export class SkipDecision extends PermanentError {
  constructor(
    code: ErrorCode,
    message: string,
    /** The leverage read before deciding, when it was read. */
    readonly currentLeverage?: number,
  ) {
    super(code, message);
  }
}

export class RetryableError extends GuardError {
  readonly retryable = true;

  constructor(
    code: ErrorCode,
    message: string,
    /** How long the source asked us to wait (Retry-After), when it said. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/**
 * The exchange refused the account's credentials (-2014, -2015, -1022), or they could not be
 * read. Not the event's fault, and fixable by an operator (rotate the key, fix the IP whitelist,
 * grant access): retried, never REJECTED, so the event ends FAILED in the DLQ and can be redriven.
 */
export class AuthenticationError extends RetryableError {}

/**
 * The request reached the exchange and may or may not have executed (Binance 503 "Unknown error",
 * -1006/-1007, a timeout or reset after the request was sent). Never report it as applied or
 * failed without reading the state back.
 */
export class ExecutionUnknownError extends RetryableError {}

/** Anything thrown that is not ours (a bug, an SDK error we did not map) is treated as retryable. */
export function asGuardError(error: unknown): GuardError {
  if (error instanceof GuardError) return error;
  return new RetryableError('INTERNAL_ERROR', describeError(error), undefined, { cause: error });
}

/** "Name: message" of anything thrown, for wrapping a foreign error in one of ours (see withoutAwsIdentity). */
export function describeError(error: unknown): string {
  return withoutAwsIdentity(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}

const ARN = /\barn:aws[a-z-]*:[^\s"'`,;()<>]*/g;
// Twelve digits standing alone; a decimal part (123456789012.5) is a number, a sentence's full stop is not.
const ACCOUNT_ID = /(?<![\d.])\d{12}(?!\d|\.\d)/g;

/**
 * AWS errors name the caller ("User: arn:aws:sts::123456789012:assumed-role/…") and the resource
 * ARN. Outcomes travel to other teams and logs are widely readable, so every message of ours drops
 * ARNs and account ids; the error's name and code still say which dependency failed and how.
 */
export function withoutAwsIdentity(text: string): string {
  return text.replace(ARN, '<arn>').replace(ACCOUNT_ID, '<account>');
}
