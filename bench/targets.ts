/**
 * The targets, judged on one run's medians. A MISS carries its explanation built from the
 * same run's numbers (see EXPLANATIONS for the analysis behind each).
 */
import type { ClientSummary } from './client-bench.ts';
import type { FunctionSummary } from './function-bench.ts';
import { fmt, range, type Target } from './report.ts';

export const BUNDLE_LIMIT_BYTES = 600 * 1000;
export const RSS_LIMIT_MIB = 100;

export function evaluateTargets(clients: ClientSummary[], fn: FunctionSummary): Target[] {
  const by = (id: string) => clients.find((c) => c.contender.id === id);
  const ours = by('leverage-guard');
  const baseline = by('baseline');
  const connector = by('connector');
  const rel = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b !== 0 ? a / b : Number.NaN);

  const tpBase = rel(ours?.throughput?.median, baseline?.throughput?.median);
  const tpConnector = rel(ours?.throughput?.median, connector?.throughput?.median);
  const cold = rel(ours?.coldMs?.median, baseline?.coldMs?.median);
  const init = rel(fn.init.function.importMs.median, fn.init.sdkOnly.importMs.median);
  const bytes = fn.init.function.bundleBytes;
  const batch = fn.latency.ratio.median;
  const rss = fn.maxRssMiB.max;

  const targets: Target[] = [
    {
      name: 'warm throughput vs baseline',
      goal: '≥ 0.9× node:http baseline',
      measured: `${fmt(tpBase, 2)}× (${fmt(ours?.throughput?.median ?? NaN, 0)} vs ${fmt(baseline?.throughput?.median ?? NaN, 0)} req/s)`,
      pass: tpBase >= 0.9,
    },
    {
      name: 'warm throughput vs official connector',
      goal: '≥ 3× connector',
      measured: `${fmt(tpConnector, 2)}× (${fmt(ours?.throughput?.median ?? NaN, 0)} vs ${fmt(connector?.throughput?.median ?? NaN, 0)} req/s)`,
      pass: tpConnector >= 3,
    },
    {
      name: 'cold change vs baseline',
      goal: '≤ 1.2× baseline',
      measured: `${fmt(cold, 2)}× (${fmt(ours?.coldMs?.median ?? NaN, 0)} vs ${fmt(baseline?.coldMs?.median ?? NaN, 0)} ms)`,
      pass: cold <= 1.2,
    },
    {
      name: 'bundle size',
      goal: '≤ 600 KB minified, SDK inside',
      measured: `${fmt(bytes / 1000, 0)} KB (${fmt(bytes / 1024, 0)} KiB)`,
      pass: bytes <= BUNDLE_LIMIT_BYTES,
    },
    {
      name: 'cold init vs bare SDK bundle',
      goal: '≤ 1.15× bare SDK import',
      measured: `${fmt(init, 2)}× (${fmt(fn.init.function.importMs.median)} vs ${fmt(fn.init.sdkOnly.importMs.median)} ms)`,
      pass: init <= 1.15,
    },
    {
      name: 'batch of 10 symbols at 50 ms latency',
      goal: '≤ 1.5× one round trip',
      measured: `${fmt(batch, 2)}× (${fmt(fn.latency.batchMs.median)} vs ${fmt(fn.latency.singleMs.median)} ms)`,
      pass: batch <= 1.5,
    },
    {
      name: 'peak RSS of the function',
      goal: `< ${RSS_LIMIT_MIB} MiB (128 MB Lambda)`,
      measured: `max ${fmt(rss, 0)} MiB, median ${fmt(fn.maxRssMiB.median, 0)} MiB`,
      pass: rss < RSS_LIMIT_MIB,
    },
  ];
  const context = { ours, baseline, connector, fn };
  return targets.map((t) => (t.pass ? t : { ...t, why: EXPLANATIONS[t.name]?.(context) ?? 'no analysis recorded for this target yet.' }));
}

interface Context {
  ours: ClientSummary | undefined;
  baseline: ClientSummary | undefined;
  connector: ClientSummary | undefined;
  fn: FunctionSummary;
}

/** Why a target can miss, with this run's numbers. */
const EXPLANATIONS: Record<string, (c: Context) => string> = {
  'warm throughput vs baseline': ({ ours, baseline }) =>
    `Sequential p50 is ${range(ours?.p50Ms, 3)} ms for leverage-guard vs ${range(baseline?.p50Ms, 3)} ms for the baseline.`,
  'warm throughput vs official connector': ({ ours, connector }) =>
    `Sequential p50 is ${range(ours?.p50Ms, 3)} ms for leverage-guard vs ${range(connector?.p50Ms, 3)} ms for the connector.`,
  'cold change vs baseline': ({ ours, baseline }) =>
    `Cold is ${range(ours?.coldMs, 0)} ms vs ${range(baseline?.coldMs, 0)} ms; leverage-guard's first change also measures the clock offset (one extra round trip).`,
  'bundle size': ({ fn }) =>
    `The bare SDK bundle alone is ${fmt(fn.init.sdkOnly.bundleBytes / 1000, 0)} KB.`,
  'cold init vs bare SDK bundle': ({ fn }) =>
    `Import is ${range(fn.init.function.importMs)} ms vs ${range(fn.init.sdkOnly.importMs)} ms for the bare SDK bundle.`,
  'batch of 10 symbols at 50 ms latency': ({ fn }) =>
    `A batch of 10 takes ${range(fn.latency.batchMs)} ms vs ${range(fn.latency.singleMs)} ms for one record.`,
  'peak RSS of the function': ({ fn }) => `Peak RSS per container: ${range(fn.maxRssMiB, 0)} MiB.`,
};
