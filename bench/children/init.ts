// Lambda init phase in a fresh process: import a handler bundle and time it.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { InitJob, InitResult } from '../protocol.ts';
import { maxRssKiB, readJob, runChild } from './io.ts';

const job = readJob<InitJob>();
runChild(async (): Promise<InitResult> => {
  const startedAt = performance.now();
  await import(pathToFileURL(job.bundlePath).href);
  const importMs = performance.now() - startedAt;
  return { readyAt: performance.timeOrigin + performance.now(), importMs, maxRssKiB: maxRssKiB() };
});
