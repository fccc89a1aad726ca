/**
 * What a run of the model-based concurrency test is made of, as fast-check arbitraries (plain
 * data, so a failing case prints and shrinks readably): two or three containers with skewed
 * clocks; risk events for two accounts (one symbol, targets, ALL_OPEN_POSITIONS; set and
 * reduce-only; issuedAt in every form, some ISO-looking but uninterpretable, some older than
 * MAX_EVENT_AGE_SECONDS, some sent after newer ones); rounds of receives with time passing between
 * them; a person changing leverage in the UI and key rotations at given rounds; caps; failures of
 * the exchange (plain 503, unknown-execution 503, -2027, timeouts), Secrets Manager, SNS and
 * DynamoDB (before or after taking effect).
 */
import fc from 'fast-check';
import type { ExchangeFault, ExchangeOperation } from './model-exchange.ts';
import type { StateFailureRule } from './state-fakes.ts';

export const MODEL_ACCOUNTS = ['desk-1', 'desk-2'] as const;
export const MODEL_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'] as const;

/**
 * How the producer wrote issuedAt. `unparseable` looks like ISO 8601 (a two-digit offset) but no
 * parser reads it: it must be REJECTED INVALID_EVENT.
 */
export const ISSUED_AT_FORMS = ['utc-millis', 'utc-seconds', 'offset', 'absent', 'unparseable'] as const;
export type IssuedAtForm = (typeof ISSUED_AT_FORMS)[number];

export interface ModelEventSpec {
  /** The round before whose receives it is sent. */
  round: number;
  account: number;
  shape: 'single' | 'targets' | 'all-open-positions';
  /** Symbol indexes (one, or two distinct ones for targets). */
  symbols: number[];
  leverage: number[];
  reduceOnly: boolean;
  issuedAt: IssuedAtForm;
  /** How long before it is sent it was issued (negative: ahead of the clock). */
  ageMs: number;
}

export interface ModelRound {
  /** World time that passes after this round's receives. */
  gapMs: number;
  /** A person sets leverage in the UI, at a moment the scheduler picks during the round. */
  person?: { account: number; symbol: number; leverage: number };
  /** The account's key is rotated at the start of the round. */
  rotate?: number;
  /** The pause parameter from this round on: missing, a value, or unreadable (SSM failing). */
  pause?: PauseSetting;
}

/** Only `missing` and exactly `false` mean running; anything else, even a typo, pauses (issue 8, rule 8). */
export const PAUSE_SETTINGS = ['missing', 'false', 'true', 'ture', 'stop', 'enabled', 'unreadable'] as const;
export type PauseSetting = (typeof PAUSE_SETTINGS)[number];

export interface ModelFault {
  operation: ExchangeOperation;
  fault: ExchangeFault;
  symbol?: number;
  /** Match a change to the leverage of the event with this index (e.g. reject a newer event). */
  ofEvent?: number;
  times: number;
}

export interface ModelScenario {
  /** Clock skew of each container (ms). */
  skewsMs: number[];
  maxReceiveCount: number;
  batchSize: number;
  visibilityTimeoutMs: number;
  caps?: number;
  withStateTable: boolean;
  initialLeverage: number[][];
  openPositions: boolean[][];
  events: ModelEventSpec[];
  rounds: ModelRound[];
  exchangeFaults: ModelFault[];
  secretsFailures: { error: 'internal' | 'accessDenied'; times: number }[];
  /** Refuse the outcomes of the event with this index, this many times. */
  snsFailures: { ofEvent: number; times: number }[];
  stateFailures: StateFailureRule[];
}

export interface ModelLimits {
  maxEvents?: number;
  maxRounds?: number;
}

/** Gaps: none, seconds, a visibility timeout, past a lease, past MAX_EVENT_AGE_SECONDS (900 s). */
const gapArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.constantFrom(1_000, 30_000, 40_000) },
  { weight: 1, arbitrary: fc.constantFrom(120_000, 400_000) },
  { weight: 1, arbitrary: fc.constant(1_000_000) },
);

const faultArbitrary: fc.Arbitrary<ExchangeFault> = fc.oneof(
  fc.constant({ kind: 'serviceUnavailable' as const }),
  fc.record({ kind: fc.constant('unknown' as const), apply: fc.boolean() }),
  fc.constant({ kind: 'reject2027' as const }),
  fc.record({ kind: fc.constant('timeout' as const), apply: fc.boolean() }),
);

