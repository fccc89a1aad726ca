/**
 * Small fakes for the domain ports (functions/domain/ports.ts), shared by unit tests.
 * Each fake records what it was asked and answers from a script; when the script runs out it
 * falls back to a harmless default, so a test scripts only what it is about.
 */
import type { Outcome } from '../../functions/domain/outcome.ts';
import type {
  ApiCredentials,
  Claim,
  ClaimEnd,
  ClaimRequest,
  CredentialStore,
  Deadline,
  EarlierDecision,
  Exchange,
  LeverageSetting,
  Log,
  OpenPosition,
  OutcomePublisher,
  PauseState,
  PauseSwitch,
  StateStore,
  TargetHistory,
  TargetRef,
} from '../../functions/domain/ports.ts';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One scripted answer: a value, a thrown value, or a promise the test settles by hand. */
export type Reply<T> = { value: T } | { throws: unknown } | { wait: Deferred<T> };

export const answer = <T>(value: T): Reply<T> => ({ value });
export const raise = (thrown: unknown): Reply<never> => ({ throws: thrown });
export const waitFor = <T>(wait: Deferred<T>): Reply<T> => ({ wait });

export function play<T>(reply: Reply<T>): Promise<T> {
  if ('value' in reply) return Promise.resolve(reply.value);
  if ('wait' in reply) return reply.wait.promise;
  return Promise.reject(reply.throws);
}

export const setting = (leverage: number, maxNotionalValue = '1000000'): LeverageSetting => ({ leverage, maxNotionalValue });

export interface ExchangeCall {
  method: 'changeLeverage' | 'readLeverage' | 'readOpenPositions';
  apiKey: string;
  /** `*` for readOpenPositions, which is about the whole account. */
  symbol: string;
  leverage?: number;
}

/**
 * changeLeverage defaults to "applied as asked"; readLeverage defaults to a failure;
 * readOpenPositions defaults to "no open positions".
 */
export class FakeExchange implements Exchange {
  readonly calls: ExchangeCall[] = [];
  readonly changeReplies: Reply<LeverageSetting>[] = [];
  readonly readReplies: Reply<LeverageSetting>[] = [];
  readonly positionReplies: Reply<OpenPosition[]>[] = [];
  /** Replies for one symbol's changes, used before the shared `changeReplies`. */
  readonly changeRepliesBySymbol = new Map<string, Reply<LeverageSetting>[]>();

  onChange(...replies: Reply<LeverageSetting>[]): this {
    this.changeReplies.push(...replies);
    return this;
  }

  onRead(...replies: Reply<LeverageSetting>[]): this {
    this.readReplies.push(...replies);
    return this;
  }

  onChangeOf(symbol: string, ...replies: Reply<LeverageSetting>[]): this {
    this.changeRepliesBySymbol.set(symbol, [...(this.changeRepliesBySymbol.get(symbol) ?? []), ...replies]);
    return this;
  }

  onPositions(...replies: Reply<OpenPosition[]>[]): this {
    this.positionReplies.push(...replies);
    return this;
  }

  changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number): Promise<LeverageSetting> {
    this.calls.push({ method: 'changeLeverage', apiKey: credentials.apiKey, symbol, leverage });
    return play(this.changeRepliesBySymbol.get(symbol)?.shift() ?? this.changeReplies.shift() ?? answer(setting(leverage)));
  }

  readLeverage(credentials: ApiCredentials, symbol: string): Promise<LeverageSetting> {
    this.calls.push({ method: 'readLeverage', apiKey: credentials.apiKey, symbol });
    return play(this.readReplies.shift() ?? raise(new Error('readLeverage was not scripted')));
  }

  readOpenPositions(credentials: ApiCredentials): Promise<OpenPosition[]> {
    this.calls.push({ method: 'readOpenPositions', apiKey: credentials.apiKey, symbol: '*' });
    return play(this.positionReplies.shift() ?? answer([]));
  }

  callsOf(method: ExchangeCall['method']): ExchangeCall[] {
    return this.calls.filter((call) => call.method === method);
  }
}

