/**
 * `npm run bench` (full, about 4 to 5 minutes) and `npm run bench -- --quick` (about 1 minute).
 * `--aws-latency=MS` sets the latency injected on every AWS call for the round-trip measure
 * (default 100); `npm run bench -- --profile` only profiles a warm container and prints where its
 * CPU goes (the .cpuprofile stays in bench/.build/profile/ for DevTools or speedscope);
 * `--render` (with `--quick` for a quick run's) rewrites the document from the last run's saved
 * measurements, without measuring: for changing the report, the targets or the scale arithmetic.
 * Builds the children, starts the PAPI simulator and the AWS fakes on loopback, runs the
 * exchange-client comparison and the function measures, prints the tables and writes
 * docs/benchmarks.md (a quick run writes bench/.build/benchmarks-quick.md instead, so it never
 * replaces the full results).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultSeed, startBinanceSimulator } from '../local/binance-simulator/index.ts';
import { buildAll, OUT_DIR } from './build.ts';
import { benchClients, type ClientContender, type ClientSettings, type ClientSummary, measure } from './client-bench.ts';
import { startFakeAws } from './fake-aws.ts';
import {
  ACCOUNT,
  benchFunction,
  EXCHANGE_LATENCY_MS,
  functionEnvFor,
  PAUSE_PARAMETER,
  ROUND_TRIP_EXCHANGE_LATENCY_MS,
  profileWarmBatches,
  SECRET_ID_TEMPLATE,
  type FunctionSettings,
} from './function-bench.ts';
import type { Credentials } from './protocol.ts';
import { fmt, range } from './format.ts';
import { renderCharts, renderConsole, renderMarkdown, renderProfile, type Machine, type Measurements, type RunReport } from './report.ts';
import { scaleReport } from './scale.ts';
import { evaluateTargets } from './targets.ts';
import { startTlsSimulator } from './tls.ts';

const quick = process.argv.includes('--quick');
const profileOnly = process.argv.includes('--profile');
/** Re-render the document from the last run's saved measurements (targets, scale, charts recomputed). */
const renderOnly = process.argv.includes('--render');
const awsLatencyArg = process.argv.find((a) => a.startsWith('--aws-latency='))?.split('=')[1];
/** 100 ms makes one AWS round trip stand far above the CPU of an invocation on this machine. */
const AWS_LATENCY_MS = awsLatencyArg === undefined ? 100 : Number(awsLatencyArg);
if (!(AWS_LATENCY_MS > 0)) throw new Error(`--aws-latency must be a positive number of ms, got ${awsLatencyArg}`);

const CLIENT_SETTINGS: ClientSettings = quick
  ? { rounds: 3, warmupCalls: 200, sequentialCalls: 500, concurrentCalls: 2000, inFlight: 10, coldOnlyRounds: 2 }
  : { rounds: 9, warmupCalls: 200, sequentialCalls: 1000, concurrentCalls: 5000, inFlight: 10, coldOnlyRounds: 8 };
/** Over TLS: fewer rounds and calls (a connector that handshakes per call is slow), same method. */
const TLS_SETTINGS: ClientSettings = quick
  ? { rounds: 2, warmupCalls: 100, sequentialCalls: 200, concurrentCalls: 500, inFlight: 10, coldOnlyRounds: 0 }
  : { rounds: 5, warmupCalls: 100, sequentialCalls: 500, concurrentCalls: 2000, inFlight: 10, coldOnlyRounds: 0 };
const TLS_CONTENDER_IDS = ['baseline', 'leverage-guard', 'connector', 'ccxt-papi'];
const FUNCTION_SETTINGS: FunctionSettings = quick
  ? { initRounds: 5, cpuProcesses: 3, warmBatchesPerProcess: 5, latencyProcesses: 3, latencyPairsPerProcess: 3, roundTripProcesses: 3, awsLatencyMs: AWS_LATENCY_MS, profileBatches: 30 }
  : { initRounds: 15, cpuProcesses: 7, warmBatchesPerProcess: 10, latencyProcesses: 7, latencyPairsPerProcess: 5, roundTripProcesses: 7, awsLatencyMs: AWS_LATENCY_MS, profileBatches: 100 };

