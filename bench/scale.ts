/**
 * The "Scale" section: how many risk events per second one stage sustains, what a storm of
 * 10,000 events does to latency and cost, and what a second egress IP changes. Deployment
 * figures are read from infra/config (default.yml, overridden by prod.yml); the function's own
 * figures (AWS round trips in sequence per invocation, CPU per record, exchange weight and AWS
 * requests per record) come from this run; everything else is a stated assumption below.
 */
import { readFileSync } from 'node:fs';
import { WEIGHT_BUDGET_RATIO } from '../functions/adapters/binance/weight-pacer.ts';
import { routes } from '../local/binance-simulator/endpoints.ts';
import type { FunctionSummary } from './function-bench.ts';
import { fmt } from './format.ts';
import { serviceTotal } from './targets.ts';

export const STORM_EVENTS = 10_000;
/** Binance: request weight per minute per IP (docs/reference: binance-papi.md). */
const WEIGHT_PER_MINUTE_PER_IP = 6000;
/** What an uncertain answer adds (read-back GET /papi/v1/um/symbolConfig), from the simulator's route table. */
const READ_BACK_WEIGHT = routes.get('GET /papi/v1/um/symbolConfig')!.weight;

/** Assumptions, each shown in the document beside its value. */
export const ASSUMPTIONS = {
  awsCallMs: { value: 10, why: 'one in-region AWS call (DynamoDB is single-digit ms, SNS and Secrets Manager about 10–20 ms)' },
  binanceRoundTripMs: { value: 20, why: 'one signed request to Binance from a Lambda in the same AWS region (Tokyo), TLS connection kept alive' },
  lambdaVcpuAtOneGb: { value: 1769, why: 'Lambda gives one full vCPU at 1,769 MB and CPU in proportion to memory' },
  coreSpeed: { value: 1, why: 'one Lambda (Graviton, arm64) vCPU does the work of one core of this machine' },
  lambdaUsdPerMillionGbSeconds: { value: 13.3334, why: 'Lambda arm64 compute price (us-east-1 list price)' },
  lambdaUsdPerMillionRequests: { value: 0.2, why: 'Lambda price per million invocations' },
  writeUnitUsdPerMillion: { value: 0.625, why: 'DynamoDB on-demand write request units (us-east-1 list price)' },
  readUnitUsdPerMillion: { value: 0.125, why: 'DynamoDB on-demand read request units' },
  snsUsdPerMillionRequests: { value: 0.5, why: 'SNS publish requests, one per 64 KB chunk; a PublishBatch of 10 small outcomes is one chunk' },
} as const;

/**
 * DynamoDB request units of one request of each operation on items under 1 KB: strongly consistent
 * reads 1 RRU, writes 1 WRU, transactional writes 2 WRU per item. The lead's plan prices a
 * TransactWriteItems as 2 items (claim: ConditionCheck + Update; completion: Update + Put).
 */
const UNITS: Record<string, { read: number; write: number }> = {
  GetItem: { read: 1, write: 0 },
  Query: { read: 1, write: 0 },
  PutItem: { read: 0, write: 1 },
  UpdateItem: { read: 0, write: 1 },
  DeleteItem: { read: 0, write: 1 },
  TransactWriteItems: { read: 0, write: 2 * 2 },
  TransactGetItems: { read: 2 * 2, write: 0 },
};

export interface DeploymentParams {
  memorySize: number;
  functionTimeout: number;
  reservedConcurrency: number;
  batchSize: number;
  sqsMaximumConcurrency: number;
  maxEventAgeSeconds: number;
}

