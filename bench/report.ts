/**
 * Turns one benchmark run into the console table and docs/benchmarks.md: machine, method, the
 * tables with ratios to the baseline of the same run, and each target with PASS/MISS.
 */
import { type ClientSummary, measure, pairedRatio } from './client-bench.ts';
import type { FunctionSummary } from './function-bench.ts';
import type { Spread } from './stats.ts';

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
  notes: string[];
}

export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
  return value.toFixed(d);
}

/** median (min–max) */
export function range(s: Spread | undefined, digits?: number): string {
  if (!s) return 'n/a';
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || !Number.isFinite(value) || !Number.isFinite(base) || base === 0) return 'n/a';
  return `${(value / base).toFixed(2)}×`;
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

/** "1.05× (0.98–1.10)": the median of per-round ratios and their range. */
export function ratioRange(s: Spread | undefined): string {
  return s ? `${fmt(s.median, 2)}× (${fmt(s.min, 2)}–${fmt(s.max, 2)})` : 'n/a';
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

/** More runnable work than cores at the start or the end of the run. */
function busy(m: Machine): boolean {
  return Math.max(...m.load) > m.cores;
}

export function renderConsole(report: RunReport): string {
  const c = clientTable(report.clients);
  const f = functionTable(report.fn);
  const i = initTable(report.fn);
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
    'Init attribution (leave-one-out: the function built with one part replaced by an inert stub):',
    textTable(i.header, i.rows),
    '',
    'Targets:',
    textTable(['target', 'goal', 'measured', ''], targetRows(report.targets)),
    ...report.targets.filter((t) => !t.pass && t.why).map((t) => `MISS ${t.name}: ${t.why}`),
    '',
    `${report.quick ? 'Quick run' : 'Full run'} took ${report.durationS.toFixed(0)} s.`,
  ].join('\n');
}

export function renderMarkdown(report: RunReport): string {
  const c = clientTable(report.clients);
  const f = functionTable(report.fn);
  const i = initTable(report.fn);
  const t = Array.isArray(report.tlsClients) ? clientTable(report.tlsClients) : undefined;
  const m = report.machine;
  const misses = report.targets.filter((t) => !t.pass);
  return `# Benchmarks

Generated by \`npm run bench\`${report.quick ? ' -- --quick (quick run: fewer rounds and calls)' : ''} on ${m.date}; the run took ${report.durationS.toFixed(0)} s. Do not edit by hand: re-run the benchmark.

Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}. Shared and noisy (1-minute load average ${fmt(m.load[0], 2)} at the start of the run, ${fmt(m.load[1], 2)} at the end): read the spreads, not just the medians.

## Method

${report.method.map((line) => `- ${line}`).join('\n')}

## Exchange client: one leverage change

Median (min–max) over fresh processes; "runs" counts full processes + processes that only made the cold change (cold columns use both, the others only full ones). "×base" columns are paired: in each round, the contender's value divided by the baseline's value from the same round, then the median (min–max) of those ratios. Pairing cancels most of the machine's drift between rounds.

${markdownTable(c.header, c.rows)}

### The same over TLS

The simulator behind node:https on loopback; ${report.tlsSettings.sequentialCalls} sequential and ${report.tlsSettings.concurrentCalls} concurrent calls per process. Not used for the targets.

${t ? markdownTable(t.header, t.rows) : `Skipped: ${(report.tlsClients as { skipped: string }).skipped}.`}

## The function

${markdownTable(f.header, f.rows)}

### Where the init time goes

Leave-one-out: the function built with the same options but one part replaced by an inert stub (a Proxy that absorbs every call), imported in fresh processes interleaved with the real bundle. The Δ columns are paired: each round's import of the variant minus the real bundle's import in the same round, median (min–max) over rounds; minus the Δ is what that part costs at init. The CPU-time Δ is the steadier of the two on a busy machine (wall time also counts waiting for a core). Stubbed bundles are for timing only; their handler cannot run.

${markdownTable(i.header, i.rows)}

## Targets

${markdownTable(['target', 'goal', 'measured', 'result'], targetRows(report.targets))}
${busy(m) ? `\n> The machine was busy during this run (1-minute load average ${fmt(m.load[0], 2)} → ${fmt(m.load[1], 2)} on ${m.cores} cores). Wall-time verdicts (throughput, cold change, batch latency) can flip on a quieter machine: read their ranges. CPU-time measures are the steadier ones.\n` : ''}

${misses.length === 0 ? 'Every target is met in this run.' : misses.map((t) => `**MISS: ${t.name}.** ${t.why ?? ''}`).join('\n\n')}

## Notes

${report.notes.map((line) => `- ${line}`).join('\n')}
`;
}
