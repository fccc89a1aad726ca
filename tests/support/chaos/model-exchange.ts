/**
 * The exchange of the model-based concurrency test: an in-memory Binance account book behind the
 * Exchange port, shared by every handler instance and by "a person in the UI" who changes leverage
 * at any moment. Its answers are Binance's HTTP answers run through the REAL classifier
 * (functions/adapters/binance/responses.ts interpretResponse), so a plain 503 "Service
 * Unavailable.", an unknown-execution 503 (-1006), a rejection (-2027) or a rotated key (-2015)
 * reach the domain exactly as the real client would hand them over.
 *
 * Ground truth for the invariants is the write log: every leverage change that took effect, in
 * order, with the leverage in force just before it, who made it (the guard, as which instance and
 * invocation, or the person) and the timeline position shared with SNS publishes and SQS acks.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { interpretResponse } from '../../../functions/adapters/binance/responses.ts';
import type { HttpResponse } from '../../../functions/adapters/http/keep-alive-client.ts';
import { ExecutionUnknownError, RetryableError } from '../../../functions/domain/errors.ts';
import type { ApiCredentials, Deadline, Exchange, LeverageSetting, OpenPosition } from '../../../functions/domain/ports.ts';

/** One global order of everything observable: exchange writes, outcome publishes, SQS acks. */
export class Timeline {
  private last = 0;
  /** World time in ms; advanced by the driver. */
  worldMs: number;

  constructor(startMs: number) {
    this.worldMs = startMs;
  }

  next(): number {
    return ++this.last;
  }
}

/** Which handler instance and invocation is running (AsyncLocalStorage follows it across awaits). */
export interface Actor {
  instance: string;
  invocation: number;
}
export const currentActor = new AsyncLocalStorage<Actor>();

/** A scheduling point before each I/O call: fast-check's scheduler in the property, a no-op in regressions. */
export type Tick = (label: string) => Promise<void>;
export const NO_TICK: Tick = async () => undefined;

export type ExchangeOperation = 'change' | 'readLeverage' | 'positions';

export type ExchangeFault =
  /** 503 "Service Unavailable.": Binance says it did not execute. */
  | { kind: 'serviceUnavailable' }
  /** 503 -1006: execution unknown; `apply` says whether it did execute. */
  | { kind: 'unknown'; apply: boolean }
  /** 400 -2027 "Exceeded the maximum allowable position at current leverage." */
  | { kind: 'reject2027' }
  /** No answer within the request timeout; `apply` says whether it executed. */
  | { kind: 'timeout'; apply: boolean };

export interface ExchangeFaultRule {
  fault: ExchangeFault;
  operation: ExchangeOperation;
  account?: string;
  symbol?: string;
  /** Only a change to this leverage. */
  leverage?: number;
  /** How many matching calls it hits (default 1). */
  times?: number;
}

/** Runs `run` just before (or just after the effect of, before answering) a matching call. */
export interface ExchangeInterception {
  operation: ExchangeOperation;
  when: 'before' | 'after';
  account?: string;
  symbol?: string;
  leverage?: number;
  times?: number;
  run: () => Promise<void> | void;
}

export interface ExchangeWrite {
  seq: number;
  worldMs: number;
  account: string;
  symbol: string;
  /** The leverage in force immediately before this write. */
  from: number;
  to: number;
  actor: 'guard' | 'person';
  instance?: string;
  invocation?: number;
}

/** A read the guard made: what it saw, and when (the reduce-only invariant needs "read just before"). */
export interface ExchangeRead {
  seq: number;
  account: string;
  operation: 'readLeverage' | 'positions';
  /** The symbols it reported leverage for. */
  symbols: string[];
  instance?: string;
  invocation?: number;
}

export interface ExchangeAccount {
  name: string;
  leverage: Record<string, number>;
  /** Symbols with a non-zero position. */
  openPositions: string[];
}

