/**
 * The change-leverage handler, built from its collaborators (deps.ts wires them). `index.ts` passes
 * the real adapters; tests pass fakes and get the very same handler (middy stack, normalise,
 * process, respond).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger.ts';
import { metrics, recordConfigurationError, recordInvocationMetrics } from './metrics.ts';
import type { Deadline } from '../domain/ports.ts';
import { type BatchDeps, processBatch } from '../domain/process-batch.ts';
import { canStartWork, WORK_RESERVE_MS } from '../domain/time-budget.ts';
import { normalise, respond } from './lambda-events.ts';

export interface HandlerDeps extends Omit<BatchDeps, 'deadline'> {
  maxReceiveCount: number;
}

export function createChangeLeverageHandler(deps: HandlerDeps) {
  async function changeLeverageHandler(event: unknown, context: Context) {
    const records = normalise(event, context, deps.maxReceiveCount);
    const deadline: Deadline = { remainingMs: () => context.getRemainingTimeInMillis() };
    const budgetMs = deadline.remainingMs();
    if (!canStartWork(budgetMs, deps.minimumTimeToStartMs)) reportBudgetBelowOneRequest(budgetMs, deps.minimumTimeToStartMs);
    const results = await processBatch(records, { ...deps, deadline });
    recordInvocationMetrics(results);
    logger.info('invocation complete', {
      eventIds: results.map((r) => r.eventId),
      acknowledged: results.filter((r) => r.disposition === 'acknowledge').length,
      handedBack: results.filter((r) => r.disposition === 'retry').length,
      // How close the invocation came to its timeout (time-budget.ts keeps a reserve).
      remainingMs: context.getRemainingTimeInMillis(),
    });
    return respond(event, results);
  }
  return middy(changeLeverageHandler).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}

/**
 * The whole invocation is shorter than one exchange request plus the reserve for outcomes: every
 * record will be handed back as out of time, and on its last receive end FAILED. Said once per
 * invocation, naming the setting, because nothing else would point at the cause.
 */
function reportBudgetBelowOneRequest(remainingMs: number, requestTimeoutMs: number): void {
  logger.error('the invocation is too short for one exchange request: lower BINANCE_REQUEST_TIMEOUT_MS or raise the function timeout', {
    setting: 'BINANCE_REQUEST_TIMEOUT_MS',
    requestTimeoutMs,
    remainingMs,
    reserveMs: WORK_RESERVE_MS,
  });
  recordConfigurationError('BINANCE_REQUEST_TIMEOUT_MS');
}
