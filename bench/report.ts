/**
 * Turns one benchmark run into the console table and docs/benchmarks.md: machine, method, the
 * tables with ratios to the baseline of the same run, and each target with PASS/MISS.
 */
import { type ClientSummary, measure, pairedRatio } from './client-bench.ts';
import type { FunctionSummary } from './function-bench.ts';
import type { ProfileSummary } from './profile.ts';
import type { ScaleReport } from './scale.ts';
import { fmt, range, ratio, ratioRange } from './format.ts';
import { scaled } from './stats.ts';
import { barChart } from './svg-chart.ts';
import { cpuRatioToBareCall, MAX_CHANGE_SENT_N, MAX_CPU_PER_RECORD_VS_BARE_CALL, serviceTotal } from './targets.ts';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  os: string;
  date: string;
  /** 1-minute load average when the run started and ended (2 cores: above 2 means queuing). */
  load: [number, number];
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  pass: boolean;
  /** Shown for a MISS: why, from this run's numbers. */
  why?: string;
}

export interface RunReport {
  quick: boolean;
  durationS: number;
  machine: Machine;
  method: string[];
  clients: ClientSummary[];
  /** The comparison over TLS, or why it was skipped. */
  tlsClients: ClientSummary[] | { skipped: string };
  tlsSettings: { sequentialCalls: number; concurrentCalls: number };
  fn: FunctionSummary;
  targets: Target[];
  scale: ScaleReport;
  notes: string[];
}

/** What a run measured; targets, scale and notes are derived from it (and can be re-derived: `--render`). */
export type Measurements = Omit<RunReport, 'targets' | 'scale' | 'notes'>;

/** An SVG chart written beside the markdown (docs/bench-*.svg for a full run). */
export interface Chart {
  file: string;
  title: string;
  svg: string;
}

type Row = string[];