const MAX_NOTIONAL = '5000000';
const json = (status: number, code: number, msg: string): HttpResponse => ({ status, headers: {}, body: JSON.stringify({ code, msg }) });
const RESPONSES = {
  invalidKey: () => json(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  serviceUnavailable: (): HttpResponse => ({ status: 503, headers: {}, body: 'Service Unavailable.' }),
  unknown: () => json(503, -1006, 'An unexpected response was received from the message bus. Execution status unknown.'),
  reject2027: () => json(400, -2027, 'Exceeded the maximum allowable position at current leverage.'),
};

/** Throws what the real client throws for this answer. */
function answerWith(response: HttpResponse): never {
  // None of these answers carries a Retry-After date, so the time of arrival does not matter.
  interpretResponse(response, 0);
  throw new Error(`model exchange: ${response.status} was not classified as a failure`);
}

export class ModelExchange implements Exchange {
  readonly writes: ExchangeWrite[] = [];
  readonly reads: ExchangeRead[] = [];
  private readonly leverage = new Map<string, Map<string, number>>();
  private readonly positions = new Map<string, Set<string>>();
  /** account → API keys the exchange accepts for it. */
  private readonly keys = new Map<string, Set<string>>();
  private readonly faults: { rule: ExchangeFaultRule; left: number }[] = [];
  private readonly interceptions: { rule: ExchangeInterception; left: number }[] = [];

  constructor(
    private readonly timeline: Timeline,
    accounts: ExchangeAccount[],
    private readonly tick: Tick = NO_TICK,
  ) {
    for (const account of accounts) {
      this.leverage.set(account.name, new Map(Object.entries(account.leverage)));
      this.positions.set(account.name, new Set(account.openPositions));
      this.keys.set(account.name, new Set());
    }
  }

  /** The key the exchange accepts for an account from now on; `replace` revokes the others (rotation). */
  acceptKey(account: string, apiKey: string, replace: boolean): void {
    const keys = this.keys.get(account)!;
    if (replace) keys.clear();
    keys.add(apiKey);
  }

  /** Every key of the account rejected (-2015): the IP whitelist or the key's permissions were changed. */
  revokeAllKeys(account: string): void {
    this.keys.get(account)!.clear();
  }

  inject(rule: ExchangeFaultRule): void {
    this.faults.push({ rule, left: rule.times ?? 1 });
  }

  intercept(rule: ExchangeInterception): void {
    this.interceptions.push({ rule, left: rule.times ?? 1 });
  }

  leverageOf(account: string, symbol: string): number {
    const value = this.leverage.get(account)?.get(symbol);
    if (value === undefined) throw new Error(`model exchange: no leverage for ${account} ${symbol}`);
    return value;
  }

  /** A person closes a position: positionRisk no longer lists the symbol. */
  personCloses(account: string, symbol: string): void {
    this.positions.get(account)!.delete(symbol);
  }

  /** A person (or another system) changes leverage in the Binance UI. */
  personSets(account: string, symbol: string, leverage: number): void {
    this.write(account, symbol, leverage, 'person');
  }

  async changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number, _deadline: Deadline): Promise<LeverageSetting> {
    const account = await this.enter('change', credentials, symbol, leverage);
    const fault = this.takeFault('change', account, symbol, leverage);
    if (fault?.kind === 'serviceUnavailable') answerWith(RESPONSES.serviceUnavailable());
    if (fault?.kind === 'reject2027') answerWith(RESPONSES.reject2027());
    if (fault === undefined || ('apply' in fault && fault.apply)) this.write(account, symbol, leverage, 'guard');
    await this.runInterceptions('after', 'change', account, symbol, leverage);
    if (fault?.kind === 'unknown') answerWith(RESPONSES.unknown());
    // As BinancePapiClient.transmit maps a timeout after the request was sent.
    if (fault?.kind === 'timeout') throw new ExecutionUnknownError('TIMEOUT', 'no response within 5000 ms');
    return { leverage, maxNotionalValue: MAX_NOTIONAL };
  }

  async readLeverage(credentials: ApiCredentials, symbol: string, _deadline: Deadline): Promise<LeverageSetting> {
    const account = await this.enter('readLeverage', credentials, symbol);
    this.readFault('readLeverage', account, symbol);
    const setting = { leverage: this.leverageOf(account, symbol), maxNotionalValue: MAX_NOTIONAL };
    this.logRead(account, 'readLeverage', [symbol]);
    await this.runInterceptions('after', 'readLeverage', account, symbol);
    return setting;
  }

  async readOpenPositions(credentials: ApiCredentials, _deadline: Deadline): Promise<OpenPosition[]> {
    const account = await this.enter('positions', credentials);
    this.readFault('positions', account);
    const open = [...this.positions.get(account)!].map((symbol) => ({ symbol, leverage: this.leverageOf(account, symbol) }));
    this.logRead(account, 'positions', open.map((p) => p.symbol));
    await this.runInterceptions('after', 'positions', account);
    return open;
  }

  /** Scheduling point, interceptions, then authentication: the account behind the key. */
  private async enter(operation: ExchangeOperation, credentials: ApiCredentials, symbol?: string, leverage?: number): Promise<string> {
    await this.tick(`exchange ${operation}${symbol ? ` ${symbol}` : ''}${leverage === undefined ? '' : ` ×${leverage}`}`);
    const account = [...this.keys].find(([, keys]) => keys.has(credentials.apiKey))?.[0];
    if (account === undefined) answerWith(RESPONSES.invalidKey());
    await this.runInterceptions('before', operation, account, symbol, leverage);
    return account;
  }

  private readFault(operation: ExchangeOperation, account: string, symbol?: string): void {
    const fault = this.takeFault(operation, account, symbol);
    if (fault === undefined) return;
    if (fault.kind === 'serviceUnavailable' || fault.kind === 'unknown') answerWith(RESPONSES.serviceUnavailable());
    if (fault.kind === 'reject2027') answerWith(RESPONSES.reject2027());
    throw new RetryableError('TIMEOUT', 'no response within 5000 ms');
  }

  private write(account: string, symbol: string, to: number, actor: 'guard' | 'person'): void {
    const from = this.leverageOf(account, symbol);
    this.leverage.get(account)!.set(symbol, to);
    const who = actor === 'guard' ? currentActor.getStore() : undefined;
    this.writes.push({ seq: this.timeline.next(), worldMs: this.timeline.worldMs, account, symbol, from, to, actor, ...who });
  }

  private logRead(account: string, operation: ExchangeRead['operation'], symbols: string[]): void {
    this.reads.push({ seq: this.timeline.next(), account, operation, symbols, ...currentActor.getStore() });
  }

  private takeFault(operation: ExchangeOperation, account: string, symbol?: string, leverage?: number): ExchangeFault | undefined {
    const index = this.faults.findIndex(({ rule }) => matches(rule, operation, account, symbol, leverage));
    const entry = this.faults[index];
    if (entry === undefined) return undefined;
    if (--entry.left <= 0) this.faults.splice(index, 1);
    return entry.rule.fault;
  }

  private async runInterceptions(when: 'before' | 'after', operation: ExchangeOperation, account: string, symbol?: string, leverage?: number): Promise<void> {
    const index = this.interceptions.findIndex(({ rule }) => rule.when === when && matches(rule, operation, account, symbol, leverage));
    const entry = this.interceptions[index];
    if (entry === undefined) return;
    if (--entry.left <= 0) this.interceptions.splice(index, 1);
    // The interception is someone else acting, not this invocation.
    await currentActor.exit(() => entry.rule.run());
  }
}

function matches(
  rule: { operation: ExchangeOperation; account?: string; symbol?: string; leverage?: number },
  operation: ExchangeOperation,
  account: string,
  symbol?: string,
  leverage?: number,
): boolean {
  return (
    rule.operation === operation &&
    (rule.account === undefined || rule.account === account) &&
    (rule.symbol === undefined || rule.symbol === symbol) &&
    (rule.leverage === undefined || rule.leverage === leverage)
  );
}
