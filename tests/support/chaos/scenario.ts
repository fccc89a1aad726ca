/**
 * What a chaos run is made of, as fast-check arbitraries: waves of risk events arriving on the
 * queue (valid and invalid, several accounts, repeated symbols), exchange faults for the
 * simulator, Secrets Manager and SNS failure schedules, and per-invocation conditions (time
 * budget, cold start, pause before the receive). Everything is plain data, so a failing case
 * prints (and shrinks) readably.
 */
import fc from 'fast-check';
import type { Fault, FaultRule } from '../../../local/binance-simulator/index.ts';
import type { CallFailure } from './state-fakes.ts';

export const ACCOUNTS = ['default', 'desk-1', 'desk-2', 'desk-3'] as const;
/** FOOUSDT matches the symbol pattern but the exchange does not list it (-1121). */
export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT', 'BTCUSDT_261225', 'FOOUSDT'] as const;
export const UNLISTED_SYMBOLS: ReadonlySet<string> = new Set(['FOOUSDT']);

export const PATHS = {
  leverage: '/papi/v1/um/leverage',
  symbolConfig: '/papi/v1/um/symbolConfig',
  time: '/fapi/v1/time',
} as const;

export const INVALID_VARIANTS = [
  'notJson',
  'emptyBody',
  'array',
  'null',
  'missingLeverage',
  'missingSymbol',
  'lowercaseSymbol',
  'leverageTooHigh',
  'leverageZero',
  'leverageAsString',
  'fractionalLeverage',
  'badAccount',
  'unknownField',
] as const;
export type InvalidVariant = (typeof INVALID_VARIANTS)[number];

export type EventSpec =
  | {
      kind: 'valid';
      account: number;
      symbol: number;
      leverage: number;
      omitAccount: boolean;
      reason?: string;
      reduceOnly?: boolean;
      dryRun?: boolean;
      /** More symbols (a `targets` event), used in runs with a state store. */
      extraSymbols?: number[];
    }
  | { kind: 'invalid'; variant: InvalidVariant; withEventId: boolean };

export interface InvocationSpec {
  /** The invocation's time budget (what getRemainingTimeInMillis counts down from). */
  budgetMs: number;
  /** A new container: fresh exchange client (clock offset, quiet period) and credential cache. */
  coldStart: boolean;
  /** Wall-clock pause before the receive (time for a Retry-After or a ban to pass). */
  pauseMs: number;
  /** The operators' pause switch during this invocation (runs with a pause switch only). */
  paused?: 'no' | 'yes' | 'unreadable';
}

export interface ChaosScenario {
  maxReceiveCount: number;
  batchSize: number;
  credentialsTtlMs: number;
  /** Wave n is sent just before receive n. */
  waves: EventSpec[][];
  exchangeFaults: FaultRule[];
  secretsFailures: boolean[];
  snsFailures: boolean[];
  /**
   * With the DynamoDB state store and the SSM pause switch (real adapters over in-memory fakes,
   * DynamoDB calls failing per `stateFailures`); events carry issuedAt and may name several
   * targets. Without it, the function runs as with STATE_TABLE_NAME and PAUSE_PARAMETER unset.
   */
  stateStore: boolean;
  stateFailures: CallFailure[];
  /**
   * fifo: strict arrival order, MessageGroupId per account+symbol (per account for targets events).
   * standard (state store runs only): a handed-back record is invisible for `visibilityRounds`
   * receives, so newer records overtake it and the state store must keep the order.
   */
  queueMode: 'fifo' | 'standard';
  visibilityRounds: number;
  /** Invocation n's conditions; past the end, DEFAULT_INVOCATION. */
  invocations: InvocationSpec[];
}

export const DEFAULT_INVOCATION: InvocationSpec = { budgetMs: 4000, coldStart: false, pauseMs: 0 };

const eventSpec: fc.Arbitrary<EventSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        kind: fc.constant('valid' as const),
        account: fc.nat({ max: ACCOUNTS.length - 1 }),
        // Few symbols per run, so keys repeat.
        symbol: fc.oneof({ weight: 6, arbitrary: fc.nat({ max: 2 }) }, { weight: 1, arbitrary: fc.nat({ max: SYMBOLS.length - 1 }) }),
        leverage: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 1, arbitrary: fc.integer({ min: 51, max: 125 }) }),
        omitAccount: fc.boolean(),
        reason: fc.constantFrom('margin ratio breach', 'scheduled de-risk', 'näive ünïcode ✓'),
        reduceOnly: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        dryRun: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        extraSymbols: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 2 }) }),
      },
      { requiredKeys: ['kind', 'account', 'symbol', 'leverage', 'omitAccount'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('invalid' as const), variant: fc.constantFrom(...INVALID_VARIANTS), withEventId: fc.boolean() }),
  },
);