export function modelScenario(limits: ModelLimits = {}): fc.Arbitrary<ModelScenario> {
  const maxRounds = limits.maxRounds ?? 6;
  const maxEvents = limits.maxEvents ?? 7;
  const eventSpec: fc.Arbitrary<ModelEventSpec> = fc.record({
    round: fc.nat({ max: maxRounds - 1 }),
    account: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    shape: fc.oneof(
      { weight: 5, arbitrary: fc.constant('single' as const) },
      { weight: 1, arbitrary: fc.constant('targets' as const) },
      { weight: 1, arbitrary: fc.constant('all-open-positions' as const) },
    ),
    symbols: fc.uniqueArray(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max: 2 }) }), { minLength: 2, maxLength: 2 }),
    leverage: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 2, maxLength: 2 }),
    reduceOnly: fc.boolean(),
    issuedAt: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom<IssuedAtForm>('utc-millis', 'utc-seconds', 'offset') },
      { weight: 1, arbitrary: fc.constantFrom<IssuedAtForm>('absent', 'unparseable') },
    ),
    ageMs: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 120_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(-30_000, -120_000, 1_000_000) },
    ),
  });
  return fc.record({
    skewsMs: fc.array(fc.integer({ min: -2_000, max: 2_000 }), { minLength: 2, maxLength: 3 }),
    maxReceiveCount: fc.integer({ min: 2, max: 4 }),
    batchSize: fc.integer({ min: 1, max: 3 }),
    visibilityTimeoutMs: fc.constantFrom(30_000, 60_000),
    caps: fc.option(fc.integer({ min: 5, max: 40 }), { nil: undefined, freq: 3 }),
    withStateTable: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    initialLeverage: fc.array(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
    openPositions: fc.array(fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), { minLength: 2, maxLength: 2 }),
    events: fc.array(eventSpec, { minLength: 1, maxLength: maxEvents }),
    rounds: fc.array(
      fc.record(
        {
          gapMs: gapArbitrary,
          person: fc.record({ account: fc.nat({ max: 1 }), symbol: fc.nat({ max: 2 }), leverage: fc.integer({ min: 1, max: 60 }) }),
          rotate: fc.nat({ max: 1 }),
          pause: fc.oneof({ weight: 4, arbitrary: fc.constantFrom<PauseSetting>('missing', 'false') }, { weight: 1, arbitrary: fc.constantFrom(...PAUSE_SETTINGS) }),
        },
        { requiredKeys: ['gapMs'] },
      ),
      { minLength: 1, maxLength: maxRounds },
    ),
    exchangeFaults: fc.array(
      fc.record(
        {
          operation: fc.oneof({ weight: 4, arbitrary: fc.constant<ExchangeOperation>('change') }, { weight: 1, arbitrary: fc.constantFrom<ExchangeOperation>('readLeverage', 'positions') }),
          fault: faultArbitrary,
          symbol: fc.nat({ max: 2 }),
          ofEvent: fc.nat({ max: maxEvents - 1 }),
          times: fc.integer({ min: 1, max: 4 }),
        },
        { requiredKeys: ['operation', 'fault', 'times'] },
      ),
      { maxLength: 4 },
    ),
    secretsFailures: fc.array(fc.record({ error: fc.constantFrom('internal' as const, 'accessDenied' as const), times: fc.integer({ min: 1, max: 3 }) }), { maxLength: 1 }),
    snsFailures: fc.array(fc.record({ ofEvent: fc.nat({ max: maxEvents - 1 }), times: fc.integer({ min: 1, max: 2 }) }), { maxLength: 2 }),
    stateFailures: fc.array(
      fc.record(
        {
          operation: fc.constantFrom('GetItem' as const, 'PutItem' as const, 'UpdateItem' as const, 'TransactWriteItems' as const, 'TransactGetItems' as const),
          pkPrefix: fc.constantFrom('key#', 'done#'),
          when: fc.constantFrom('before' as const, 'after' as const),
          error: fc.constantFrom('internal' as const, 'accessDenied' as const),
          times: fc.integer({ min: 1, max: 2 }),
        },
        { requiredKeys: ['when', 'times'] },
      ),
      { maxLength: 2 },
    ),
  });
}
