/**
 * A Lambda container in a fresh process: import the bundle once, then invoke the handler with
 * each prepared event in turn, measuring wall time and this process's CPU per invocation, and the
 * epoch time each invocation started (the orchestrator compares it with the moment the exchange
 * and the AWS fakes saw its requests). Optionally profiles the invocations of one label.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
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

const epochNow = () => performance.timeOrigin + performance.now();

/**
 * The V8 profiler through the inspector protocol (the same sampler and file format as
 * `node --cpu-prof`), started and stopped around the profiled invocations only, so the profile
 * shows a warm container's work without the import and the first batch.
 */
class WarmProfiler {
  private readonly session = new Session();
  private running = false;

  constructor(private readonly samplingIntervalUs: number) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.session.connect();
    await this.session.post('Profiler.enable');
    await this.session.post('Profiler.setSamplingInterval', { interval: this.samplingIntervalUs });
    await this.session.post('Profiler.start');
    this.running = true;
  }

  async stop(path: string): Promise<void> {
    if (!this.running) return;
    const { profile } = await this.session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
    this.session.disconnect();
  }
}

const job = readJob<BatchJob>();
runChild(async (): Promise<BatchResult> => {
  const importStartedAt = epochNow();
  const importStart = performance.now();
  const { handler } = (await import(pathToFileURL(job.bundlePath).href)) as { handler: Handler };
  const importMs = performance.now() - importStart;
  const profiler = job.profile ? new WarmProfiler(job.profile.samplingIntervalUs) : undefined;
  const invocations: InvocationMeasure[] = [];
  for (const { label, event, waitBeforeMs } of job.invocations) {
    if (waitBeforeMs) await new Promise((resolve) => setTimeout(resolve, waitBeforeMs));
    // Started before the first profiled invocation and left running: the profiled invocations are
    // the last ones of the job (the profiler's own set-up is outside every measured invocation).
    if (profiler && label === job.profile?.label) await profiler.start();
    const cpuBefore = process.cpuUsage();
    const startedAt = epochNow();
    const response = await handler(event, lambdaContext());
    const endedAt = epochNow();
    const cpu = process.cpuUsage(cpuBefore);
    invocations.push({ label, startedAt, endedAt, wallMs: endedAt - startedAt, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000, response });
  }
  if (profiler && job.profile) await profiler.stop(job.profile.path);
  return { importStartedAt, importMs, invocations, rss: rssReport() };
});