/** Every fault the simulator can inject, with durations small enough for fast runs. */
export const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ type: fc.constant('rateLimit' as const), retryAfterSeconds: fc.constantFrom(0, 0.05, 0.2) }),
  // Rarer than the rest: a ban silences the client for its whole length (at least 1 s once the
  // simulator answers 418 to a later request), so it sends most of a run to the DLQ.
  fc.oneof({ weight: 1, arbitrary: fc.record({ type: fc.constant('ban' as const), seconds: fc.constantFrom(0.1, 0.3) }) }, { weight: 3, arbitrary: fc.record({ type: fc.constant('latency' as const), ms: fc.integer({ min: 1, max: 40 }) }) }),
  fc.constant({ type: 'internalError' as const }),
  fc.constant({ type: 'serviceUnavailable' as const }),
  fc.record({ type: fc.constant('unknownStatus' as const), apply: fc.boolean(), code: fc.constantFrom(-1006 as const, -1007 as const) }),
  fc.constant({ type: 'throttled' as const }),
  fc.record({ type: fc.constant('timeout' as const), apply: fc.boolean() }),
  fc.record({ type: fc.constant('reset' as const), apply: fc.boolean() }),
  fc.record({ type: fc.constant('nonJson' as const), status: fc.constantFrom(403, 500, 502, 503, 504) }),
  // 400 ms outlasts the client's request timeout.
  fc.record({ type: fc.constant('latency' as const), ms: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(400)) }),
);

const faultRule = (fault: fc.Arbitrary<Fault>): fc.Arbitrary<FaultRule> =>
  fc.record(
    {
      fault,
      path: fc.oneof(
        { weight: 6, arbitrary: fc.constant(PATHS.leverage) },
        { weight: 2, arbitrary: fc.constant(PATHS.symbolConfig) },
        { weight: 1, arbitrary: fc.constant(PATHS.time) },
        { weight: 2, arbitrary: fc.constant(undefined) },
      ),
      symbol: fc.option(fc.constantFrom(...SYMBOLS.slice(0, 3)), { nil: undefined, freq: 2 }),
      times: fc.integer({ min: 1, max: 3 }),
    },
    { requiredKeys: ['fault', 'times'] },
  );

const invocationSpec: fc.Arbitrary<InvocationSpec> = fc.record({
  budgetMs: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(600, 900, 1500) }, { weight: 4, arbitrary: fc.constant(4000) }),
  coldStart: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 5, arbitrary: fc.constant(false) }),
  pauseMs: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(50, 250) }),
  paused: fc.oneof({ weight: 8, arbitrary: fc.constant('no' as const) }, { weight: 1, arbitrary: fc.constantFrom('yes' as const, 'unreadable' as const) }),
});

/** Mostly successes: a failure every few calls. */
const failureSchedule = fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), {
  maxLength: 24,
});

export interface ScenarioLimits {
  maxWaves?: number;
  maxEventsPerWave?: number;
  maxFaults?: number;
  /** Faults to draw from; every simulator fault by default. */
  faults?: fc.Arbitrary<Fault>;
  /** Only runs with (true) or without (false) the state store; both by default. */
  stateStore?: boolean;
}

export function chaosScenario(limits: ScenarioLimits = {}): fc.Arbitrary<ChaosScenario> {
  return fc.record({
    maxReceiveCount: fc.integer({ min: 2, max: 5 }),
    batchSize: fc.constantFrom(1, 5, 10, 10),
    credentialsTtlMs: fc.constantFrom(0, 60_000),
    waves: fc.array(fc.array(eventSpec, { minLength: 1, maxLength: limits.maxEventsPerWave ?? 8 }), {
      minLength: 1,
      maxLength: limits.maxWaves ?? 4,
    }),
    exchangeFaults: fc.array(faultRule(limits.faults ?? faultArbitrary), { maxLength: limits.maxFaults ?? 10 }),
    secretsFailures: failureSchedule,
    snsFailures: failureSchedule,
    invocations: fc.array(invocationSpec, { maxLength: 16 }),
    stateStore: limits.stateStore === undefined ? fc.boolean() : fc.constant(limits.stateStore),
    stateFailures: fc.array(
      fc.oneof({ weight: 6, arbitrary: fc.constant<CallFailure>(false) }, { weight: 1, arbitrary: fc.constantFrom<CallFailure>('before', 'after') }),
      { maxLength: 40 },
    ),
    queueMode: fc.constantFrom('fifo' as const, 'standard' as const),
    visibilityRounds: fc.integer({ min: 1, max: 3 }),
  });
}

