/** A Lambda context whose remaining time counts down from `budgetMs` on `now` (the wall clock by default). */
import type { Context } from 'aws-lambda';

let invocations = 0;

export function lambdaContext(budgetMs: number, requestId = `req-${process.pid}-${++invocations}`, now: () => number = Date.now): Context {
  const startedAt = now();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'leverage-guard-chaos-change-leverage',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:leverage-guard-chaos-change-leverage',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/leverage-guard-chaos-change-leverage',
    logStreamName: 'chaos',
    getRemainingTimeInMillis: () => Math.max(0, budgetMs - (now() - startedAt)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
