/**
 * Time bounds for the AWS SDK client (Secrets Manager), with the SDK's own mechanisms:
 * the request handler bounds each attempt (built once, in index.ts), and an abort signal per
 * command bounds the whole call, retries and their back-off included, by the caller's deadline.
 * Without them a hanging endpoint holds the call until Lambda kills the invocation.
 */
import type { Deadline } from '../../domain/ports.ts';
import { callBudgetMs } from '../../domain/time-budget.ts';

/** A whole call (all attempts; SNS PublishBatch's one attempt too): these services answer in tens of milliseconds. */
export const AWS_CALL_TIMEOUT_MS = 5000;

/**
 * Per attempt. Shorter than a call, so that one stuck connection is retried on a fresh one within
 * the call's time. `throwOnRequestTimeout`: without it the SDK only logs a warning.
 */
export const SDK_REQUEST_HANDLER = { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true } as const;

export class CallTimeoutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CallTimeoutError';
  }
}

/**
 * Runs `send(options)` (a `client.send(command, options)`) aborted when the call's budget runs
 * out. Throws TIME_BUDGET_EXHAUSTED without sending when the deadline leaves too little time.
 */
export async function sendWithin<T>(deadline: Deadline | undefined, what: string, send: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
  const budgetMs = callBudgetMs(AWS_CALL_TIMEOUT_MS, deadline, what);
  const abortSignal = AbortSignal.timeout(budgetMs);
  try {
    return await send({ abortSignal });
  } catch (error) {
    // The SDK's AbortError says only "Request aborted".
    if (abortSignal.aborted) throw new CallTimeoutError(`no answer within ${budgetMs} ms`, { cause: error });
    throw error;
  }
}