/** A risk event as the producer meant it (valid events only). */
export interface IntendedTarget {
  symbol: string;
  leverage: number;
}

export interface IntendedCommand {
  accountId: string;
  targets: IntendedTarget[];
  mode: 'set' | 'reduce-only';
  dryRun: boolean;
  issuedAt?: string;
}

export interface PlannedMessage {
  wave: number;
  body: string;
  /** The eventId in the body, when it has a usable one. */
  eventId?: string;
  command?: IntendedCommand;
  invalid?: InvalidVariant;
  /** FIFO MessageGroupId. */
  groupId: string;
}

/**
 * Turns the specs into message bodies. Event ids are unique per run; leverages are made unique
 * per account+symbol (bumped to the next free value), so every change the exchange applied can be
 * traced back to exactly one event and target. In state store runs every event carries issuedAt,
 * increasing with arrival order from `issuedFrom` (ms).
 */
export function planMessages(scenario: ChaosScenario, issuedFrom = Date.now()): PlannedMessage[][] {
  const used = new Map<string, Set<number>>();
  let counter = 0;
  return scenario.waves.map((wave, waveIndex) =>
    wave.map((spec): PlannedMessage => {
      const eventId = `evt-${++counter}`;
      if (spec.kind === 'invalid') return invalidMessage(waveIndex, spec.variant, spec.withEventId ? eventId : undefined);
      const accountId = ACCOUNTS[spec.account]!;
      const symbols = [...new Set([spec.symbol, ...(scenario.stateStore ? (spec.extraSymbols ?? []) : [])])].map((n) => SYMBOLS[n]!);
      const targets = symbols.map((symbol, n) => ({ symbol, leverage: freeLeverage(used, `${accountId} ${symbol}`, ((spec.leverage + 7 * n - 1) % 125) + 1) }));
      const body: Record<string, unknown> = { eventId, ...(targets.length === 1 ? targets[0] : { targets }) };
      if (!(spec.omitAccount && accountId === 'default')) body.accountId = accountId;
      if (spec.reason !== undefined) body.reason = spec.reason;
      if (spec.reduceOnly) body.mode = 'reduce-only';
      if (spec.dryRun) body.dryRun = true;
      if (scenario.stateStore) body.issuedAt = new Date(issuedFrom + counter).toISOString();
      const command: IntendedCommand = {
        accountId,
        targets,
        mode: spec.reduceOnly ? 'reduce-only' : 'set',
        dryRun: spec.dryRun ?? false,
        ...(typeof body.issuedAt === 'string' ? { issuedAt: body.issuedAt } : {}),
      };
      const groupId = targets.length === 1 ? `${accountId}:${targets[0]!.symbol}` : accountId;
      return { wave: waveIndex, body: JSON.stringify(body), eventId, command, groupId };
    }),
  );
}

function freeLeverage(used: Map<string, Set<number>>, key: string, wanted: number): number {
  const taken = used.get(key) ?? new Set<number>();
  used.set(key, taken);
  let leverage = wanted;
  while (taken.has(leverage)) leverage = (leverage % 125) + 1;
  taken.add(leverage);
  return leverage;
}

function invalidMessage(wave: number, variant: InvalidVariant, eventId: string | undefined): PlannedMessage {
  const base = { ...(eventId === undefined ? {} : { eventId }), accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5 };
  const bodies: Record<InvalidVariant, () => unknown> = {
    notJson: () => `{"eventId": "${eventId ?? 'x'}", "symbol": BTCUSDT`,
    emptyBody: () => '',
    array: () => JSON.stringify([base]),
    null: () => 'null',
    missingLeverage: () => JSON.stringify({ ...base, leverage: undefined }),
    missingSymbol: () => JSON.stringify({ ...base, symbol: undefined }),
    lowercaseSymbol: () => JSON.stringify({ ...base, symbol: 'btcusdt' }),
    leverageTooHigh: () => JSON.stringify({ ...base, leverage: 126 }),
    leverageZero: () => JSON.stringify({ ...base, leverage: 0 }),
    leverageAsString: () => JSON.stringify({ ...base, leverage: '5' }),
    fractionalLeverage: () => JSON.stringify({ ...base, leverage: 2.5 }),
    badAccount: () => JSON.stringify({ ...base, accountId: 'desk 1' }),
    unknownField: () => JSON.stringify({ ...base, leverageCap: 5 }),
  };
  const body = bodies[variant]() as string;
  // The outcome carries the body's eventId only when the body could be parsed as an object.
  const parsedEventId = ['notJson', 'emptyBody', 'array', 'null'].includes(variant) ? undefined : eventId;
  return { wave, body, invalid: variant, groupId: 'invalid', ...(parsedEventId === undefined ? {} : { eventId: parsedEventId }) };
}