/** HMAC credentials `key-<accountId>` unless a reply is scripted. */
export class FakeCredentialStore implements CredentialStore {
  readonly accountIds: string[] = [];
  readonly replies: Reply<ApiCredentials>[] = [];

  readonly invalidated: string[] = [];

  forAccount(accountId: string): Promise<ApiCredentials> {
    this.accountIds.push(accountId);
    return play(this.replies.shift() ?? answer({ apiKey: `key-${accountId}`, apiSecret: 'test-secret' }));
  }

  async invalidate(accountId: string, refused: ApiCredentials): Promise<void> {
    this.invalidated.push(`${accountId}:${refused.apiKey}`);
  }
}

/** Records every published outcome; `failures` are thrown, one per publish, before any succeeds. */
export class RecordingPublisher implements OutcomePublisher {
  readonly outcomes: Outcome[] = [];
  readonly failures: unknown[] = [];

  async publish(outcome: Outcome): Promise<void> {
    if (this.failures.length > 0) throw this.failures.shift();
    this.outcomes.push(outcome);
  }
}

/** `account/symbol` of a target, the key FakeStateStore keeps its state under. */
export const keyOf = (ref: Pick<TargetRef, 'accountId' | 'symbol'>): string => `${ref.accountId}/${ref.symbol}`;
const doneOf = (ref: TargetRef): string => `${keyOf(ref)}/${ref.eventId}`;

type RefCall<M extends string> = { method: M; ref: TargetRef };
export type StateCall =
  | RefCall<'earlierDecision'>
  | { method: 'recordDecision'; ref: TargetRef; decision: EarlierDecision }
  | RefCall<'history'>
  | { method: 'claim'; ref: TargetRef; request: ClaimRequest }
  | { method: 'release'; ref: TargetRef; end: ClaimEnd; decision?: EarlierDecision };

/**
 * An in-memory StateStore that behaves like the DynamoDB one unless scripted: `decisions` holds
 * what earlier deliveries decided per `account/symbol/eventId`, `lastApplied` the issuedAt (ms) of
 * the last applied change per `account/symbol`; a claim answers an earlier decision first, and is
 * refused (superseded) for an event issued before the last applied one; its release records the
 * decision and, after an applied change, the event's issuedAt (both or, if scripted to fail, neither).
 * Scripted replies (a thrown error, a refused claim) win over the in-memory behaviour, one per call.
 */
export class FakeStateStore implements StateStore {
  readonly calls: StateCall[] = [];
  readonly decisions = new Map<string, EarlierDecision>();
  readonly lastApplied = new Map<string, number>();
  readonly decisionReplies: Reply<EarlierDecision | undefined>[] = [];
  readonly recordReplies: Reply<void>[] = [];
  readonly claimReplies: Reply<Claim>[] = [];
  readonly releaseReplies: Reply<void>[] = [];

  /** Marks `eventId`'s targets on these symbols of `accountId` as decided and published. */
  completedAlready(eventId: string, accountId: string, ...symbols: string[]): this {
    for (const symbol of symbols) this.decisions.set(doneOf({ eventId, accountId, symbol }), { published: true });
    return this;
  }

  appliedAlready(accountId: string, symbol: string, issuedAt: string): this {
    this.lastApplied.set(keyOf({ accountId, symbol }), Date.parse(issuedAt));
    return this;
  }

  isCompleted(ref: TargetRef): boolean {
    return this.decisions.get(doneOf(ref))?.published === true;
  }

  earlierDecision(ref: TargetRef): Promise<EarlierDecision | undefined> {
    this.calls.push({ method: 'earlierDecision', ref });
    return play(this.decisionReplies.shift() ?? answer(this.decisions.get(doneOf(ref))));
  }

  async recordDecision(ref: TargetRef, decision: EarlierDecision): Promise<void> {
    this.calls.push({ method: 'recordDecision', ref, decision });
    await play(this.recordReplies.shift() ?? answer(undefined));
    this.decisions.set(doneOf(ref), decision);
  }

