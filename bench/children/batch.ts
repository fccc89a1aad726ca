/**
 * A Lambda container in a fresh process: import the bundle once, then invoke the handler with
 * each prepared event in turn, measuring wall time and this process's CPU per invocation.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { BatchJob, BatchResult, InvocationMeasure } from '../protocol.ts';
import { rssReport, readJob, runChild } from './io.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const FUNCTION_TIMEOUT_MS = 30_000;

function lambdaContext(): Context {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'change-leverage',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:change-leverage',
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/change-leverage',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const job = readJob<BatchJob>();
runChild(async (): Promise<BatchResult> => {
  const importStartedAt = performance.now();
  const { handler } = (await import(pathToFileURL(job.bundlePath).href)) as { handler: Handler };
  const importMs = performance.now() - importStartedAt;
  const invocations: InvocationMeasure[] = [];
  for (const { label, event } of job.invocations) {
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const response = await handler(event, lambdaContext());
    const wallMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuBefore);
    invocations.push({ label, wallMs, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, response });
  }
  return { importMs, invocations, rss: rssReport() };
});