function markdownTable(header: Row, rows: Row[]): string {
  const line = (cells: Row) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function textTable(header: Row, rows: Row[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: Row) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function clientTable(clients: ClientSummary[]): { header: Row; rows: Row[] } {
  const base = clients[0];
  const header = [
    'client',
    'runs',
    'cold ms',
    'cold ×base',
    'cold: start + imports ms',
    'cold: first change ms',
    'warm p50 ms',
    'warm p99 ms',
    'CPU µs/call, sequential',
    'of which user mode',
    'req/s, 10 in flight',
    'req/s ×base',
    'CPU µs/call, 10 in flight',
    'simulator CPU µs/req',
    'other requests',
    'peak RSS MiB',
  ];
  const rows = clients.map((c) => {
    const counts = `${c.samples.length} + ${c.coldSamples.length} cold-only`;
    const runs = c.errors.length ? `${counts} (+${c.errors.length} failed)` : counts;
    if (c.samples.length === 0) return [c.contender.label, runs, `FAILED: ${c.errors[0] ?? 'no result'}`, ...header.slice(3).map(() => '')];
    return [
      c.contender.label,
      runs,
      range(measure(c, 'coldMs'), 0),
      c === base ? '1' : ratioRange(pairedRatio(c, base, 'coldMs')),
      range(measure(c, 'loadMs'), 0),
      range(measure(c, 'firstCallMs'), 1),
      range(measure(c, 'p50Ms'), 3),
      range(measure(c, 'p99Ms'), 2),
      range(measure(c, 'cpuPerCallUs'), 0),
      range(measure(c, 'userCpuPerCallUs'), 0),
      range(measure(c, 'throughput'), 0),
      c === base ? '1' : ratioRange(pairedRatio(c, base, 'throughput')),
      range(measure(c, 'concurrentCpuPerCallUs'), 0),
      range(measure(c, 'simulatorCpuUs'), 0),
      fmt(measure(c, 'otherRequests')?.median ?? Number.NaN, 0),
      range(measure(c, 'peakRssMiB'), 0),
    ];
  });
  return { header, rows };
}

function functionTable(fn: FunctionSummary): { header: Row; rows: Row[] } {
  const { function: f, sdkOnly: s } = fn.init;
  const kib = (bytes: number) => `${fmt(bytes / 1024, 0)} KiB (${bytes} B)`;
  const header = ['measure', 'change-leverage', 'compared with', 'ratio'];
  const rows: Row[] = [
    ['bundle size, minified', kib(f.bundleBytes), `bare SDK bundle ${kib(s.bundleBytes)}`, ratio(f.bundleBytes, s.bundleBytes)],
    ['init: import of the bundle, ms', range(f.importMs), `bare SDK bundle ${range(s.importMs)}`, `${ratioRange(fn.init.ratioToSdk)} paired`],
    ['init: CPU time of the import, ms', range(f.importCpuMs), `bare SDK bundle ${range(s.importCpuMs)}`, `${ratioRange(fn.init.cpuRatioToSdk)} paired`],
    ['init: process spawn → handler loaded, ms', range(f.processToReadyMs), `bare SDK bundle ${range(s.processToReadyMs)}`, ratio(f.processToReadyMs.median, s.processToReadyMs.median)],
    ['CPU per record, warm batch of 10, ms', range(fn.cpuPerRecordMs), `first batch of a container ${range(fn.firstBatchCpuPerRecordMs)}`, ''],
    ['CPU per record, logs silenced, ms', range(fn.cpuPerRecordLogsSilentMs), 'POWERTOOLS_LOG_LEVEL=SILENT', ratio(fn.cpuPerRecordLogsSilentMs.median, fn.cpuPerRecordMs.median)],
    ['CPU per record, no state table or pause switch, ms', range(fn.cpuPerRecordNoStateMs), 'STATE_TABLE_NAME and PAUSE_PARAMETER unset', ratio(fn.cpuPerRecordNoStateMs.median, fn.cpuPerRecordMs.median)],
    ['wall time, warm batch of 10 (no latency), ms', range(fn.warmBatchWallMs), '', ''],
    ['wall time, batch of 10 symbols at 50 ms latency, ms', range(fn.latency.batchMs), `one record (one round trip) ${range(fn.latency.singleMs)}`, `${fmt(fn.latency.ratio.median, 2)}× (${fmt(fn.latency.ratio.min, 2)}–${fmt(fn.latency.ratio.max, 2)})`],
    ['peak RSS of a container (VmHWM), MiB', range(fn.peakRssMiB, 0), `init only: ${range(f.peakRssMiB, 0)}; bare SDK init ${range(s.peakRssMiB, 0)}`, ''],
  ];
  return { header, rows };
}

function roundTripTable(fn: FunctionSummary): { header: Row; rows: Row[] } {
  const rt = fn.roundTrips;
  const header = ['invocation', 'change sent after, ms', `N = ms ÷ ${rt.awsLatencyMs} ms`, 'AWS calls in sequence before it', 'longest chain'];
  const row = (label: string, c: typeof rt.cold): Row => [label, range(c.ms, 0), range(c.n, 1), range(c.sequentialAwsCalls, 0), c.longestChain.join(' → ') || 'none'];
  return {
    header,
    rows: [
      row('cold: first invocation of a fresh container (one record)', rt.cold),
      row('warm: later one-record invocations', rt.warm),
      row(`warm, after ${fmt(rt.pauseExpiredIdleMs / 1000, 1)} s idle (pause switch cache expired)`, rt.warmPauseExpired),
      ['cold, counted from the start of init (import)', range(rt.coldFromInitMs, 0), range(scaled(rt.coldFromInitMs, 1 / rt.awsLatencyMs), 1), '', ''],
      ['warm batch of 10: the whole invocation (not only until the first change)', range(rt.warmBatchMs, 0), range(scaled(rt.warmBatchMs, 1 / rt.awsLatencyMs), 1), '', ''],
    ],
  };
}

function requestsTable(fn: FunctionSummary): { header: Row; rows: Row[] } {
  const operations = [...new Set([...Object.keys(fn.requestsPerRecord), ...Object.keys(fn.firstBatchRequestsPerRecord)])].sort();
  const header = ['request', 'per record, warm batch of 10', 'per warm batch of 10', 'per record, first batch of a container'];
  const rows = operations.map((op) => [op, fmt(fn.requestsPerRecord[op] ?? 0, 2), fmt((fn.requestsPerRecord[op] ?? 0) * 10, 1), fmt(fn.firstBatchRequestsPerRecord[op] ?? 0, 2)]);
  for (const service of ['DynamoDB', 'SNS', 'Binance']) {
    rows.push([`all ${service}`, fmt(serviceTotal(fn.requestsPerRecord, service), 2), fmt(serviceTotal(fn.requestsPerRecord, service) * 10, 1), fmt(serviceTotal(fn.firstBatchRequestsPerRecord, service), 2)]);
  }
  const all = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  rows.push(['all HTTP requests', fmt(all(fn.requestsPerRecord), 2), fmt(all(fn.requestsPerRecord) * 10, 1), fmt(all(fn.firstBatchRequestsPerRecord), 2)]);
  return { header, rows };
}

function shareRows(shares: ProfileSummary['byCategory']): Row[] {
  return shares.map((g) => [g.name, fmt(g.ms, 1), `${fmt(g.share * 100, 1)} %`]);
}

/** The profile's three tables, as console text. */
export function renderProfile(profile: ProfileSummary): string {
  const perRecordUs = (profile.busyMs * 1000) / profile.records;
  return [
    `CPU profile: ${fmt(profile.busyMs, 0)} ms busy over ${profile.records} records (${fmt(perRecordUs, 0)} µs per record incl. profiler overhead); ${profile.path}`,
    '',
    'Self time by category:',
    textTable(['category', 'ms', 'share'], shareRows(profile.byCategory)),
    '',
    'Self time by the bundle module nearest on the stack (Node internals and native code counted for their caller):',
    textTable(['module', 'ms', 'share'], shareRows(profile.byOwner)),
    '',
    'Top functions by self time:',
    textTable(['function (source)', 'ms', 'share'], shareRows(profile.topFunctions)),
  ].join('\n');
}

function initTable(fn: FunctionSummary): { header: Row; rows: Row[] } {
  const full = fn.init.function;
  const header = ['bundle', 'size KiB', 'import ms', 'import CPU ms', 'Δ import ms vs function, paired', 'Δ import CPU ms vs function, paired', 'built-ins loaded at init'];
  const rows = [full, fn.init.sdkOnly, ...fn.init.variants].map((b) => [
    b.label,
    fmt(b.bundleBytes / 1024, 0),
    range(b.importMs),
    range(b.importCpuMs),
    b === full ? '' : range(b.importDeltaMs, 1),
    b === full ? '' : range(b.importCpuDeltaMs, 1),
    b.networkBuiltins.join(', ') || 'none',
  ]);
  return { header, rows };
}

function targetRows(targets: Target[]): Row[] {
  return targets.map((t) => [t.name, t.goal, t.measured, t.pass ? 'PASS' : 'MISS']);
}

function scaleRows(scale: ScaleReport): Row[] {
  return scale.rows.map((r) => [r.quantity, r.value, r.how]);
}

/** More runnable work than cores at the start or the end of the run. */
function busy(m: Machine): boolean {
  return Math.max(...m.load) > m.cores;
}

/** The charts of one run: file name (written beside the markdown), title, SVG. */
export function renderCharts(report: RunReport): Chart[] {
  const { fn } = report;
  const rt = fn.roundTrips;
  const charts: Chart[] = [];
  const add = (file: string, chart: Parameters<typeof barChart>[0]) => charts.push({ file, title: chart.title, svg: barChart(chart) });

  add('bench-change-sent.svg', {
    title: `Change sent after N × AWS latency (${rt.awsLatencyMs} ms per AWS call; median)`,
    unit: '× AWS latency',
    bars: [
      { label: 'cold: first invocation of a container', value: rt.cold.n.median, text: `${fmt(rt.cold.n.median, 1)} (${fmt(rt.cold.ms.median, 0)} ms)` },
      { label: 'warm', value: rt.warm.n.median, text: `${fmt(rt.warm.n.median, 1)} (${fmt(rt.warm.ms.median, 0)} ms)` },
      { label: 'warm, pause switch cache expired', value: rt.warmPauseExpired.n.median, text: `${fmt(rt.warmPauseExpired.n.median, 1)} (${fmt(rt.warmPauseExpired.ms.median, 0)} ms)` },
      { label: 'cold, from the start of init', value: rt.coldFromInitMs.median / rt.awsLatencyMs, text: `${fmt(rt.coldFromInitMs.median / rt.awsLatencyMs, 1)} (${fmt(rt.coldFromInitMs.median, 0)} ms)` },
    ],
    markers: [{ value: MAX_CHANGE_SENT_N, label: `target: N < ${MAX_CHANGE_SENT_N}` }],
  });

  const bare = cpuRatioToBareCall(fn, report.clients).bareUs;
  const us = (ms: number) => ms * 1000;
  add('bench-cpu-per-record.svg', {
    title: 'CPU per record, warm batch of 10, vs one bare signed node:http call (median)',
    unit: 'µs of CPU',
    bars: [
      { label: 'bare signed node:http keep-alive call', value: bare, text: `${fmt(bare, 0)} µs` },
      { label: 'function as deployed (state, pause, INFO logs)', value: us(fn.cpuPerRecordMs.median), text: `${fmt(us(fn.cpuPerRecordMs.median), 0)} µs` },
      { label: 'function, logs silenced', value: us(fn.cpuPerRecordLogsSilentMs.median), text: `${fmt(us(fn.cpuPerRecordLogsSilentMs.median), 0)} µs` },
      { label: 'function, no state table or pause switch', value: us(fn.cpuPerRecordNoStateMs.median), text: `${fmt(us(fn.cpuPerRecordNoStateMs.median), 0)} µs` },
    ],
    markers: [{ value: bare * MAX_CPU_PER_RECORD_VS_BARE_CALL, label: `target: ${MAX_CPU_PER_RECORD_VS_BARE_CALL}× bare` }],
  });

  add('bench-requests.svg', {
    title: 'Requests per record (AWS and Binance), warm batch of 10 and first batch of a container',
    unit: 'requests per record',
    bars: Object.keys({ ...fn.firstBatchRequestsPerRecord, ...fn.requestsPerRecord })
      .sort()
      .flatMap((op) => [
        { label: op, value: fn.requestsPerRecord[op] ?? 0, series: 'warm batch of 10', text: fmt(fn.requestsPerRecord[op] ?? 0, 2) },
        { label: '', value: fn.firstBatchRequestsPerRecord[op] ?? 0, series: 'first batch of a container', text: fmt(fn.firstBatchRequestsPerRecord[op] ?? 0, 2) },
      ]),
  });

  const throughput = (clients: ClientSummary[], series: string) =>
    clients.filter((c) => c.samples.length > 0).map((c) => ({ label: `${c.contender.id} (${series})`, value: measure(c, 'throughput')?.median ?? Number.NaN, series, text: fmt(measure(c, 'throughput')?.median ?? Number.NaN, 0) }));
  const tls = Array.isArray(report.tlsClients) ? report.tlsClients : [];
  const tlsBaseline = measure(tls.find((c) => c.contender.id === 'baseline'), 'throughput')?.median;
  const tlsConnector = measure(tls.find((c) => c.contender.id === 'connector'), 'throughput')?.median;
  add('bench-throughput.svg', {
    title: 'Warm throughput, 10 in flight (median req/s)',
    unit: 'requests per second',
    bars: [...throughput(tls, 'TLS'), ...throughput(report.clients, 'plain http')],
    markers: [
      ...(tlsBaseline ? [{ value: 0.9 * tlsBaseline, label: '0.9× TLS baseline' }] : []),
      ...(tlsConnector ? [{ value: 3 * tlsConnector, label: '3× TLS connector' }] : []),
    ],
  });

  add('bench-init.svg', {
    title: 'Init: CPU time of the bundle import (median)',
    unit: 'ms of CPU',
    bars: [fn.init.function, fn.init.sdkOnly, ...fn.init.variants].map((b) => ({ label: b.label, value: b.importCpuMs.median, text: `${fmt(b.importCpuMs.median, 1)} ms` })),
    markers: [{ value: 1.15 * fn.init.sdkOnly.importCpuMs.median, label: 'target: 1.15× bare SDK' }],
  });

  if ('byCategory' in fn.profile) {
    add('bench-profile.svg', {
      title: 'Where a warm container\'s CPU goes (self time by category)',
      unit: '% of busy CPU time',
      bars: fn.profile.byCategory.map((g) => ({ label: g.name, value: g.share * 100, text: `${fmt(g.share * 100, 1)} %` })),
    });
  }

  const r = report.scale.rates;
  add('bench-scale.svg', {
    title: 'Risk events per second one stage sustains',
    unit: 'events per second',
    bars: [
      { label: 'Binance weight limit, one egress IP', value: r.weightBound, text: fmt(r.weightBound, 0) },
      { label: 'SQS pollers (concurrency × batch ÷ duration)', value: r.concurrencyBound, text: fmt(r.concurrencyBound, 0) },
      { label: 'sustained, one IP', value: r.sustained, text: fmt(r.sustained, 0) },
      { label: 'Binance weight limit, two egress IPs', value: 2 * r.weightBound, text: fmt(2 * r.weightBound, 0) },
      { label: 'sustained, two IPs (same concurrency)', value: r.twoIpSustained, text: fmt(r.twoIpSustained, 0) },
    ],
  });
  return charts;
}

const chartLink = (charts: Chart[], file: string) => {
  const chart = charts.find((c) => c.file === file);
  return chart ? `![${chart.title}](${chart.file})\n\n` : '';
};

function reasons(targets: Target[]): string[] {
  return targets.map((t) => `${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.why ?? ''}`);
}

export function renderConsole(report: RunReport): string {
  const c = clientTable(report.clients);
  const f = functionTable(report.fn);
  const i = initTable(report.fn);
  const rt = roundTripTable(report.fn);
  const rq = requestsTable(report.fn);
  const t = Array.isArray(report.tlsClients) ? clientTable(report.tlsClients) : undefined;
  return [
    `Exchange client, one leverage change (median (min–max) over ${report.clients[0]?.samples.length ?? 0} fresh processes each; ×base = per-round ratios):`,
    textTable(c.header, c.rows),
    '',
    'Over TLS (https on loopback):',
    t ? textTable(t.header, t.rows) : `skipped: ${(report.tlsClients as { skipped: string }).skipped}`,
    '',
    'Function (dist/change-leverage/index.mjs):',
    textTable(f.header, f.rows),
    '',
    `When the change reaches the exchange (${report.fn.roundTrips.awsLatencyMs} ms on every AWS call, ${report.fn.roundTrips.exchangeLatencyMs} ms on the exchange):`,
    textTable(rt.header, rt.rows),
    '',
    'Requests per record (AWS and Binance):',
    textTable(rq.header, rq.rows),
    '',
    'Init attribution (leave-one-out: the function built with one part replaced by an inert stub):',
    textTable(i.header, i.rows),
    '',
    'profile' in report.fn && 'byCategory' in report.fn.profile ? renderProfile(report.fn.profile) : `CPU profile: ${(report.fn.profile as { skipped: string }).skipped}`,
    '',
    'Scale:',
    textTable(['quantity', 'value', 'how'], scaleRows(report.scale)),
    '',
    'Targets:',
    textTable(['target', 'goal', 'measured', ''], targetRows(report.targets)),
    ...reasons(report.targets),
    '',
    `${report.quick ? 'Quick run' : 'Full run'} took ${report.durationS.toFixed(0)} s.`,
  ].join('\n');
}

export function renderMarkdown(report: RunReport, charts: Chart[]): string {
  const c = clientTable(report.clients);
  const f = functionTable(report.fn);
  const i = initTable(report.fn);
  const rt = roundTripTable(report.fn);
  const rq = requestsTable(report.fn);
  const t = Array.isArray(report.tlsClients) ? clientTable(report.tlsClients) : undefined;
  const m = report.machine;
  const { fn, scale } = report;
  const profile = 'byCategory' in fn.profile ? fn.profile : undefined;
  return `# Benchmarks

Generated by \`npm run bench\`${report.quick ? ' -- --quick (quick run: fewer rounds and calls)' : ''} on ${m.date}; the run took ${report.durationS.toFixed(0)} s. Do not edit by hand: re-run the benchmark.

Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}. Shared and noisy (1-minute load average ${fmt(m.load[0], 2)} at the start of the run, ${fmt(m.load[1], 2)} at the end): read the spreads, not just the medians.

## Targets

Every target is a ratio measured side by side in this run (or a count, or a size); none is an absolute time.

${markdownTable(['target', 'goal', 'measured', 'result'], targetRows(report.targets))}
${busy(m) ? `\n> The machine was busy during this run (1-minute load average ${fmt(m.load[0], 2)} → ${fmt(m.load[1], 2)} on ${m.cores} cores). Wall-time verdicts (throughput, cold change, batch latency) can flip on a quieter machine: read their ranges. CPU-time measures are the steadier ones.\n` : ''}
${report.targets.map((x) => `**${x.pass ? 'PASS' : 'MISS'}: ${x.name}.** ${x.why ?? ''}`).join('\n\n')}

## Method

${report.method.map((line) => `- ${line}`).join('\n')}

## When the change reaches the exchange

Every AWS call is answered ${fn.roundTrips.awsLatencyMs} ms after it arrives (the fakes' injected latency), the exchange ${fn.roundTrips.exchangeLatencyMs} ms after. "Change sent after" runs from the moment the handler is called (in the container process) to the moment the simulator receives the \`POST /papi/v1/um/leverage\`; N is that time in AWS latencies. k AWS calls made one after another put the change at least k × ${fn.roundTrips.awsLatencyMs} ms after the start, so N < ${MAX_CHANGE_SENT_N} proves at most one stood in sequence. "AWS calls in sequence" is read from the fake's request log: the longest run of calls before the change, each sent after the previous one was answered.

${chartLink(charts, 'bench-change-sent.svg')}${markdownTable(rt.header, rt.rows)}

## Requests per record

Counted by the AWS fakes and the exchange simulator per service and operation, for warm batches of 10 distinct symbols as deployed, and for a container's first batch (credentials, pause switch, clock sync). Every request is an HTTP round trip with its own CPU (see "Where the CPU goes").

${chartLink(charts, 'bench-requests.svg')}${markdownTable(rq.header, rq.rows)}

## Exchange client: one leverage change

Median (min–max) over fresh processes; "runs" counts full processes + processes that only made the cold change (cold columns use both, the others only full ones). "×base" columns are paired: in each round, the contender's value divided by the baseline's value from the same round, then the median (min–max) of those ratios. Pairing cancels most of the machine's drift between rounds.

${chartLink(charts, 'bench-throughput.svg')}${markdownTable(c.header, c.rows)}

### The same over TLS

The simulator behind node:https on loopback; ${report.tlsSettings.sequentialCalls} sequential and ${report.tlsSettings.concurrentCalls} concurrent calls per process. The throughput targets are judged here (production talks TLS).

${t ? markdownTable(t.header, t.rows) : `Skipped: ${(report.tlsClients as { skipped: string }).skipped}.`}

## The function

${chartLink(charts, 'bench-cpu-per-record.svg')}${markdownTable(f.header, f.rows)}

### Where the init time goes

Leave-one-out: the function built with the same options but one part replaced by an inert stub (a Proxy that absorbs every call), imported in fresh processes interleaved with the real bundle. The Δ columns are paired: each round's import of the variant minus the real bundle's import in the same round, median (min–max) over rounds; minus the Δ is what that part costs at init. The CPU-time Δ is the steadier of the two on a busy machine (wall time also counts waiting for a core). Stubbed bundles are for timing only; their handler cannot run.

${chartLink(charts, 'bench-init.svg')}${markdownTable(i.header, i.rows)}

## Where the CPU goes

${
  profile
    ? `A V8 CPU profile (the sampler and file format of \`node --cpu-prof\`, ${profile.records} records in warm batches of 10 as deployed, the import and first batch excluded) of ${fmt(profile.busyMs, 0)} ms busy CPU time, ${fmt((profile.busyMs * 1000) / profile.records, 0)} µs per record (sampling every 200 µs adds its own overhead; the CPU-per-record figures above are measured without the profiler). Frames of the minified bundle are mapped back to their source modules through its source map. Re-run with \`npm run bench -- --profile\`; the \`.cpuprofile\` (\`bench/.build/profile/\`) opens in Chrome DevTools or speedscope.

${chartLink(charts, 'bench-profile.svg')}Self time by category:

${markdownTable(['category', 'ms', 'share'], shareRows(profile.byCategory))}

Self time by the bundle module nearest on the stack (Node internals and native code — HMAC, sockets, JSON — counted for the module that called them):

${markdownTable(['module', 'ms', 'share'], shareRows(profile.byOwner))}

Top functions by self time:

${markdownTable(['function (source)', 'ms', 'share'], shareRows(profile.topFunctions))}`
    : `No profile: ${(fn.profile as { skipped: string }).skipped}.`
}

## Scale

What one stage (prod parameters) sustains and what a storm costs, from this run's measurements and the deployment's parameters; the assumptions are listed below the table. Lambda's SQS pollers carry the risk events; EventBridge and Scheduler invocations use the reserved slot(s) above \`sqsMaximumConcurrency\`.

${chartLink(charts, 'bench-scale.svg')}${markdownTable(['quantity', 'value', 'how'], scaleRows(scale))}

Assumptions:

${scale.assumptions.map((x) => `- ${x.name} = ${x.value}: ${x.why}`).join('\n')}

## Notes

${report.notes.map((line) => `- ${line}`).join('\n')}
`;
}
