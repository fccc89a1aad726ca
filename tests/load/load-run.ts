/**
 * The load run shared by `npm run load` (scripts/load.ts) and the CI-sized load test: N risk events
 * through the whole local stack (SQS queue → local poller(s) → the built bundle in RIE+RIC
 * containers → Binance simulator → SNS topic → outcomes queue), with the simulator enforcing an
 * IP request-weight limit per calendar minute. It measures, it does not judge: `problems()` lists
 * what breaks the run's promises (an event without exactly one outcome, any 429/418, a DLQ entry).
 *
 * What the numbers mean:
 * - wall time runs from the first send to the last outcome read, so it includes enqueueing;
 * - the producer keeps at most `maxBacklog` events on the queue, topping it up as batches are
 *   acknowledged: moto's SQS scans its whole message list on every send, receive and delete
 *   (measured: a receive + delete pair takes ~2.5 s with 5000 messages queued, ~20 ms with 200),
 *   so a queue filled with all N events up front would measure moto, not the function;
 * - every poller has its own container, as Lambda runs concurrent batches in separate containers,
 *   so each container paces itself from what the shared IP's responses report;
 * - the weight per minute comes from the simulator's request log (the weight it charged, by the
 *   calendar minute of arrival), i.e. exactly what its limiter counted, the fapi time call included.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import path from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsPoller, type PollResult, readOutcomes, type SqsPoller } from '../../local/aws/index.ts';
import { type BinanceSimulator, defaultSeed, type RecordedRequest, startBinanceSimulator } from '../../local/binance-simulator/index.ts';
import { LambdaHost } from '../../local/lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard, startLocalLeverageGuard } from '../../local/stack.ts';

export interface LoadOptions {
  events: number;
  /** The simulator's weight limit per minute, also given to the function (BINANCE_WEIGHT_LIMIT). */
  weightLimit: number;
  /** Concurrent pollers, one RIE container each (Lambda's concurrent batches). */
  pollers: number;
  /** Records per batch (ReceiveMessage allows up to 10). */
  batchSize: number;
  /**
   * Long enough for a paced request to wait out the rest of a minute (up to 60.25 s + the 2 s
   * request timeout + 0.5 s reserve): with less, records that hit the budget are handed back
   * (WEIGHT_BUDGET) and come back after the visibility timeout.
   */
  functionTimeoutMs: number;
  /** Above the function timeout, so a record in a long-waiting batch is not delivered twice. */
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Share of reduce-only events (a 5-weight symbolConfig read before the 1-weight change). */
  reduceOnlyShare: number;
  /** Most events on the queue at once (see above); enough to keep every poller's batches full. */
  maxBacklog: number;
  /** Give up waiting for outcomes after this long. */
  timeoutMs: number;
  /** After the last expected outcome, keep reading this long for duplicates. */
  settleMs: number;
  /**
   * Start polling only when at least this many seconds are left in the current calendar minute
   * (else wait for the next one), so the first window is long enough to fill its budget: a test
   * can then count on the limit binding. 0 (default): start at once.
   */
  minSecondsLeftInFirstMinute?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export const LOAD_DEFAULTS = {
  pollers: 1,
  batchSize: 10,
  functionTimeoutMs: 90_000,
  visibilityTimeoutSeconds: 120,
  maxReceiveCount: 3,
  reduceOnlyShare: 0.1,
  maxBacklog: 200,
  settleMs: 2_000,
} satisfies Partial<LoadOptions>;

export interface WindowWeight {
  /** Start of the calendar minute (simulator clock), ISO. */
  minute: string;
  weight: number;
  requests: number;
}

export interface LoadReport {
  options: Omit<LoadOptions, 'progress'>;
  events: number;
  /** Time to send all N events (interleaved with processing). */
  enqueueMs: number;
  /** Why the producer stopped early, if it did. */
  producerError?: string;
  wallMs: number;
  eventsPerSecond: number;
  outcomesByStatus: Record<string, number>;
  /** Events with no outcome / with more than one. */
  missing: string[];
  duplicated: string[];
  /** Outcomes whose eventId was not sent in this run. */
  unexpected: number;
  dlq: number;
  /** Left on the risk-event queue (visible + in flight) after the run. */
  leftOnQueue: number;
  status429: number;
  status418: number;
  requestsByPath: Record<string, number>;
  /** Weight the simulator charged per calendar minute, in order. */
  windows: WindowWeight[];
  maxUsedWeight: number;
  totalWeight: number;
  /** Hand-backs by error code (from the function's logs): WEIGHT_BUDGET, KEY_BUSY, … */
  handBacksByCode: Record<string, number>;
  /** Events the function received in more than one invocation (from its logs). */
  redelivered: string[];
  batches: number;
  batchFailures: number;
  coldStarts: number;
  /** The longest stretch with no Binance request, and when it ended (pacing waits show up here). */
  longestQuietMs: number;
}