/** Top-level numeric parameters of infra/config/default.yml, with prod.yml's overrides. */
export function readDeploymentParams(): DeploymentParams {
  const read = (file: string) =>
    Object.fromEntries([...readFileSync(file, 'utf8').matchAll(/^([A-Za-z]\w*):\s*(\d+)\s*(?:#.*)?$/gm)].map((m) => [m[1]!, Number(m[2])]));
  const merged = { ...read('infra/config/default.yml'), ...read('infra/config/prod.yml') };
  const need = (name: keyof DeploymentParams) => {
    const value = merged[name];
    if (value === undefined) throw new Error(`infra/config has no numeric ${name}`);
    return value;
  };
  return {
    memorySize: need('memorySize'),
    functionTimeout: need('functionTimeout'),
    reservedConcurrency: need('reservedConcurrency'),
    batchSize: need('batchSize'),
    sqsMaximumConcurrency: need('sqsMaximumConcurrency'),
    maxEventAgeSeconds: need('maxEventAgeSeconds'),
  };
}

export interface ScaleRow {
  quantity: string;
  value: string;
  how: string;
}

export interface ScaleReport {
  params: DeploymentParams;
  rows: ScaleRow[];
  /** Events per second: the two limits and what one stage sustains, with one and two egress IPs. */
  rates: { weightBound: number; concurrencyBound: number; sustained: number; twoIpSustained: number; slotsForTwoIps: number };
  assumptions: Array<{ name: string; value: string; why: string }>;
}

export function scaleReport(fn: FunctionSummary, params = readDeploymentParams()): ScaleReport {
  const a = ASSUMPTIONS;
  const rt = fn.roundTrips;
  // Sequential AWS round trips in a whole warm batch invocation: its wall time under the injected
  // AWS latency minus its wall time without (same batch, same machine) and the exchange's latency.
  const sequentialAwsPerBatch = Math.max(0, (rt.warmBatchMs.median - fn.warmBatchWallMs.median - rt.exchangeLatencyMs) / rt.awsLatencyMs);
  const vcpu = params.memorySize / a.lambdaVcpuAtOneGb.value;
  const cpuPerRecordLambdaMs = fn.cpuPerRecordMs.median / (vcpu * a.coreSpeed.value);
  const batch = params.batchSize;
  const invocationMs = sequentialAwsPerBatch * a.awsCallMs.value + a.binanceRoundTripMs.value + batch * cpuPerRecordLambdaMs;
  const weightPerEvent = fn.exchangeWeightPerRecord.warm;
  // The function's pacer lets the IP's minute reach WEIGHT_BUDGET_RATIO of the limit (the margin
  // absorbs other containers' requests since its last response), then waits for the next minute.
  const budgetPerSecond = (WEIGHT_PER_MINUTE_PER_IP * WEIGHT_BUDGET_RATIO) / 60;
  const weightBound = budgetPerSecond / weightPerEvent;
  const uncertainBound = budgetPerSecond / (weightPerEvent + READ_BACK_WEIGHT);
  const slots = params.sqsMaximumConcurrency;
  const concurrencyBound = (slots * batch * 1000) / invocationMs;
  const sustained = Math.min(weightBound, concurrencyBound);
  const twoIpSustained = Math.min(2 * weightBound, concurrencyBound);
  const slotsForTwoIps = Math.ceil((2 * weightBound * invocationMs) / (batch * 1000));

  const drainS = STORM_EVENTS / sustained;
  const invocations = Math.ceil(STORM_EVENTS / batch);
  // Paced below the weight limit, the slots stay busy (waiting) for the whole drain.
  const busySeconds = Math.max((invocations * invocationMs) / 1000, slots * drainS);
  const gbSeconds = busySeconds * (params.memorySize / 1024);
  const lambdaUsd = (gbSeconds * a.lambdaUsdPerMillionGbSeconds.value + invocations * a.lambdaUsdPerMillionRequests.value) / 1e6;
  const measuredUnits = Object.entries(fn.requestsPerRecord)
    .filter(([op]) => op.startsWith('DynamoDB '))
    .reduce(
      (sum, [op, n]) => {
        const units = UNITS[op.slice('DynamoDB '.length)] ?? { read: 1, write: 1 };
        return { read: sum.read + n * units.read, write: sum.write + n * units.write };
      },
      { read: 0, write: 0 },
    );
  const dynamoUsd = (u: { read: number; write: number }) => (STORM_EVENTS * (u.read * a.readUnitUsdPerMillion.value + u.write * a.writeUnitUsdPerMillion.value)) / 1e6;
  const snsUsd = (requests: number) => (requests * a.snsUsdPerMillionRequests.value) / 1e6;
  const count = (n: number) => Math.round(n).toLocaleString('en');
  const snsRequests = STORM_EVENTS * serviceTotal(fn.requestsPerRecord, 'SNS');
  const snsBatched = STORM_EVENTS / Math.min(10, batch);
  const dollars = (x: number) => `$${x < 1 ? x.toFixed(3) : x.toFixed(2)}`;

  const rows: ScaleRow[] = [
    { quantity: 'deployment (infra/config, prod)', value: `${params.memorySize} MB, batch ${batch}, SQS maximum concurrency ${slots} of ${params.reservedConcurrency} reserved, timeout ${params.functionTimeout} s, events stale after ${params.maxEventAgeSeconds} s`, how: 'infra/config/default.yml + prod.yml' },
    { quantity: 'AWS round trips in sequence, whole warm batch invocation', value: fmt(sequentialAwsPerBatch, 1), how: `measured: (batch wall time at ${rt.awsLatencyMs} ms per AWS call − the same without latency − ${rt.exchangeLatencyMs} ms exchange) ÷ ${rt.awsLatencyMs} ms` },
    { quantity: 'CPU per record on a Lambda vCPU share', value: `${fmt(cpuPerRecordLambdaMs, 1)} ms`, how: `measured ${fmt(fn.cpuPerRecordMs.median * 1000, 0)} µs here ÷ ${fmt(vcpu, 3)} vCPU at ${params.memorySize} MB` },
    { quantity: `one warm invocation of ${batch} records`, value: `${fmt(invocationMs, 0)} ms`, how: `${fmt(sequentialAwsPerBatch, 1)} × ${a.awsCallMs.value} ms AWS + ${a.binanceRoundTripMs.value} ms Binance + ${batch} × ${fmt(cpuPerRecordLambdaMs, 1)} ms CPU` },
    { quantity: 'Binance weight per event', value: `${fmt(weightPerEvent, 2)} (first batch of a container ${fmt(fn.exchangeWeightPerRecord.firstBatch, 2)}; uncertain answer +${READ_BACK_WEIGHT})`, how: 'measured in the simulator (its weights follow the PAPI docs)' },
    { quantity: 'events/s within 6000 weight/min (one IP)', value: `${fmt(weightBound, 0)} (all answers uncertain: ${fmt(uncertainBound, 1)})`, how: `6000 × ${WEIGHT_BUDGET_RATIO} (the function's pacing budget) ÷ 60 ÷ weight per event` },
    { quantity: 'events/s the SQS pollers can carry', value: fmt(concurrencyBound, 0), how: `${slots} concurrent invocations × ${batch} records ÷ ${fmt(invocationMs, 0)} ms` },
    { quantity: 'events/s one stage sustains', value: `${fmt(sustained, 0)} (${weightBound <= concurrencyBound ? 'bound by Binance weight' : 'bound by concurrency'})`, how: 'the smaller of the two' },
    { quantity: `storm of ${STORM_EVENTS.toLocaleString('en')} events: last event applied after`, value: `${fmt(drainS, 0)} s (median event ${fmt(drainS / 2, 0)} s)`, how: `${STORM_EVENTS.toLocaleString('en')} ÷ sustained rate. ${
        weightBound < concurrencyBound
          ? `Weight-bound, it comes in bursts: the pollers reach the minute's budget in ${fmt((60 * weightBound) / concurrencyBound, 0)} s, then paced records wait for the next minute inside their invocation.`
          : 'Concurrency-bound: the pacer never waits.'
      } Events are stale after ${params.maxEventAgeSeconds} s, so the largest storm applied in time is ${Math.floor(sustained * params.maxEventAgeSeconds).toLocaleString('en')} events` },
    { quantity: 'storm: Lambda', value: `${invocations.toLocaleString('en')} invocations, ${fmt(gbSeconds, 0)} GB-s, ${dollars(lambdaUsd)}`, how: `busy time max(invocations × ${fmt(invocationMs, 0)} ms, ${slots} slots × drain time: paced invocations wait)` },
    { quantity: 'storm: DynamoDB, as measured', value: `${count(STORM_EVENTS * serviceTotal(fn.requestsPerRecord, 'DynamoDB'))} requests, ${count(STORM_EVENTS * measuredUnits.write)} WRU + ${count(STORM_EVENTS * measuredUnits.read)} RRU, ${dollars(dynamoUsd(measuredUnits))}`, how: 'requests per record from this run × units per operation (items < 1 KB, strongly consistent reads; a transaction costs 2 units per item: the claim (ConditionCheck + Update) and the release (Update + Put) are 8 WRU per record)' },
    { quantity: 'storm: SNS', value: `${count(snsBatched)} PublishBatch requests (${dollars(snsUsd(snsBatched))}); ${count(snsRequests)} at this run's batches of 10`, how: `one PublishBatch carries an invocation's outcomes (measured ${fmt(serviceTotal(fn.requestsPerRecord, 'SNS'), 2)} requests per record in batches of 10): ${Math.min(10, batch)} per request at the deployed batch size ${batch}` },
    { quantity: 'second egress IP', value: `${fmt(twoIpSustained, 0)} events/s (weight bound ${fmt(2 * weightBound, 0)}/s), the storm applied after ${fmt(STORM_EVENTS / twoIpSustained, 0)} s; using both IPs fully needs ${slotsForTwoIps} concurrent invocations`,
      how: 'the weight budget doubles; the pollers’ concurrency does not, so the concurrency bound takes over until sqsMaximumConcurrency (and reserved concurrency above it) is raised. Each container leaves through one NAT (its subnet), and its pacer reads the used weight of that IP from the responses, so the split between the IPs follows where the containers run, not the load' },
  ];
  return {
    params,
    rows,
    rates: { weightBound, concurrencyBound, sustained, twoIpSustained, slotsForTwoIps },
    assumptions: Object.entries(a).map(([name, { value, why }]) => ({ name, value: String(value), why })),
  };
}