  claim(ref: TargetRef, request: ClaimRequest): Promise<Claim> {
    this.calls.push({ method: 'claim', ref, request });
    const scripted = this.claimReplies.shift();
    if (scripted) return play(scripted);
    const earlier = this.decisions.get(doneOf(ref));
    if (earlier) return Promise.resolve({ status: 'decided-earlier', decision: earlier });
    const last = this.lastApplied.get(keyOf(ref));
    if (request.issuedAtMs !== undefined && last !== undefined && last > request.issuedAtMs) {
      return Promise.resolve({ status: 'superseded', newerIssuedAtMs: last });
    }
    return Promise.resolve({ status: 'claimed', release: (end, decision) => this.release(ref, request.issuedAtMs, end, decision) });
  }

  history(ref: TargetRef): Promise<TargetHistory> {
    this.calls.push({ method: 'history', ref });
    const earlier = this.decisions.get(doneOf(ref));
    const lastAppliedIssuedAtMs = this.lastApplied.get(keyOf(ref));
    return Promise.resolve({ ...(earlier ? { earlier } : {}), ...(lastAppliedIssuedAtMs === undefined ? {} : { lastAppliedIssuedAtMs }) });
  }

  /**
   * [method, symbol] of every call, in order; a release shows how the claim ended and the decision
   * it recorded, e.g. `release(applied, published)`, `release(not-applied, owed)`, `release(retrying)`.
   */
  log(): string[] {
    const ended = (call: Extract<StateCall, { method: 'release' }>) =>
      `release(${call.end}${call.decision ? `, ${call.decision.published ? 'published' : 'owed'}` : ''})`;
    return this.calls.map((call) => `${call.method === 'release' ? ended(call) : call.method} ${call.ref.symbol}`);
  }

  /** [symbol, decision] of every decision recorded, on its own or with a release, in order. */
  recorded(): [string, EarlierDecision][] {
    return this.calls.flatMap((call): [string, EarlierDecision][] =>
      call.method === 'recordDecision' || (call.method === 'release' && call.decision) ? [[call.ref.symbol, call.decision!]] : [],
    );
  }

  callsOf<M extends StateCall['method']>(method: M): Extract<StateCall, { method: M }>[] {
    return this.calls.filter((call): call is Extract<StateCall, { method: M }> => call.method === method);
  }

  private async release(ref: TargetRef, issuedAtMs: number | undefined, end: ClaimEnd, decision: EarlierDecision | undefined): Promise<void> {
    this.calls.push({ method: 'release', ref, end, ...(decision ? { decision } : {}) });
    await play(this.releaseReplies.shift() ?? answer(undefined));
    if (end === 'applied' && issuedAtMs !== undefined) this.lastApplied.set(keyOf(ref), issuedAtMs);
    if (decision) this.decisions.set(doneOf(ref), decision);
  }
}

/** Answers from its script, then "not paused"; counts the reads. */
export class FakePauseSwitch implements PauseSwitch {
  reads = 0;
  readonly replies: Reply<PauseState>[] = [];

  constructor(...replies: Reply<PauseState>[]) {
    this.replies.push(...replies);
  }

  state(): Promise<PauseState> {
    this.reads++;
    return play(this.replies.shift() ?? answer({ paused: false }));
  }
}

/** A Log that keeps every line as [level, message, merged extras]. */
export class RecordingLog implements Log {
  readonly lines: [string, string, Record<string, unknown>][] = [];
  readonly debug = this.line('debug');
  readonly info = this.line('info');
  readonly warn = this.line('warn');
  readonly error = this.line('error');

  private line(level: string) {
    return (message: string, ...extra: Record<string, unknown>[]) => {
      this.lines.push([level, message, Object.assign({}, ...extra)]);
    };
  }
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

export function fixedDeadline(remainingMs: number): Deadline {
  return { remainingMs: () => remainingMs };
}

/** Lets pending promise callbacks and I/O callbacks run, until `condition` holds (or gives up). */
export async function settleUntil(condition: () => boolean, rounds = 50): Promise<void> {
  for (let round = 0; round < rounds && !condition(); round++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What `promise` rejected with; fails the test if it resolved. */
export async function rejectionOf<E = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** What `run` threw; fails the test if it returned. */
export function thrownBy<E = Error>(run: () => unknown): E {
  try {
    run();
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a throw, but it returned');
}