const SYMBOLS_BY_ACCOUNT: Record<string, string[]> = (() => {
  const symbols = defaultSeed().symbols.map((s) => s.symbol);
  return Object.fromEntries(['default', 'desk-1', 'desk-2', 'desk-3'].map((account) => [account, symbols]));
})();

/**
 * Valid single-symbol events spread round-robin over every account × symbol (4 × 11 keys), with
 * leverages 2–15: below every seeded position's notional cap, so each event ends APPLIED, or
 * SKIPPED when a reduce-only event would not reduce.
 */
export function loadEvents(count: number, runId: string, reduceOnlyShare: number): Record<string, unknown>[] {
  const keys = Object.entries(SYMBOLS_BY_ACCOUNT).flatMap(([accountId, symbols]) => symbols.map((symbol) => ({ accountId, symbol })));
  const reduceEvery = reduceOnlyShare > 0 ? Math.max(1, Math.round(1 / reduceOnlyShare)) : 0;
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % keys.length]!;
    const event: Record<string, unknown> = {
      eventId: `load-${runId}-${i}`,
      accountId: key.accountId,
      symbol: key.symbol,
      leverage: 2 + ((i * 7) % 14),
      reason: 'load test',
    };
    if (reduceEvery && i % reduceEvery === reduceEvery - 1) event.mode = 'reduce-only';
    return event;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendBatch(guard: LocalLeverageGuard, chunk: Record<string, unknown>[]): Promise<void> {
  const { Failed = [] } = await guard.aws.clients.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: guard.resources.queueUrl,
      Entries: chunk.map((body, index) => ({ Id: String(index), MessageBody: JSON.stringify(body) })),
    }),
  );
  if (Failed.length > 0) throw new Error(`enqueue failed: ${JSON.stringify(Failed)}`);
}

async function queueDepth(guard: LocalLeverageGuard, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await guard.aws.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

function weightByMinute(log: RecordedRequest[]): WindowWeight[] {
  const byMinute = new Map<number, WindowWeight>();
  for (const request of log) {
    const start = Math.floor(request.at / 60_000) * 60_000;
    const window = byMinute.get(start) ?? { minute: new Date(start).toISOString(), weight: 0, requests: 0 };
    window.weight += request.weight;
    window.requests += 1;
    byMinute.set(start, window);
  }
  return [...byMinute.entries()].sort(([a], [b]) => a - b).map(([, window]) => window);
}

function handBacks(logs: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of logs) {
    if (!line.includes('handing the record back')) continue;
    try {
      const code = String((JSON.parse(line) as { code?: unknown }).code ?? 'unknown');
      counts[code] = (counts[code] ?? 0) + 1;
    } catch {
      counts.unparsed = (counts.unparsed ?? 0) + 1;
    }
  }
  return counts;
}

/** Events handed to the function more than once (SQS redelivery, or a duplicate delivery). */
function redelivered(logs: string[]): string[] {
  const deliveries = new Map<string, number>();
  for (const line of logs) {
    if (!line.includes('invocation complete')) continue;
    try {
      const { eventIds } = JSON.parse(line) as { eventIds?: unknown };
      if (!Array.isArray(eventIds)) continue;
      for (const id of eventIds) deliveries.set(String(id), (deliveries.get(String(id)) ?? 0) + 1);
    } catch {
      // not a JSON log line
    }
  }
  return [...deliveries.entries()].filter(([, n]) => n > 1).map(([id]) => id);
}

