/**
 * Plays one model scenario: two or three containers (model-world.ts) drain one SQS queue with a
 * visibility timeout, concurrently, round after round, while a person changes leverage and keys
 * are rotated; world time passes between rounds. Every I/O call of every container (exchange,
 * DynamoDB, SSM, Secrets Manager, SNS) is a task of fast-check's scheduler, which picks the
 * interleaving, so a failing interleaving is replayed (and shrunk) from the seed.
 */
import type fc from 'fast-check';
import type { ModelPublish } from './aws-fakes.ts';
import type { InvocationResult } from './handler-factory.ts';
import type { ExchangeRead, ExchangeWrite, Tick } from './model-exchange.ts';
import { MODEL_ACCOUNTS, MODEL_SYMBOLS, type IssuedAtForm, type ModelScenario } from './model-scenario.ts';
import { type ContainerMutation, World } from './model-world.ts';
import { type Settlement, SqsQueueModel } from './sqs-queue-model.ts';

export interface ModelTarget {
  symbol: string;
  leverage: number;
}

export interface ModelEvent {
  index: number;
  eventId: string;
  messageId: string;
  account: string;
  shape: 'single' | 'targets' | 'all-open-positions';
  /** Named symbols (empty for ALL_OPEN_POSITIONS). */
  targets: ModelTarget[];
  /** The one leverage of an ALL_OPEN_POSITIONS event. */
  allLeverage?: number;
  reduceOnly: boolean;
  issuedAtForm: IssuedAtForm;
  issuedAt?: string;
  /** What issuedAt means, when it can be interpreted. */
  issuedAtMs?: number;
  body: string;
  sentSeq: number;
  sentWorldMs: number;
}

export interface ModelInvocation {
  instance: string;
  invocation: number;
  round: number;
  worldMs: number;
  startSeq: number;
  endSeq?: number;
  batch: { messageId: string; receiveCount: number }[];
  result?: InvocationResult;
  settlement?: Settlement;
}

export interface ModelTrace {
  scenario: ModelScenario;
  events: ModelEvent[];
  invocations: ModelInvocation[];
  writes: ExchangeWrite[];
  reads: ExchangeRead[];
  /** What each container's pause switch read, when. */
  pauseReads: { seq: number; value: string | undefined; unreadable: boolean; instance?: string; invocation?: number }[];
  /** Claims taken on the state table (timeline position, key, container invocation). */
  claims: { seq: number; pk: string; instance?: string; invocation?: number }[];
  published: ModelPublish[];
  refused: { eventId: string; symbol?: string; instance?: string; invocation?: number }[];
  /** messageId → timeline position of its deletion (acknowledgement). */
  acked: Map<string, number>;
  dlq: string[];
  undrained: string[];
  initialLeverage: Map<string, number>;
  skews: Map<string, number>;
  caps?: number;
  maxEventAgeMs: number;
  maxReceiveCount: number;
  /** DynamoDB calls that failed (pk, operation, before/after). */
  stateFailures: { operation: string; pk: string; when: 'before' | 'after' }[];
}

export const keyOf = (account: string, symbol: string) => `${account} ${symbol}`;

const MAX_EVENT_AGE_SECONDS = 900;
/** Far past any legitimate run: each record is received at most maxReceiveCount + 1 times. */
const MAX_ROUNDS = 80;

