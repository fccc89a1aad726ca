// Lambda init phase in a fresh process: import a handler bundle and time it.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { InitJob, InitResult } from '../protocol.ts';
import { rssReport, readJob, runChild } from './io.ts';

/** Reported name → Node's internal module name. undici is what Node's fetch/WebSocket are built on. */
const WATCHED_BUILTINS = { http: 'http', https: 'https', tls: 'tls', 'undici (internal)': 'internal/deps/undici/undici' };

const job = readJob<InitJob>();
runChild(async (): Promise<InitResult> => {
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  await import(pathToFileURL(job.bundlePath).href);
  const importMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuBefore);
  const readyAt = performance.timeOrigin + performance.now();
  // process.moduleLoadList names the Node built-ins loaded so far ("NativeModule https").
  const loaded = new Set((process as unknown as { moduleLoadList: string[] }).moduleLoadList);
  const networkBuiltins = Object.entries(WATCHED_BUILTINS)
    .filter(([, internalName]) => loaded.has(`NativeModule ${internalName}`))
    .map(([name]) => name);
  return { readyAt, importMs, importCpuMs: (cpu.user + cpu.system) / 1000, networkBuiltins, rss: rssReport() };
});