function longestQuiet(log: RecordedRequest[]): number {
  let longest = 0;
  for (let i = 1; i < log.length; i++) longest = Math.max(longest, log[i]!.at - log[i - 1]!.at);
  return longest;
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const progress = options.progress ?? (() => {});
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const simulator: BinanceSimulator = await startBinanceSimulator({ seed: { ...defaultSeed(), weightLimitPerMinute: options.weightLimit } });
  let guard: LocalLeverageGuard | undefined;
  const extraHosts: LambdaHost[] = [];
  try {
    guard = await startLocalLeverageGuard({
      name: `load-${runId}`,
      simulator,
      batchSize: options.batchSize,
      maxReceiveCount: options.maxReceiveCount,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      functionTimeoutMs: options.functionTimeoutMs,
      env: { BINANCE_WEIGHT_LIMIT: String(options.weightLimit) },
    });
    const stack = guard;
    const pollers: { poller: SqsPoller; host: LambdaHost }[] = [{ poller: stack.poller, host: stack.host }];
    for (let i = 1; i < options.pollers; i++) {
      const host = new LambdaHost({ bundlePath: path.resolve(BUNDLE_PATH), env: stack.functionEnv, timeoutMs: options.functionTimeoutMs });
      extraHosts.push(host);
      const poller = createSqsPoller({
        sqs: stack.aws.clients.sqs,
        queueUrl: stack.resources.queueUrl,
        queueArn: stack.resources.queueArn,
        batchSize: options.batchSize,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        invoke: (event: SQSEvent) => host.invoke<SQSBatchResponse>(event),
      });
      pollers.push({ poller, host });
    }

    const events = loadEvents(options.events, runId, options.reduceOnlyShare);
    const leftInMinuteMs = 60_000 - (Date.now() % 60_000);
    if (leftInMinuteMs < (options.minSecondsLeftInFirstMinute ?? 0) * 1000) {
      progress(`waiting ${(leftInMinuteMs / 1000).toFixed(1)} s for the next minute to start`);
      await sleep(leftInMinuteMs + 300);
    }

    // Produce (bounded backlog) and poll until every expected outcome has been read (or the time is up).
    const results: PollResult[] = [];
    let running = true;
    let acknowledged = 0;
    const started = Date.now();
    let enqueueMs = 0;
    let producerError: string | undefined;
    const producer = (async () => {
      for (let sent = 0; sent < events.length && running; ) {
        if (sent - acknowledged + 10 > options.maxBacklog) {
          await sleep(10);
          continue;
        }
        const chunk = events.slice(sent, sent + 10);
        await sendBatch(stack, chunk);
        sent += chunk.length;
      }
      enqueueMs = Date.now() - started;
      progress(`all ${events.length} events sent after ${(enqueueMs / 1000).toFixed(1)} s`);
    })().catch((error: unknown) => {
      producerError = error instanceof Error ? error.message : String(error);
      progress(`producer stopped: ${producerError}`);
    });
    const loops = pollers.map(async ({ poller }) => {
      while (running) {
        try {
          const result = await poller.pollOnce();
          acknowledged += result.deleted;
          if (result.received > 0) results.push(result);
        } catch (error) {
          progress(`poll failed: ${error instanceof Error ? error.message : String(error)}`);
          await sleep(100);
        }
      }
    });

    const expected = new Set(events.map((e) => e.eventId as string));
    const seen = new Map<string, number>();
    const byStatus: Record<string, number> = {};
    let unexpected = 0;
    let lastOutcomeAt = started;
    let lastProgress = started;
    const record = (outcomes: { body: Record<string, unknown> }[]) => {
      for (const { body } of outcomes) {
        const eventId = String(body.eventId);
        if (!expected.has(eventId)) unexpected += 1;
        seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
        byStatus[String(body.status)] = (byStatus[String(body.status)] ?? 0) + 1;
      }
      if (outcomes.length > 0) lastOutcomeAt = Date.now();
    };
    const readUntil = async (count: () => number, deadline: number) => {
      while (count() > 0 && Date.now() < deadline) {
        const batch = await readOutcomes<Record<string, unknown>>(stack.aws.clients.sqs, stack.resources.outcomesQueueUrl, {
          count: Math.min(count(), 100),
          timeoutMs: Math.min(2_000, Math.max(0, deadline - Date.now())),
        });
        record(batch);
        if (Date.now() - lastProgress >= 5_000) {
          lastProgress = Date.now();
          progress(`${seen.size}/${expected.size} events have an outcome after ${((Date.now() - started) / 1000).toFixed(0)} s; simulator minute weight ${simulator.usedWeight()}`);
        }
      }
    };
    await readUntil(() => expected.size - seen.size, started + options.timeoutMs);
    const wallMs = lastOutcomeAt - started;

    // Anything more is a duplicate (or an extra); then stop polling and look at what is left.
    const settleEnd = Date.now() + options.settleMs;
    await readUntil(() => 1, settleEnd);
    running = false;
    await Promise.all([producer, ...loops]);

    const log = simulator.requests();
    const windows = weightByMinute(log);
    const requestsByPath: Record<string, number> = {};
    for (const request of log) requestsByPath[request.path] = (requestsByPath[request.path] ?? 0) + 1;
    const logs = pollers.flatMap(({ host }) => host.logs);
    const { progress: _ignored, ...shownOptions } = options;
    return {
      options: shownOptions,
      events: events.length,
      enqueueMs,
      producerError,
      wallMs,
      eventsPerSecond: seen.size / Math.max(0.001, wallMs / 1000),
      outcomesByStatus: byStatus,
      missing: [...expected].filter((id) => !seen.has(id)),
      duplicated: [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id),
      unexpected,
      dlq: await queueDepth(stack, stack.resources.dlqUrl),
      leftOnQueue: await queueDepth(stack, stack.resources.queueUrl),
      status429: log.filter((r) => r.status === 429).length,
      status418: log.filter((r) => r.status === 418).length,
      requestsByPath,
      windows,
      maxUsedWeight: Math.max(0, ...windows.map((w) => w.weight)),
      totalWeight: windows.reduce((sum, w) => sum + w.weight, 0),
      handBacksByCode: handBacks(logs),
      redelivered: redelivered(logs),
      batches: results.length,
      batchFailures: results.filter((r) => r.batchFailure !== undefined).length,
      coldStarts: pollers.reduce((sum, { host }) => sum + host.coldStarts, 0),
      longestQuietMs: longestQuiet(log),
    };
  } finally {
    for (const host of extraHosts) host.stop();
    await guard?.close();
    await simulator.close();
  }
}

