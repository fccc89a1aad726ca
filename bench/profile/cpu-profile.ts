/**
 * Where a record's CPU goes (issue 13). Runs the built function (dist/change-leverage/index.mjs)
 * in fresh containers against the PAPI simulator and the AWS fakes of the benchmark, configured as
 * deployed (state table, pause switch, INFO logs), and measures CPU per record of warm SQS batches
 * of 10 beside the CPU of one bare signed node:http keep-alive call, in the same run.
 *
 *   npx tsx bench/profile/cpu-profile.ts [options]        (after `npm run build`)
 *   --rounds N        containers per variant, interleaved (3)
 *   --warmup N        batches before the measured ones (2; the benchmark measures after 1)
 *   --batches N       measured batches per container (20)
 *   --series          CPU per record by batch index: V8 is still compiling in the first tens
 *   --variant name:K=V,K=V   another container configuration: environment variables, plus
 *                     BUNDLE=<path> (another build, e.g. the previous commit's) and
 *                     NODE_ARGS=<flags> (node/V8 flags, space-separated)
 *   --env K=V         an environment variable for every container
 *   --transport [--transport-before <entry.ts>]   per-call CPU of the function's transports
 *                     (transport-entry.ts), one and ten in flight, optionally of another tree's
 *   --transport-modes send,batch   only these of transport-entry.ts's modes (default: all)
 *   --profile <file>  V8 CPU profile of the first container's measured batches, summarised by
 *                     module and function through the source map. Its samples are wall-clock
 *                     ticks: on a busy machine a syscall that wakes another process (a socket
 *                     write) collects the time the container waits for a core.
 *   --perf <file>     the containers run under `perf record -g` (CPU time, all threads,
 *                     compiler threads included); read it with perf-attribute.ts
 *   --summarise <file> [--map-bundle <bundle>]   only summarise a V8 profile
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { defaultSeed, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import { startFakeAws } from '../fake-aws.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const repeated = (name: string) => argv.filter((_, i) => argv[i - 1] === name);
const keyValue = (kv: string): [string, string] => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];

const rounds = Number(option('--rounds', '3'));
const warmup = Number(option('--warmup', '2'));
const batches = Number(option('--batches', '20'));
const profileOut = argv.includes('--profile') ? path.resolve(option('--profile', '')) : undefined;
const perfOut = argv.includes('--perf') ? path.resolve(option('--perf', '')) : undefined;
const BUNDLE = path.resolve('dist/change-leverage/index.mjs');
const CHILD = path.resolve('bench/profile/child.mjs');
const RESULT_MARKER = '@@profile-result@@';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'LINKUSDT', 'AVAXUSDT', 'LTCUSDT'];
const TRANSPORT_MODES = argv.includes('--transport-modes')
  ? option('--transport-modes', '').split(',')
  : ['send', 'send*10', 'papi', 'papi*10', 'put', 'put*10', 'get', 'sns', 'sns*10', 'sdkBatch', 'batch'];
const credentials = (JSON.parse(readFileSync('local/binance-simulator/test-credentials.json', 'utf8')) as Record<string, { apiKey: string; apiSecret: string }>).default!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (argv.includes('--summarise')) {
  summarise(path.resolve(option('--summarise', '')), path.resolve(option('--map-bundle', BUNDLE)));
  process.exit(0);
}

const variants = [
  { name: 'as-deployed', env: {} as Record<string, string> },
  ...repeated('--variant').map((spec) => {
    const [name = '', settings = ''] = spec.split(/:(.*)/);
    return { name, env: Object.fromEntries(settings.split(',').filter(Boolean).map(keyValue)) };
  }),
];
const dir = mkdtempSync(path.join(os.tmpdir(), 'cpu-profile-'));
const transports: Record<string, string> = argv.includes('--transport')
  ? {
      current: await buildTransport('bench/profile/transport-entry.ts', 'current'),
      ...(argv.includes('--transport-before') ? { before: await buildTransport(option('--transport-before', ''), 'before') } : {}),
    }
  : {};

const simulator = await startBinanceSimulator({ seed: { ...defaultSeed(), weightLimitPerMinute: 1_000_000 } });
const aws = await startFakeAws({
  secrets: { 'leverage-guard/binance/default': JSON.stringify(credentials) },
  parameters: { '/leverage-guard/paused': 'false' },
});
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '',
  BINANCE_SECRET_ID: 'leverage-guard/binance/{accountId}',
  RESULT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:leverage-guard-outcomes',
  BINANCE_PAPI_URL: simulator.url,
  BINANCE_TIME_URL: `${simulator.url}/fapi/v1/time`,
  BINANCE_WEIGHT_LIMIT: '1000000',
  STATE_TABLE_NAME: 'leverage-guard-state',
  PAUSE_PARAMETER: '/leverage-guard/paused',
  POWERTOOLS_SERVICE_NAME: 'leverage-guard',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_ENDPOINT_URL: aws.endpoint,
  AWS_LAMBDA_FUNCTION_NAME: 'change-leverage',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  ...Object.fromEntries(repeated('--env').map(keyValue)),
};

/** SQS batches of 10 distinct symbols, each record a real change (5 ⇄ 6), event ids unique per run. */
const lastLeverage = new Map<string, number>();
const prefix = `profile-${randomUUID().slice(0, 8)}`;
let records = 0;
function batch() {
  return {
    Records: SYMBOLS.map((symbol) => {
      const leverage = lastLeverage.get(symbol) === 5 ? 6 : 5;
      lastLeverage.set(symbol, leverage);
      const id = `${prefix}-${++records}`;
      const now = String(Date.now());
      return {
        messageId: id,
        receiptHandle: `receipt-${id}`,
        body: JSON.stringify({ eventId: id, accountId: 'default', symbol, leverage, issuedAt: new Date().toISOString(), reason: 'benchmark' }),
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'BENCH', ApproximateFirstReceiveTimestamp: now },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:leverage-guard-events',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** One fresh process; the job goes through a file (batches exceed an argument's size limit). */
function runChild(script: string, job: object, options: { env?: Record<string, string>; nodeArgs?: string[]; perf?: string } = {}): Promise<number[]> {
  const file = path.join(dir, `${randomUUID()}.json`);
  writeFileSync(file, JSON.stringify({ simulatorUrl: simulator.url, apiKey: credentials.apiKey, apiSecret: credentials.apiSecret, ...job }));
  const node = [...(options.nodeArgs ?? []), script, file];
  const [command, args] = options.perf
    ? ['perf', ['record', '-q', '-g', '-F', '2999', '-e', 'cpu-clock', '-o', options.perf, '--', process.execPath, '--perf-basic-prof', '--interpreted-frames-native-stack', ...node]]
    : [process.execPath, node];
  // cwd: node's --perf-basic-prof leaves its isolate logs there.
  const child = spawn(command, args, { cwd: dir, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (code !== 0 || !line) return reject(new Error(`${path.basename(script)} exited ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as number[]);
    }),
  );
}

const perRecord = new Map(variants.map((v) => [v.name, [] as number[]]));
const perCall = new Map<string, number[]>();
const bare: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of variants) {
      simulator.reset();
      lastLeverage.clear();
      const { BUNDLE: bundlePath = BUNDLE, NODE_ARGS: nodeArgs = '', ...variantEnv } = variant.env;
      const first = round === 0 && variant.name === 'as-deployed';
      const job = {
        bundlePath,
        warmup: Array.from({ length: warmup }, batch),
        measured: Array.from({ length: batches }, batch),
        profile: first ? profileOut : undefined,
      };
      const options = { env: variantEnv, nodeArgs: nodeArgs.split(' ').filter(Boolean), perf: first ? perfOut : undefined };
      const measured = await runChild(CHILD, job, options);
      // A profiled container runs slower; its figures count only when it is the only one.
      if (!(first && (profileOut || perfOut)) || rounds === 1) perRecord.get(variant.name)!.push(...measured);
      // Every record must have ended APPLIED and published, or the figures measure something else.
      const published = aws.takePublished().map((message) => JSON.parse(message) as { status: string });
      const other = published.find((o) => o.status !== 'APPLIED');
      if (other || published.length !== (warmup + batches) * SYMBOLS.length) {
        throw new Error(`${variant.name}: ${published.length} outcomes published for ${(warmup + batches) * SYMBOLS.length} records${other ? `, e.g. ${JSON.stringify(other)}` : ''}`);
      }
    }
    for (const [tree, script] of Object.entries(transports)) {
      for (const mode of TRANSPORT_MODES) perCall.set(`${tree} ${mode}`, [...(perCall.get(`${tree} ${mode}`) ?? []), ...(await runChild(script, { mode }))]);
      aws.takePublished();
    }
    bare.push(...(await runChild(CHILD, { mode: 'baseline', batches: 10 })));
  }

  const bareMs = median(bare);
  console.log(`bare signed node:http keep-alive call (median of ${bare.length}×100 calls): ${bareMs.toFixed(3)} ms CPU`);
  for (const [name, xs] of perRecord) {
    console.log(`${name}: CPU per record (median of ${xs.length} batches of 10): ${median(xs).toFixed(3)} ms, ${(median(xs) / bareMs).toFixed(2)}× the bare call`);
    if (!argv.includes('--series')) continue;
    const byIndex = Array.from({ length: batches }, (_, i) => median(xs.filter((_, j) => j % batches === i)));
    const windows = [[0, 5], [5, 10], [10, 20], [20, 50], [50, 100], [100, 200], [200, 400]].filter(([from]) => from! < batches);
    console.log(`  by batch number in the container: ${windows.map(([from, to]) => `${from! + warmup + 1}-${Math.min(to!, batches) + warmup}: ${median(byIndex.slice(from, to)).toFixed(3)}`).join(', ')} ms`);
  }
  for (const [name, xs] of perCall) console.log(`transport ${name}: ${median(xs).toFixed(3)} ms CPU per call, ${(median(xs) / bareMs).toFixed(2)}× the bare call`);
  if (profileOut) summarise(profileOut, BUNDLE);
} finally {
  await aws.close();
  await simulator.close();
}

async function buildTransport(entry: string, name: string): Promise<string> {
  const { build } = await import('esbuild');
  const { LAMBDA_BUILD_OPTIONS } = await import('../../scripts/bundle-options.ts');
  const outfile = path.join(dir, `transport-${name}.mjs`);
  await build({ ...LAMBDA_BUILD_OPTIONS, entryPoints: [entry], outfile, sourcemap: false });
  return outfile;
}

/** Self time of a V8 CPU profile by group, module and function, per measured record. */
function summarise(file: string, bundle: string): void {
  type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } };
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const add = (m: Map<string, number>, key: string, us: number) => m.set(key, (m.get(key) ?? 0) + us);
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    const { url, functionName, lineNumber, columnNumber } = node.callFrame;
    let module = url.startsWith('node:') ? url : url || `(${functionName || 'vm'})`;
    let name = functionName || '(anonymous)';
    if (url === `file://${bundle}`) {
      const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
      const source = (entry.originalSource ?? 'bundle?').replace(/^.*node_modules\//, 'npm:').replace(/^.*\/functions\//, 'functions/');
      name = `${entry.name ?? name} (${source.split('/').pop()}:${(entry.originalLine ?? 0) + 1})`;
      module = source.startsWith('npm:') ? source.split('/').slice(0, source.startsWith('npm:@') ? 2 : 1).join('/') : source;
    }
    add(byModule, module, us);
    add(byFunction, `${module} :: ${name}`, us);
  }
  const groupOf = (module: string): string => {
    if (['((idle))', 'node:inspector', '(cpuUsage)'].includes(module)) return 'not the function (idle, profiler)';
    if (/^npm:@(smithy|aws-sdk|aws-crypto)\//.test(module)) return 'AWS SDK clients (SNS, Secrets Manager)';
    if (/^npm:@(aws-lambda-powertools|middy)\//.test(module)) return 'Powertools, middy';
    if (module.startsWith('npm:')) return module;
    if (module.startsWith('functions/')) return 'project code (functions/)';
    if (module === '((garbage collector))') return 'garbage collector';
    return 'node: http, net, streams, crypto, timers, microtasks';
  };
  const byGroup = new Map<string, number>();
  for (const [module, us] of byModule) add(byGroup, groupOf(module), us);
  const measuredRecords = batches * SYMBOLS.length;
  const total = [...byModule.values()].reduce((sum, us) => sum + us, 0);
  for (const [title, table, rows] of [['group', byGroup, 12], ['module', byModule, 40], ['function', byFunction, 60]] as const) {
    console.log(`\nSelf time by ${title}, µs per record (sampled ${(total / measuredRecords).toFixed(0)} µs per record in all)`);
    for (const [key, us] of [...table].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`${(us / measuredRecords).toFixed(1).padStart(8)}  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
    }
  }
}
