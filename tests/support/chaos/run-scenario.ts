/**
 * Plays one chaos scenario: the REAL handler (createChangeLeverageHandler) with the REAL exchange
 * client against the simulator, the real Secrets Manager and SNS adapters over flaky fakes, fed
 * by the SQS queue model until the queue drains. Returns everything the invariants look at.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BinanceSimulator } from '../../../local/binance-simulator/index.ts';
import { FakeSecretsManager, FakeSns, type PublishedOutcome, type RefusedPublish } from './aws-fakes.ts';
import { checkWritesAgainstLog, type LeverageWrite, recordLeverageWrites } from './exchange-writes.ts';
import {
  buildHandler,
  invoke,
  type InvokableHandler,
  type InvocationResult,
  secretsManagerCredentials,
  simulatorExchange,
  snsPublisher,
} from './handler-factory.ts';
import { lambdaContext } from './lambda-context.ts';
import { ChaosAws, type StateFailure } from './state-fakes.ts';
import { type ChaosScenario, DEFAULT_INVOCATION, type PlannedMessage, planMessages, UNLISTED_SYMBOLS } from './scenario.ts';
import { type Settlement, SqsQueueModel } from './sqs-queue-model.ts';

export interface ChaosEnvironment {
  sim: BinanceSimulator;
  /** The exchange client's per-request timeout (also the handler's minimum time to start a record). */
  requestTimeoutMs: number;
  /** Test hook: replace the handler (to prove the invariants catch a broken one). */
  wrapHandler?: (handler: InvokableHandler) => InvokableHandler;
}

export interface SentMessage extends PlannedMessage {
  messageId: string;
  seq: number;
}

export interface InvocationTrace {
  index: number;
  batch: { messageId: string; receiveCount: number }[];
  /** Moved to the DLQ by the receive that built this batch. */
  deadLettered: string[];
  result?: InvocationResult;
  settlement?: Settlement;
}

export interface ChaosTrace {
  scenario: ChaosScenario;
  messages: SentMessage[];
  invocations: InvocationTrace[];
  published: PublishedOutcome[];
  refused: RefusedPublish[];
  /** State store calls that failed (state store runs). */
  stateFailures: StateFailure[];
  deleted: string[];
  dlq: string[];
  /** Still in the queue when the run gave up (should be empty). */
  undrained: string[];
  writes: LeverageWrite[];
  initialLeverage: Map<string, number>;
  finalLeverage: Map<string, number>;
  /** Set when the request log disagrees with the recorded writes. */
  logMismatch?: string;
}

export const keyOf = (accountId: string, symbol: string) => `${accountId} ${symbol}`;

/** How far the state store's clock moves per invocation: past a claim's lease and the pause cache. */
const STATE_CLOCK_STEP_MS = 15_000;

/** Receives per message is bounded by maxReceiveCount + 1; this is far past any legitimate run. */
const MAX_ROUNDS = 2000;

export async function runChaosScenario(env: ChaosEnvironment, scenario: ChaosScenario): Promise<ChaosTrace> {
  const { sim } = env;
  sim.reset();
  for (const rule of scenario.exchangeFaults) sim.injectFault(structuredClone(rule));
  const waves = planMessages(scenario);
  const keys = new Set(
    waves.flat().flatMap((m) => (m.command?.targets ?? []).filter((t) => !UNLISTED_SYMBOLS.has(t.symbol)).map((t) => keyOf(m.command!.accountId, t.symbol))),
  );
  const leverages = () => new Map([...keys].map((key) => [key, sim.leverageOf(...(key.split(' ') as [string, string]))]));
  const initialLeverage = leverages();

  const secretsManager = new FakeSecretsManager(scenario.secretsFailures);
  const sns = new FakeSns(scenario.snsFailures);
  const aws = scenario.stateStore ? new ChaosAws(scenario.stateFailures) : undefined;
  const coldStart = (): InvokableHandler => {
    const handler: InvokableHandler = buildHandler(
      {
        exchange: simulatorExchange(sim.url, env.requestTimeoutMs),
        credentials: secretsManagerCredentials(secretsManager, scenario.credentialsTtlMs),
        publisher: snsPublisher(sns),
        state: aws?.stateStore(),
        pause: aws?.pauseSwitch(),
      },
      { maxReceiveCount: scenario.maxReceiveCount, requestTimeoutMs: env.requestTimeoutMs },
    );
    return env.wrapHandler ? env.wrapHandler(handler) : handler;
  };

  const standard = scenario.stateStore && scenario.queueMode === 'standard';
  const queue = new SqsQueueModel({
    maxReceiveCount: scenario.maxReceiveCount,
    batchSize: scenario.batchSize,
    mode: standard ? { kind: 'standard', visibilityRounds: scenario.visibilityRounds } : { kind: 'fifo' },
  });
  const messages: SentMessage[] = [];
  const invocations: InvocationTrace[] = [];
  const recorder = recordLeverageWrites();
  let handler = coldStart();
  try {
    for (let round = 0; round < MAX_ROUNDS && (round < waves.length || queue.depth > 0); round++) {
      for (const planned of waves[round] ?? []) {
        const message = queue.send(planned.body, undefined, planned.groupId);
        messages.push({ ...planned, messageId: message.messageId, seq: message.seq });
      }
      const conditions = scenario.invocations[round] ?? DEFAULT_INVOCATION;
      if (conditions.coldStart) handler = coldStart();
      if (conditions.pauseMs > 0) await sleep(conditions.pauseMs);
      const batch = queue.receive();
      if (batch === undefined) continue;
      const trace: InvocationTrace = {
        index: invocations.length,
        batch: batch.messages.map((m) => ({ messageId: m.messageId, receiveCount: m.receiveCount })),
        deadLettered: batch.deadLettered.map((m) => m.messageId),
      };
      invocations.push(trace);
      if (batch.messages.length === 0) continue;
      sns.invocation = trace.index;
      recorder.invocation = trace.index;
      if (aws) {
        aws.invocation = trace.index;
        aws.pause = conditions.paused ?? 'no';
        // Redeliveries come a visibility timeout apart: leases and the pause cache expire.
        aws.skewMs += STATE_CLOCK_STEP_MS;
      }
      trace.result = await invoke(handler, batch.event, lambdaContext(conditions.budgetMs));
      trace.settlement = queue.settle(batch, trace.result);
    }
  } finally {
    recorder.stop();
  }
  sns.invocation = -1;
  const deleted = new Set(queue.deleted.map((m) => m.messageId));
  const dlq = new Set(queue.dlq.map((m) => m.messageId));
  return {
    scenario,
    messages,
    invocations,
    published: sns.published,
    refused: sns.refused,
    stateFailures: aws?.failures ?? [],
    deleted: [...deleted],
    dlq: [...dlq],
    undrained: messages.filter((m) => !deleted.has(m.messageId) && !dlq.has(m.messageId)).map((m) => m.messageId),
    writes: recorder.writes,
    initialLeverage,
    finalLeverage: leverages(),
    logMismatch: checkWritesAgainstLog(sim, recorder.writes),
  };
}