/** What breaks the run's promises; empty when it kept them all. */
export function problems(report: LoadReport): string[] {
  const found: string[] = [];
  if (report.producerError) found.push(`the producer failed: ${report.producerError}`);
  if (report.missing.length > 0) found.push(`${report.missing.length} events have no outcome (e.g. ${report.missing.slice(0, 3).join(', ')})`);
  if (report.duplicated.length > 0) found.push(`${report.duplicated.length} events have more than one outcome (e.g. ${report.duplicated.slice(0, 3).join(', ')})`);
  if (report.unexpected > 0) found.push(`${report.unexpected} outcomes for events this run did not send`);
  if (report.status429 > 0) found.push(`${report.status429} requests were answered 429`);
  if (report.status418 > 0) found.push(`${report.status418} requests were answered 418`);
  if (report.dlq > 0) found.push(`${report.dlq} records in the DLQ`);
  if (report.leftOnQueue > 0) found.push(`${report.leftOnQueue} records still on the risk-event queue`);
  return found;
}

export function formatReport(report: LoadReport): string {
  const o = report.options;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `load run: ${report.events} events, weight limit ${o.weightLimit}/min (function budget ${Math.floor(o.weightLimit * 0.9)}), ` +
      `${o.pollers} poller(s) × batch ${o.batchSize}, function timeout ${seconds(o.functionTimeoutMs)}, ` +
      `visibility ${o.visibilityTimeoutSeconds} s, maxReceiveCount ${o.maxReceiveCount}, reduce-only share ${o.reduceOnlyShare}, backlog ≤ ${o.maxBacklog}`,
    `events:              ${report.events}`,
    `wall time:           ${seconds(report.wallMs)} (first send → last outcome read)`,
    `enqueue:             SendMessageBatch × ${Math.ceil(report.events / 10)}, at most ${o.maxBacklog} queued at once; last send after ${seconds(report.enqueueMs)}`,
    `events/second:       ${report.eventsPerSecond.toFixed(1)}`,
    `outcomes by status:  ${JSON.stringify(report.outcomesByStatus)}`,
    `missing outcomes:    ${report.missing.length}; duplicated: ${report.duplicated.length}; unexpected: ${report.unexpected}`,
    `DLQ size:            ${report.dlq}; left on queue: ${report.leftOnQueue}`,
    `HTTP 429:            ${report.status429}`,
    `HTTP 418:            ${report.status418}`,
    `max used weight:     ${report.maxUsedWeight} of ${o.weightLimit} in one minute (total ${report.totalWeight})`,
    `weight per minute:   ${report.windows.map((w) => `${w.minute.slice(11, 16)} ${w.weight}`).join(', ')}`,
    `requests:            ${JSON.stringify(report.requestsByPath)}`,
    `longest quiet spell: ${seconds(report.longestQuietMs)} without a Binance request (pacing waits show here)`,
    `hand-backs by code:  ${JSON.stringify(report.handBacksByCode)}`,
    `redelivered events:  ${report.redelivered.length}${report.redelivered.length > 0 ? ` (e.g. ${report.redelivered.slice(0, 3).join(', ')})` : ''}`,
    `batches:             ${report.batches} (${report.batchFailures} whole-batch failures), cold starts ${report.coldStarts}`,
  ];
  const found = problems(report);
  lines.push(found.length === 0 ? 'result:              OK' : `result:              FAILED: ${found.join('; ')}`);
  return lines.join('\n');
}
