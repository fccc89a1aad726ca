/**
 * The part every exchange-client contender shares: one cold change (timed from process start),
 * then warm-up, sequential calls (latency percentiles) and calls with N in flight (throughput).
 * Every call must come back confirming the leverage it asked for, or the run fails.
 */
import { performance } from 'node:perf_hooks';
import type { ClientJob, ClientResult } from '../protocol.ts';
import { rssReport, readJob, runChild } from '../children/io.ts';
import { percentile } from '../stats.ts';

/** Changes the leverage and resolves with the leverage the exchange reports in force. */
export type ChangeLeverage = (leverage: number) => Promise<number>;

/** Call after the contender's imports (its module body runs once they are all evaluated). */
export function runClientContender(connect: (job: ClientJob) => ChangeLeverage | Promise<ChangeLeverage>): void {
  const modulesLoadedAt = performance.timeOrigin + performance.now();
  const job = readJob<ClientJob>();
  runChild(async (): Promise<ClientResult> => {
    const change = await connect(job);
    let confirmedCalls = 0;
    const confirmed = async (leverage: number) => {
      const reported = await change(leverage);
      if (reported !== leverage) throw new Error(`asked for leverage ${leverage}, the exchange reported ${String(reported)}`);
      confirmedCalls += 1;
    };
    const [even, odd] = job.leverages;
    const alternate = (i: number) => (i % 2 === 0 ? odd : even);

    await confirmed(even);
    const coldConfirmedAt = performance.timeOrigin + performance.now();

    for (let i = 0; i < job.warmupCalls; i++) await confirmed(alternate(i));

    const latencies: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < job.sequentialCalls; i++) {
      const startedAt = performance.now();
      await confirmed(alternate(i));
      latencies.push(performance.now() - startedAt);
    }
    const cpu = process.cpuUsage(cpuBefore);

    let next = 0;
    const concurrentCpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    const worker = async () => {
      while (next < job.concurrentCalls) await confirmed(alternate(next++));
    };
    await Promise.all(Array.from({ length: job.inFlight }, worker));
    const seconds = (performance.now() - startedAt) / 1000;
    const concurrentCpu = process.cpuUsage(concurrentCpuBefore);

    await confirmed(job.finalLeverage);
    return {
      modulesLoadedAt,
      coldConfirmedAt,
      cpuPerCallUs: (cpu.user + cpu.system) / job.sequentialCalls,
      userCpuPerCallUs: cpu.user / job.sequentialCalls,
      sequentialP50Ms: percentile(latencies, 50),
      sequentialP99Ms: percentile(latencies, 99),
      throughputPerSec: job.concurrentCalls / seconds,
      concurrentCpuPerCallUs: (concurrentCpu.user + concurrentCpu.system) / job.concurrentCalls,
      confirmedCalls,
      rss: rssReport(),
    };
  });
}
