/**
 * Small fakes for the domain ports (functions/domain/ports.ts), shared by unit tests.
 * Each fake records what it was asked and answers from a script; when the script runs out it
 * falls back to a harmless default, so a test scripts only what it is about.
 */
import type { Outcome } from '../../functions/domain/outcome.ts';
import type {
  ApiCredentials,
  CredentialStore,
  Deadline,
  Exchange,
  LeverageSetting,
  Log,
  OutcomePublisher,
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
  method: 'changeLeverage' | 'readLeverage';
  apiKey: string;
  symbol: string;
  leverage?: number;
}

/** changeLeverage defaults to "applied as asked"; readLeverage defaults to a failure. */
export class FakeExchange implements Exchange {
  readonly calls: ExchangeCall[] = [];
  readonly changeReplies: Reply<LeverageSetting>[] = [];
  readonly readReplies: Reply<LeverageSetting>[] = [];

  onChange(...replies: Reply<LeverageSetting>[]): this {
    this.changeReplies.push(...replies);
    return this;
  }

  onRead(...replies: Reply<LeverageSetting>[]): this {
    this.readReplies.push(...replies);
    return this;
  }

  changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number): Promise<LeverageSetting> {
    this.calls.push({ method: 'changeLeverage', apiKey: credentials.apiKey, symbol, leverage });
    return play(this.changeReplies.shift() ?? answer(setting(leverage)));
  }

  readLeverage(credentials: ApiCredentials, symbol: string): Promise<LeverageSetting> {
    this.calls.push({ method: 'readLeverage', apiKey: credentials.apiKey, symbol });
    return play(this.readReplies.shift() ?? raise(new Error('readLeverage was not scripted')));
  }

  callsOf(method: ExchangeCall['method']): ExchangeCall[] {
    return this.calls.filter((call) => call.method === method);
  }
}

/** HMAC credentials `key-<accountId>` unless a reply is scripted. */
export class FakeCredentialStore implements CredentialStore {
  readonly accountIds: string[] = [];
  readonly replies: Reply<ApiCredentials>[] = [];

  forAccount(accountId: string): Promise<ApiCredentials> {
    this.accountIds.push(accountId);
    return play(this.replies.shift() ?? answer({ apiKey: `key-${accountId}`, apiSecret: 'test-secret' }));
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
