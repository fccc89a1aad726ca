/**
 * The world of the model-based concurrency test and of the issue-8 regressions: one exchange
 * (model-exchange.ts), one state table, one Secrets Manager and one SNS topic, shared by several
 * independent Lambda containers ("instances"), each wired as index.ts wires it
 * (buildContainerHandler) with its own caches and its own clock (world time + its skew). World
 * time only moves when the driver says so, so "the event is now 20 minutes old", "the lease ran
 * out" and "the credential cache expired" are steps of a scenario, not waits.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { AwsJsonCall } from '../../../functions/adapters/aws-json/aws-json-client.ts';
import { type ModelPublish, ModelSns, RotatingSecretsManager, SECRET_ARN_TEMPLATE } from './aws-fakes.ts';
import { buildContainerHandler, invoke, type InvocationResult, type InvokableHandler, RESULT_TOPIC_ARN } from './handler-factory.ts';
import { lambdaContext } from './lambda-context.ts';
import { currentActor, type ExchangeAccount, ModelExchange, NO_TICK, type Tick, Timeline } from './model-exchange.ts';
import { toSqsRecord } from './sqs-queue-model.ts';
import { PAUSE_PARAMETER, SharedStateTable, STATE_TABLE } from './state-fakes.ts';

/** 2026-11-30T10:00:00Z: world time starts here. */
export const WORLD_START_MS = Date.UTC(2026, 10, 30, 10, 0, 0);

/** The function's environment, as serverless.yml would set it for these tests; an override of undefined keeps the default. */
export function modelEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return {
    BINANCE_SECRET_ID: SECRET_ARN_TEMPLATE,
    RESULT_TOPIC_ARN,
    STATE_TABLE_NAME: STATE_TABLE,
    PAUSE_PARAMETER,
    MAX_RECEIVE_COUNT: '3',
    BINANCE_REQUEST_TIMEOUT_MS: '5000',
    CREDENTIALS_CACHE_TTL_SECONDS: '300',
    MAX_EVENT_AGE_SECONDS: '900',
    ...given,
  };
}

/** Test hook: every container broken on purpose, to prove the invariants catch it (tests/chaos/model-invariants-bite.test.ts). */
export interface ContainerMutation {
  handler?: (real: InvokableHandler) => InvokableHandler;
  dynamodb?: (real: AwsJsonCall) => AwsJsonCall;
  ssm?: (real: AwsJsonCall) => AwsJsonCall;
  /** The containers' clocks are off by this much, and the invariants are not told. */
  unreportedClockOffsetMs?: number;
}

export interface WorldOptions {
  accounts: ExchangeAccount[];
  env?: Record<string, string | undefined>;
  tick?: Tick;
  startMs?: number;
  mutation?: ContainerMutation;
}

/** One SQS message as delivered: its id, body and which receive this is. */
export interface Delivery {
  messageId: string;
  body: string;
  receiveCount: number;
}

/** Lambda's budget per invocation (function timeout), on the instance's clock. */
const INVOCATION_BUDGET_MS = 30_000;

export class World {
  readonly timeline: Timeline;
  readonly exchange: ModelExchange;
  readonly state: SharedStateTable;
  readonly secrets: RotatingSecretsManager;
  readonly sns: ModelSns;
  readonly env: Record<string, string | undefined>;
  readonly mutation: ContainerMutation;

  constructor(options: WorldOptions) {
    this.mutation = options.mutation ?? {};
    const tick = options.tick ?? NO_TICK;
    this.timeline = new Timeline(options.startMs ?? WORLD_START_MS);
    this.exchange = new ModelExchange(this.timeline, options.accounts, tick);
    this.state = new SharedStateTable(tick, () => this.timeline.next());
    this.secrets = new RotatingSecretsManager(
      options.accounts.map((a) => a.name),
      tick,
    );
    this.sns = new ModelSns(this.timeline, () => currentActor.getStore(), tick);
    this.env = modelEnv(options.env);
    for (const account of options.accounts) this.exchange.acceptKey(account.name, this.secrets.apiKeyOf(account.name), true);
  }

  get nowMs(): number {
    return this.timeline.worldMs;
  }

  advance(ms: number): void {
    this.timeline.worldMs += ms;
  }

  /** ISO 8601 (UTC, `Z`) of world time plus `offsetMs`. */
  iso(offsetMs = 0): string {
    return new Date(this.timeline.worldMs + offsetMs).toISOString();
  }

  /** The key is rotated: Secrets Manager holds a new key and the exchange rejects the old one (-2015). */
  rotateKey(account: string): void {
    this.exchange.acceptKey(account, this.secrets.rotate(account), true);
  }

  instance(name: string, skewMs = 0): Instance {
    return new Instance(this, name, skewMs);
  }

  outcomesOf(eventId: string, symbol?: string): ModelPublish['outcome'][] {
    return this.sns.published.map((p) => p.outcome).filter((o) => o.eventId === eventId && (symbol === undefined || o.symbol === symbol));
  }
}

/** One Lambda container: its own handler (caches, clock, pause cache), invoked by the driver. */
export class Instance {
  invocations = 0;
  readonly now: () => number;
  private readonly handler: InvokableHandler;

  constructor(
    readonly world: World,
    readonly name: string,
    readonly skewMs: number,
  ) {
    const { mutation } = world;
    const offsetMs = skewMs + (mutation.unreportedClockOffsetMs ?? 0);
    this.now = () => world.timeline.worldMs + offsetMs;
    const handler = buildContainerHandler(
      world.env,
      {
        exchange: world.exchange,
        secretsManager: world.secrets.asClient(),
        sns: world.sns.asClient(),
        dynamodb: mutation.dynamodb ? mutation.dynamodb(world.state.dynamodb) : world.state.dynamodb,
        ssm: mutation.ssm ? mutation.ssm(world.state.ssm) : world.state.ssm,
      },
      this.now,
    );
    this.handler = mutation.handler ? mutation.handler(handler) : handler;
  }

  /** One SQS invocation with these records; the batch response (or what was thrown). */
  async receive(deliveries: Delivery[]): Promise<InvocationResult> {
    const event: SQSEvent = {
      Records: deliveries.map((d, seq) =>
        toSqsRecord({ messageId: d.messageId, body: d.body, seq, receiveCount: d.receiveCount, sentAt: this.world.nowMs }),
      ),
    };
    return this.invoke(event);
  }

  /** The record ids handed back by an SQS invocation (throws if the invocation threw). */
  async handedBack(deliveries: Delivery[]): Promise<string[]> {
    const result = await this.receive(deliveries);
    if ('threw' in result) throw result.threw;
    return ((result.returned as SQSBatchResponse).batchItemFailures ?? []).map((f) => f.itemIdentifier);
  }

  /** A direct (or EventBridge Scheduler) invocation with the risk event itself. */
  direct(event: unknown): Promise<InvocationResult> {
    return this.invoke(event);
  }

  /** One invocation with any Lambda event (an SQS batch from the queue model, a direct event…). */
  invoke(event: unknown): Promise<InvocationResult> {
    const invocation = ++this.invocations;
    const context = lambdaContext(INVOCATION_BUDGET_MS, `${this.name}-req-${invocation}`, this.now);
    return currentActor.run({ instance: this.name, invocation }, () => invoke(this.handler, event, context));
  }
}