export async function runModelScenario(scenario: ModelScenario, scheduler: fc.Scheduler, mutation?: ContainerMutation): Promise<ModelTrace> {
  const tick: Tick = (label) => scheduler.schedule(Promise.resolve(), label).then(() => undefined);
  const world = new World({
    accounts: MODEL_ACCOUNTS.map((name, a) => ({
      name,
      leverage: Object.fromEntries(MODEL_SYMBOLS.map((symbol, s) => [symbol, scenario.initialLeverage[a]![s]!])),
      openPositions: MODEL_SYMBOLS.filter((_, s) => scenario.openPositions[a]![s]),
    })),
    env: {
      MAX_RECEIVE_COUNT: String(scenario.maxReceiveCount),
      MAX_EVENT_AGE_SECONDS: String(MAX_EVENT_AGE_SECONDS),
      STATE_TABLE_NAME: scenario.withStateTable ? undefined : '',
      LEVERAGE_CAPS: scenario.caps === undefined ? undefined : JSON.stringify({ '*': scenario.caps }),
    },
    tick,
    mutation,
  });
  const initialLeverage = new Map(MODEL_ACCOUNTS.flatMap((account) => MODEL_SYMBOLS.map((symbol) => [keyOf(account, symbol), world.exchange.leverageOf(account, symbol)] as const)));
  const instances = scenario.skewsMs.map((skew, n) => world.instance(`c${n + 1}`, skew));
  const queue = new SqsQueueModel({
    maxReceiveCount: scenario.maxReceiveCount,
    batchSize: scenario.batchSize,
    now: () => world.nowMs,
    mode: { kind: 'visibility-timeout', timeoutMs: scenario.visibilityTimeoutMs },
  });

  const leverages = uniqueLeverages(scenario);
  injectFailures(world, scenario, leverages);
  const events: ModelEvent[] = [];
  const invocations: ModelInvocation[] = [];
  const acked = new Map<string, number>();
  const lastRound = Math.max(scenario.rounds.length - 1, ...scenario.events.map((e) => e.round));

  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const [index, spec] of scenario.events.entries()) {
      if (spec.round !== round) continue;
      const planned = planEvent(index, spec, leverages[index]!, world.nowMs);
      const message = queue.send(planned.body);
      events.push({ ...planned, messageId: message.messageId, sentSeq: world.timeline.next(), sentWorldMs: world.nowMs });
    }
    const spec = scenario.rounds[round];
    if (spec?.rotate !== undefined) world.rotateKey(MODEL_ACCOUNTS[spec.rotate]!);
    if (spec?.pause !== undefined) {
      world.state.pauseUnreadable = spec.pause === 'unreadable';
      world.state.pauseValue = spec.pause === 'missing' || spec.pause === 'unreadable' ? undefined : spec.pause;
    }
    const tasks: Promise<unknown>[] = [];
    if (spec?.person) {
      const { account, symbol, leverage } = spec.person;
      const [accountName, symbolName] = [MODEL_ACCOUNTS[account]!, MODEL_SYMBOLS[symbol]!];
      tasks.push(scheduler.schedule(Promise.resolve(), `person sets ${accountName} ${symbolName} ×${leverage}`).then(() => world.exchange.personSets(accountName, symbolName, leverage)));
    }
    for (const instance of instances) {
      const batch = queue.receive();
      if (batch === undefined || batch.messages.length === 0) continue;
      const result = instance.invoke(batch.event);
      const trace: ModelInvocation = {
        instance: instance.name,
        invocation: instance.invocations,
        round,
        worldMs: world.nowMs,
        startSeq: world.timeline.next(),
        batch: batch.messages.map((m) => ({ messageId: m.messageId, receiveCount: m.receiveCount })),
      };
      invocations.push(trace);
      tasks.push(
        result.then((outcome) => {
          trace.result = outcome;
          trace.settlement = queue.settle(batch, outcome);
          trace.endSeq = world.timeline.next();
          for (const id of trace.settlement.deleted) acked.set(id, trace.endSeq);
        }),
      );
    }
    await scheduler.waitFor(Promise.all(tasks));
    const everythingSent = round >= lastRound;
    if (everythingSent && queue.depth === 0) break;
    world.advance(spec?.gapMs ?? 0);
    // Nothing visible: wait for the next visibility timeout to run out.
    const next = queue.nextVisibleAtMs();
    if (everythingSent && tasks.length === 0 && next !== undefined && next > world.nowMs) world.advance(next - world.nowMs);
  }

  const settled = new Set([...acked.keys(), ...queue.dlq.map((m) => m.messageId)]);
  return {
    scenario,
    events,
    invocations,
    writes: world.exchange.writes,
    reads: world.exchange.reads,
    claims: world.state.claims,
    pauseReads: world.state.pauseReads,
    published: world.sns.published,
    refused: world.sns.refused,
    acked,
    dlq: queue.dlq.map((m) => m.messageId),
    undrained: events.filter((e) => !settled.has(e.messageId)).map((e) => e.messageId),
    initialLeverage,
    skews: new Map(instances.map((i) => [i.name, i.skewMs])),
    caps: scenario.caps,
    maxEventAgeMs: MAX_EVENT_AGE_SECONDS * 1000,
    maxReceiveCount: scenario.maxReceiveCount,
    stateFailures: world.state.failures.map(({ operation, pk, when }) => ({ operation, pk, when })),
  };
}

