/**
 * How an invocation's remaining time is shared out, so that no call outlives it. A dependency
 * that hangs (Binance, Secrets Manager, DynamoDB, SSM, even SNS) costs at most the time left
 * before its phase ends, never the invocation: there is always time to publish the FAILED
 * outcomes of final attempts and to return the batch response before Lambda's timeout.
 *
 *   work (exchange, credentials, state, pause switch)    ends WORK_RESERVE_MS before the deadline
 *   settling: "did this target complete earlier?"        ends CHECK_RESERVE_MS before it
 *   publishing outcomes                                   ends RESPONSE_RESERVE_MS before it
 *   building and returning the response                   the last RESPONSE_RESERVE_MS
 */
import { RetryableError } from './errors.ts';
import type { Deadline } from './ports.ts';

export const WORK_RESERVE_MS = 1500;
export const CHECK_RESERVE_MS = 750;
export const RESPONSE_RESERVE_MS = 250;

/** Below this a call is not started: it could not complete, and failing at once saves the time. */
export const MIN_CALL_BUDGET_MS = 50;

/** The same deadline, `reserveMs` earlier. */
export function endingEarlier(deadline: Deadline, reserveMs: number): Deadline {
  return { remainingMs: () => deadline.remainingMs() - reserveMs };
}

/**
 * How long one call may take: its own cap, cut to what is left before the deadline. Throws
 * TIME_BUDGET_EXHAUSTED (retryable) instead of starting a call that could not finish.
 */
export function callBudgetMs(capMs: number, deadline: Deadline | undefined, what: string): number {
  const budget = deadline ? Math.min(capMs, deadline.remainingMs()) : capMs;
  if (budget < MIN_CALL_BUDGET_MS) throw new RetryableError('TIME_BUDGET_EXHAUSTED', `not enough invocation time left for ${what}`);
  return budget;
}

/** Whether an invocation starting with `remainingMs` can start any record at all. */
export function canStartWork(remainingMs: number, minimumTimeToStartMs: number): boolean {
  return remainingMs - WORK_RESERVE_MS >= minimumTimeToStartMs;
}
