// Simulated exchange state: accounts (keyed by API key, named by seed name), symbols with
// leverage brackets, positions and per-symbol initial leverage.
import type { SimulatorAccountSeed, SimulatorBracket, SimulatorSeed, SimulatorSymbolSeed } from './types.ts';
import { verifierFor, type Verifier } from './signature.ts';

export interface Position {
  positionAmt: string;
  entryPrice: string;
}

export interface Account {
  name: string;
  apiKey: string;
  verify: Verifier;
  leverage: Map<string, number>;
  positions: Map<string, Position>;
}

export const DEFAULT_LEVERAGE = 20;

export class SimulatorState {
  private accountsByKey = new Map<string, Account>();
  private accountsByName = new Map<string, Account>();
  private symbols = new Map<string, SimulatorSymbolSeed>();
  private readonly verifiers = new Map<string, Verifier>();

  constructor(private readonly seed: SimulatorSeed) {
    this.reset();
  }

  get defaultLeverage(): number {
    return this.seed.defaultLeverage ?? DEFAULT_LEVERAGE;
  }

  reset(): void {
    this.accountsByKey = new Map();
    this.accountsByName = new Map();
    this.symbols = new Map(this.seed.symbols.map((s) => [s.symbol, s]));
    for (const seed of this.seed.accounts) {
      const account = this.buildAccount(seed);
      this.accountsByKey.set(account.apiKey, account);
      this.accountsByName.set(account.name, account);
    }
  }

  private buildAccount(seed: SimulatorAccountSeed): Account {
    let verify = this.verifiers.get(seed.name);
    if (verify === undefined) {
      verify = verifierFor(seed);
      this.verifiers.set(seed.name, verify);
    }
    return {
      name: seed.name,
      apiKey: seed.apiKey,
      verify,
      leverage: new Map(Object.entries(seed.leverage ?? {})),
      positions: new Map(Object.entries(seed.positions ?? {}).map(([symbol, p]) => [symbol, { ...p }])),
    };
  }

  accountByKey(apiKey: string): Account | undefined {
    return this.accountsByKey.get(apiKey);
  }

  account(name: string): Account {
    const account = this.accountsByName.get(name);
    if (account === undefined) throw new Error(`simulator: unknown account ${name}`);
    return account;
  }

  accounts(): Account[] {
    return [...this.accountsByName.values()];
  }

  symbol(symbol: string): SimulatorSymbolSeed | undefined {
    return this.symbols.get(symbol);
  }

  allSymbols(): SimulatorSymbolSeed[] {
    return [...this.symbols.values()];
  }

  private knownSymbol(symbol: string): SimulatorSymbolSeed {
    const s = this.symbols.get(symbol);
    if (s === undefined) throw new Error(`simulator: unknown symbol ${symbol}`);
    return s;
  }

  leverageOf(account: Account, symbol: string): number {
    return account.leverage.get(symbol) ?? Math.min(this.defaultLeverage, maxLeverage(this.knownSymbol(symbol)));
  }

  setLeverage(account: Account, symbol: string, leverage: number): void {
    this.knownSymbol(symbol);
    account.leverage.set(symbol, leverage);
  }

  position(account: Account, symbol: string): Position {
    return account.positions.get(symbol) ?? { positionAmt: '0', entryPrice: '0' };
  }

  setPosition(account: Account, symbol: string, positionAmt: string): void {
    const s = this.knownSymbol(symbol);
    if (Number(positionAmt) === 0) {
      account.positions.delete(symbol);
      return;
    }
    const entryPrice = account.positions.get(symbol)?.entryPrice ?? s.markPrice;
    account.positions.set(symbol, { positionAmt, entryPrice });
  }

  /** |positionAmt| × markPrice. */
  notional(account: Account, symbol: SimulatorSymbolSeed): number {
    return Math.abs(Number(this.position(account, symbol.symbol).positionAmt)) * Number(symbol.markPrice);
  }

  /** Leverage table (account name → symbol → leverage) for every account and symbol. */
  leverageTable(): Record<string, Record<string, number>> {
    const table: Record<string, Record<string, number>> = {};
    for (const account of this.accounts()) {
      table[account.name] = Object.fromEntries(
        this.allSymbols().map((s) => [s.symbol, this.leverageOf(account, s.symbol)]),
      );
    }
    return table;
  }
}

/** The symbol's maximum leverage: the first bracket's initialLeverage. */
export function maxLeverage(symbol: SimulatorSymbolSeed): number {
  return Math.max(...symbol.brackets.map((b) => b.initialLeverage));
}

/**
 * Maximum position notional at leverage L: the notionalCap of the highest bracket whose
 * initialLeverage is still >= L (higher leverage ⇒ lower cap). 0 when no bracket allows L.
 */
export function maxNotionalAt(symbol: SimulatorSymbolSeed, leverage: number): number {
  const allowed: SimulatorBracket[] = symbol.brackets.filter((b) => b.initialLeverage >= leverage);
  return allowed.reduce((cap, b) => Math.max(cap, b.notionalCap), 0);
}