/**
 * Requested leverages made unique per account (bumped to the next free value) and different from
 * the cap, so every write the guard made traces back to the event(s) that could have made it.
 */
function uniqueLeverages(scenario: ModelScenario): number[][] {
  const used = MODEL_ACCOUNTS.map(() => new Set<number>(scenario.caps === undefined ? [] : [scenario.caps]));
  return scenario.events.map((spec) => {
    const count = spec.shape === 'targets' ? 2 : 1;
    return spec.leverage.slice(0, count).map((wanted) => {
      const taken = used[spec.account]!;
      let leverage = wanted;
      while (taken.has(leverage)) leverage = (leverage % 125) + 1;
      taken.add(leverage);
      return leverage;
    });
  });
}

function planEvent(index: number, spec: ModelScenario['events'][number], leverage: number[], nowMs: number): Omit<ModelEvent, 'messageId' | 'sentSeq' | 'sentWorldMs'> {
  const account = MODEL_ACCOUNTS[spec.account]!;
  const eventId = `e${index + 1}`;
  const issued = formatIssuedAt(spec.issuedAt, nowMs - spec.ageMs);
  const targets = spec.shape === 'all-open-positions' ? [] : spec.symbols.slice(0, spec.shape === 'targets' ? 2 : 1).map((s, n) => ({ symbol: MODEL_SYMBOLS[s]!, leverage: leverage[n]! }));
  const reduceOnly = spec.shape === 'all-open-positions' || spec.reduceOnly;
  const body: Record<string, unknown> = { eventId, accountId: account };
  if (spec.shape === 'single') Object.assign(body, targets[0]);
  if (spec.shape === 'targets') body.targets = targets;
  if (spec.shape === 'all-open-positions') Object.assign(body, { symbols: 'ALL_OPEN_POSITIONS', leverage: leverage[0] });
  if (reduceOnly) body.mode = 'reduce-only';
  if (issued.text !== undefined) body.issuedAt = issued.text;
  return {
    index,
    eventId,
    account,
    shape: spec.shape,
    targets,
    ...(spec.shape === 'all-open-positions' ? { allLeverage: leverage[0] } : {}),
    reduceOnly,
    issuedAtForm: spec.issuedAt,
    ...(issued.text === undefined ? {} : { issuedAt: issued.text }),
    ...(issued.ms === undefined ? {} : { issuedAtMs: issued.ms }),
    body: JSON.stringify(body),
  };
}

/** The text a producer sends and the instant it means (undefined when it means nothing). */
export function formatIssuedAt(form: IssuedAtForm, ms: number): { text?: string; ms?: number } {
  const iso = (at: number) => new Date(at).toISOString();
  switch (form) {
    case 'utc-millis':
      return { text: iso(ms), ms };
    case 'utc-seconds': {
      const seconds = Math.floor(ms / 1000) * 1000;
      return { text: iso(seconds).replace('.000Z', 'Z'), ms: seconds };
    }
    case 'offset':
      return { text: iso(ms + 5.5 * 3600_000).replace('Z', '+05:30'), ms };
    case 'unparseable':
      return { text: iso(ms + 5 * 3600_000).replace(/\.\d{3}Z$/, '+05') };
    case 'absent':
      return {};
  }
}

function injectFailures(world: World, scenario: ModelScenario, leverages: number[][]): void {
  for (const fault of scenario.exchangeFaults) {
    const target = fault.ofEvent === undefined ? undefined : scenario.events[fault.ofEvent];
    // A change fault aimed at an event (e.g. a rejection of the newer one) matches its account and leverage.
    const where =
      fault.operation === 'change' && target
        ? { account: MODEL_ACCOUNTS[target.account], leverage: leverages[fault.ofEvent!]![0] }
        : fault.operation !== 'positions' && fault.symbol !== undefined
          ? { symbol: MODEL_SYMBOLS[fault.symbol] }
          : {};
    world.exchange.inject({ operation: fault.operation, fault: fault.fault, times: fault.times, ...where });
  }
  for (const failure of scenario.secretsFailures) world.secrets.fail(failure);
  for (const failure of scenario.snsFailures) {
    if (failure.ofEvent < scenario.events.length) world.sns.fail({ eventId: `e${failure.ofEvent + 1}`, times: failure.times });
  }
  if (scenario.withStateTable) for (const failure of scenario.stateFailures) world.state.fail(failure);
}