const peers = (JSON.parse(readFileSync('bench/package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies;
const CONNECTOR = '@binance/derivatives-trading-portfolio-margin';
const CONTENDERS: ClientContender[] = [
  { id: 'baseline', label: 'baseline: node:http(s) keep-alive + HMAC', script: 'baseline' },
  { id: 'leverage-guard', label: 'leverage-guard BinancePapiClient', script: 'leverageGuard' },
  { id: 'baseline-over-send', label: 'ablation: baseline signing over leverage-guard http.ts', script: 'baselineOverSend' },
  { id: 'connector', label: `${CONNECTOR} ${peers[CONNECTOR]} changeUmInitialLeverage`, script: 'connector' },
  { id: 'ccxt-papi', label: `ccxt ${peers.ccxt} papiPostUmLeverage`, script: 'ccxtPapi' },
  { id: 'ccxt-unified', label: `ccxt ${peers.ccxt} setLeverage (portfolioMargin)`, script: 'ccxtUnified' },
];

const loadAtStart = os.loadavg()[0] ?? Number.NaN;

function machine(): Machine {
  const cpus = os.cpus();
  return {
    load: [loadAtStart, os.loadavg()[0] ?? Number.NaN],
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

const startedAt = performance.now();
const log = (line: string) => console.log(line.startsWith(' ') ? line : `[${((performance.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${line}`);

const measurementsFile = path.join(OUT_DIR, `measurements-${quick ? 'quick' : 'full'}.json`);

if (renderOnly) {
  const saved = JSON.parse(readFileSync(measurementsFile, 'utf8')) as Measurements;
  publish(judge(saved));
  process.exit(0);
}

log(`leverage-guard benchmark (${profileOnly ? 'profile only' : quick ? 'quick run' : 'full run'})`);
const { functionCheck } = await buildAll();
if (!functionCheck.same) {
  log(`WARNING: bench/build.ts LAMBDA_BUILD_OPTIONS no longer match scripts/build.ts (${functionCheck.benchBytes} B vs ${functionCheck.distBytes} B)`);
}

const testCredentials = JSON.parse(readFileSync('local/binance-simulator/test-credentials.json', 'utf8')) as Record<string, Credentials>;
const credentials = testCredentials[ACCOUNT]!;
/**
 * Far above Binance's 6000 so the limit is not what is measured; leverage-guard's client and the
 * function are told the same limit (their pacing keeps its bookkeeping but never waits).
 */
const WEIGHT_LIMIT_PER_MINUTE = 1_000_000;
const seed = { ...defaultSeed(), weightLimitPerMinute: WEIGHT_LIMIT_PER_MINUTE };
const simulator = await startBinanceSimulator({ seed });
const aws = await startFakeAws({
  secrets: { [SECRET_ID_TEMPLATE.replace('{accountId}', ACCOUNT)]: JSON.stringify(credentials) },
  parameters: { [PAUSE_PARAMETER]: 'false' },
});

if (profileOnly) {
  try {
    log(`CPU profile of ${FUNCTION_SETTINGS.profileBatches} warm batches of 10, as deployed:`);
    const profile = await profileWarmBatches(simulator, aws, functionEnvFor(simulator, aws, WEIGHT_LIMIT_PER_MINUTE), FUNCTION_SETTINGS.profileBatches);
    console.log(`\n${renderProfile(profile)}`);
  } finally {
    await aws.close();
    await simulator.close();
  }
  process.exit(0);
}

try {
  log('exchange clients:');
  const clients = await benchClients(simulator, WEIGHT_LIMIT_PER_MINUTE, credentials, CONTENDERS, CLIENT_SETTINGS, log);
  log('exchange clients over TLS:');
  const tls = await startTlsSimulator(seed);
  let tlsClients: ClientSummary[] | { skipped: string };
  if ('error' in tls) tlsClients = { skipped: tls.error };
  else {
    try {
      const tlsContenders = CONTENDERS.filter((c) => TLS_CONTENDER_IDS.includes(c.id));
      tlsClients = await benchClients(tls, WEIGHT_LIMIT_PER_MINUTE, credentials, tlsContenders, TLS_SETTINGS, log, tls.clientEnv);
    } finally {
      await tls.close();
    }
  }
  log('function:');
  const fn = await benchFunction(simulator, aws, FUNCTION_SETTINGS, WEIGHT_LIMIT_PER_MINUTE, log);
  const durationS = (performance.now() - startedAt) / 1000;

  const s = CLIENT_SETTINGS;
  const f = FUNCTION_SETTINGS;
  const report: Measurements = {
    quick,
    durationS,
    machine: machine(),
    method: [
      `Everything runs on loopback: the project's PAPI simulator (\`local/binance-simulator\`, plain http, signatures and timing checked as Binance does, weight limit raised to ${WEIGHT_LIMIT_PER_MINUTE.toLocaleString('en')}/min because it is not under test; leverage-guard's client, which paces its request weight below the exchange's limit, and the function (BINANCE_WEIGHT_LIMIT) are told that same limit, so pacing keeps its bookkeeping but never waits. Against Binance's 6000/min the client would pace itself below that limit instead) and in-process fakes of Secrets Manager, SNS, DynamoDB (the state table: GetItem/PutItem/UpdateItem with condition and update expressions) and SSM (the pause switch) in the orchestrating process (\`bench/fake-aws.ts\`, \`local/aws/in-memory-dynamodb.ts\`). The moto stack was not used: it is a single Python process that would queue a batch's concurrent state-table calls and add its own latency to the function's wall time; the fakes answer in microseconds, concurrently, and keep every published outcome and table item for checking.`,
      `Every contender runs in its own fresh \`node\` process (${process.version}), compiled beforehand to plain .mjs by esbuild (npm packages left external and loaded from bench/node_modules), so no TypeScript loader is timed. Peak RSS is the process's own high-water mark, VmHWM from /proc/self/status. \`process.resourceUsage().maxRSS\` is recorded too but not used: on Linux it survives execve, so a child starts with the orchestrator's RSS at spawn time as its maxRSS (in this run the function containers report maxRSS ${range(fn.maxRssMiB, 0)} MiB against VmHWM ${range(fn.peakRssMiB, 0)} MiB).`,
      `Exchange clients: ${s.rounds} rounds; each round runs every contender once, in an order rotated each round (interleaved). A process makes one cold change (timed from just before spawn to the confirmed response, so node start-up and module loading are included; ${s.coldOnlyRounds} further interleaved rounds of processes make only that change, for more cold samples), ${s.warmupCalls} warm-up calls, ${s.sequentialCalls} sequential calls (p50/p99 latency), ${s.concurrentCalls} calls with ${s.inFlight} in flight (throughput), and a final change. Leverage alternates 10 ⇄ 11 on BTCUSDT so every call is a real change; each response must report the requested leverage, the simulator must have applied exactly that many changes with status 200, and it must hold the final leverage — otherwise the run counts as failed and is reported with its error.`,
      `Over TLS: the same comparison against the simulator served by node:https on loopback (self-signed certificate made by openssl for the run, trusted through NODE_EXTRA_CA_CERTS), ${TLS_SETTINGS.rounds} rounds, ${TLS_SETTINGS.sequentialCalls} sequential and ${TLS_SETTINGS.concurrentCalls} concurrent calls, contenders: ${TLS_CONTENDER_IDS.join(', ')}. It shows what each client does with connections against the real (https) exchange; the throughput targets are judged on this run (production talks TLS), the plain-http figures are reported beside them.`,
      `The function: the real bundle from \`npm run build\` (scripts/build.ts). The bare SDK bundle is \`bench/lambda/sdk-only.ts\` (both clients created at init, as the function does) built with the same esbuild options; the benchmark rebuilds the function with those options and compares bytes with dist/ to catch drift${functionCheck.same ? ' (identical in this run)' : ' (DIFFERENT in this run!)'}. Init = \`await import(bundle)\` in a fresh process, ${f.initRounds} rounds, the two bundles alternating.`,
      `CPU per record: ${f.cpuProcesses} fresh containers, each one first batch then ${f.warmBatchesPerProcess} warm SQS batches of 10 distinct symbols (account \`default\`); \`process.cpuUsage()\` of the container around each invocation, divided by 10. Logging is on (INFO), as deployed.`,
      `Latency: ${f.latencyProcesses} fresh containers with the simulator's \`latency\` fault (${EXCHANGE_LATENCY_MS} ms on every exchange request); after a warm-up batch, ${f.latencyPairsPerProcess} pairs of (one-record invocation, ten-symbol invocation). "One round trip" is the warm one-record invocation; the ratio is per container (median of its batches / median of its singles).`,
      `Round trips before the change: ${f.roundTripProcesses} fresh containers with every AWS call answered ${f.awsLatencyMs} ms after it arrives (\`--aws-latency=MS\`) and the exchange ${ROUND_TRIP_EXCHANGE_LATENCY_MS} ms after; each runs one cold one-record invocation (credentials not cached, clock not synced), 3 warm one-record invocations and 2 warm batches of 10; the last container also idles until the pause switch's cache expired and runs one more record. The child process stamps the moment it calls the handler; the simulator and the fakes stamp every request's arrival (same machine clock).`,
      `AWS requests per record: counted by the fakes per service and operation in the CPU containers (as deployed, no injected latency), split between invocations by arrival time. CPU per record is compared with the CPU of one sequential call of the baseline exchange client (bare node:http keep-alive + HMAC) from the plain-http client comparison of the same run.`,
      `CPU profile: one more container as deployed, its first batch unprofiled, then ${f.profileBatches} warm batches of 10 under the V8 sampling profiler (200 µs interval) started through node:inspector (the profiler and file format of \`node --cpu-prof\`, limited to the warm batches).`,
      `Every function invocation must return no batchItemFailures, publish one APPLIED outcome per record with the requested leverage, leave a completion marker per event in the state table, and leave the simulator holding the last requested leverage for each symbol. The function runs as deployed (infra/functions.yml): state table and pause parameter configured, so each record also claims and releases its key in DynamoDB and the container reads the pause switch.`,
    ],
    clients,
    tlsClients,
    tlsSettings: TLS_SETTINGS,
    fn,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(measurementsFile, JSON.stringify(report));
  publish(judge(report));
} finally {
  await aws.close();
  await simulator.close();
}

/** Targets, scale arithmetic and notes: everything derived from the measurements. */
function judge(report: Measurements): RunReport {
  return {
    ...report,
    targets: evaluateTargets(report.clients, report.fn, Array.isArray(report.tlsClients) ? report.tlsClients : undefined),
    scale: scaleReport(report.fn),
    notes: notes(report),
  };
}

/** Console tables, then the markdown document and its SVG charts side by side. */
function publish(report: RunReport): void {
  console.log(`\n${renderConsole(report)}`);
  const target = report.quick ? path.join(OUT_DIR, 'benchmarks-quick.md') : 'docs/benchmarks.md';
  mkdirSync(path.dirname(target), { recursive: true });
  const charts = renderCharts(report);
  for (const chart of charts) writeFileSync(path.join(path.dirname(target), chart.file), chart.svg);
  writeFileSync(target, renderMarkdown(report, charts));
  console.log(`wrote ${target}${report.quick ? ' (a quick run does not replace docs/benchmarks.md)' : ''}`);
}

function notes(report: Measurements): string[] {
  const lines = [
    'ccxt is pointed at the simulator by overriding `urls.api.papi` only. Its client-side throttle is turned off (`enableRateLimit: false`; otherwise it spaces these calls 10 ms apart, i.e. caps them at 100/s). For the unified `setLeverage`, `setMarkets()` pre-seeds the one BTC/USDT:USDT market, which makes ccxt skip `loadMarkets()` (it would fetch spot, fapi and dapi exchangeInfo, which the simulator does not serve). This is the least invasive choice: no ccxt code is patched and no extra endpoints are faked. ccxt is imported the documented way (`import ccxt from \'ccxt\'`), which loads every exchange class: that is most of its cold start and RSS.',
    `The official connector runs with its defaults and \`basePath\` at the simulator. On https it builds a new \`https.Agent({ keepAlive: true })\` for every request (\`httpRequestFunction\` in @binance/common), so against the real exchange it would not reuse TLS connections; on this plain-http loopback it falls back to Node's global keep-alive agent, which flatters it.`,
    `ccxt sends its requests with undici (\`undici.request\` over a shared keep-alive undici Agent), not node:http: compare the "CPU µs/call, 10 in flight" column with the node:http clients before reading its throughput as a property of its exchange code.`,
    'Throughput with 10 in flight is a property of the pair (client process + simulator process) on 2 shared cores, not of the client alone; the CPU-per-call columns are the client\'s own share and vary far less between runs.',
    'The baseline signs with the local clock and never measures the server clock offset; leverage-guard\'s client measures it once per process (`GET /fapi/v1/time`) before its first signed request, so its cold number includes one extra round trip on purpose.',
  ];
  const { fn } = report;
  lines.push(
    `A batch of 10 distinct symbols runs its records concurrently, so its wall time is about one exchange round trip plus the CPU the records need on the one JS thread: ` +
      `here ${fmt(fn.latency.batchMs.median - fn.latency.singleMs.median, 1)} ms more than one record, against ${fmt(9 * fn.cpuPerRecordMs.median, 1)} ms for 9 more records at ${fmt(fn.cpuPerRecordMs.median, 2)} ms CPU each (measured without latency). ` +
      `At ${EXCHANGE_LATENCY_MS} ms exchange latency the 1.5× target leaves ${fmt((0.5 * fn.latency.singleMs.median) / 9, 1)} ms of wall time per extra record.`,
    `The "other requests" column counts what a process sent besides its leverage changes (leverage-guard: its clock-offset measurement, GET /fapi/v1/time). In this run: ${report.clients
      .map((c) => `${c.contender.id} ${fmt(measure(c, 'otherRequests')?.median ?? Number.NaN, 0)}`)
      .join(', ')}.`,
  );
  if (report.clients.some((c) => c.errors.length > 0)) {
    for (const c of report.clients.filter((x) => x.errors.length > 0)) lines.push(`${c.contender.label} failed ${c.errors.length} time(s): ${c.errors[0]}`);
  }
  return lines;
}
