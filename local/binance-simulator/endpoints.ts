// The simulated REST endpoints: weight, signing requirement and handler of each route.
import { errors, json, type SimResponse } from './responses.ts';
import { maxLeverage, maxNotionalAt, type Account, type SimulatorState } from './state.ts';
import type { SimulatorSymbolSeed } from './types.ts';

export interface EndpointContext {
  params: Map<string, string>;
  state: SimulatorState;
  serverTime: number;
  /** Set for signed endpoints once the request is authenticated. */
  account?: Account;
}

export interface Route {
  weight: number;
  signed: boolean;
  handle(ctx: EndpointContext): SimResponse;
}

/** Number formatting as Binance strings: plain decimal, at most 8 fraction digits. */
function decimal(value: number): string {
  const fixed = value.toFixed(8).replace(/\.?0+$/, '');
  return fixed === '-0' || fixed === '' ? '0' : fixed;
}

function signedAccount(ctx: EndpointContext): Account {
  if (ctx.account === undefined) throw new Error('signed route reached without an account');
  return ctx.account;
}

/** Resolves the optional `symbol` filter: undefined = all, an error for an unknown symbol. */
function symbolFilter(ctx: EndpointContext): SimulatorSymbolSeed[] | SimResponse {
  const name = ctx.params.get('symbol');
  if (name === undefined || name === '') return ctx.state.allSymbols();
  const symbol = ctx.state.symbol(name);
  return symbol === undefined ? errors.invalidSymbol() : [symbol];
}

function changeLeverage(ctx: EndpointContext): SimResponse {
  const account = signedAccount(ctx);
  const symbolName = ctx.params.get('symbol');
  const raw = ctx.params.get('leverage');
  if (symbolName === undefined || symbolName === '') return errors.mandatory('symbol');
  if (raw === undefined || raw === '') return errors.mandatory('leverage');
  const symbol = ctx.state.symbol(symbolName);
  if (symbol === undefined) return errors.invalidSymbol();
  if (!/^\d{1,9}$/.test(raw)) return errors.invalidParam('leverage');
  const leverage = Number(raw);
  if (leverage < 1 || leverage > maxLeverage(symbol)) return errors.invalidLeverage(leverage);
  const cap = maxNotionalAt(symbol, leverage);
  if (ctx.state.notional(account, symbol) > cap) return errors.maxLeverageRatio();
  ctx.state.setLeverage(account, symbol.symbol, leverage);
  return json(200, { leverage, maxNotionalValue: String(cap), symbol: symbol.symbol });
}

function symbolConfig(ctx: EndpointContext): SimResponse {
  const account = signedAccount(ctx);
  const symbols = symbolFilter(ctx);
  if (!Array.isArray(symbols)) return symbols;
  return json(
    200,
    symbols.map((s) => {
      const leverage = ctx.state.leverageOf(account, s.symbol);
      return {
        symbol: s.symbol,
        marginType: 'CROSSED',
        isAutoAddMargin: 'false',
        leverage,
        maxNotionalValue: String(maxNotionalAt(s, leverage)),
      };
    }),
  );
}

function positionEntry(ctx: EndpointContext, account: Account, s: SimulatorSymbolSeed) {
  const { positionAmt, entryPrice } = ctx.state.position(account, s.symbol);
  const amount = Number(positionAmt);
  const mark = Number(s.markPrice);
  const leverage = ctx.state.leverageOf(account, s.symbol);
  return {
    symbol: s.symbol,
    positionAmt,
    entryPrice,
    markPrice: s.markPrice,
    unRealizedProfit: decimal((mark - Number(entryPrice)) * amount),
    liquidationPrice: '0',
    leverage: String(leverage),
    positionSide: 'BOTH',
    updateTime: ctx.serverTime,
    maxNotionalValue: String(maxNotionalAt(s, leverage)),
    notional: decimal(amount * mark),
  };
}

function positionRisk(ctx: EndpointContext): SimResponse {
  const account = signedAccount(ctx);
  const symbols = symbolFilter(ctx);
  if (!Array.isArray(symbols)) return symbols;
  const filtered = ctx.params.has('symbol');
  const entries = symbols
    .filter((s) => filtered || Number(ctx.state.position(account, s.symbol).positionAmt) !== 0)
    .map((s) => positionEntry(ctx, account, s));
  return json(200, entries);
}

function leverageBracket(ctx: EndpointContext): SimResponse {
  const symbols = symbolFilter(ctx);
  if (!Array.isArray(symbols)) return symbols;
  return json(
    200,
    symbols.map((s) => ({ symbol: s.symbol, notionalCoef: '1.0', brackets: s.brackets })),
  );
}

function umAccount(ctx: EndpointContext): SimResponse {
  const account = signedAccount(ctx);
  const positions = ctx.state.allSymbols().map((s) => {
    const entry = positionEntry(ctx, account, s);
    return {
      symbol: s.symbol,
      initialMargin: decimal(Math.abs(Number(entry.notional)) / Number(entry.leverage)),
      unrealizedProfit: entry.unRealizedProfit,
      leverage: entry.leverage,
      entryPrice: entry.entryPrice,
      maxNotional: entry.maxNotionalValue,
      positionSide: 'BOTH',
      positionAmt: entry.positionAmt,
      updateTime: ctx.serverTime,
    };
  });
  return json(200, { assets: [], positions });
}

export const routes: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['POST /papi/v1/um/leverage', { weight: 1, signed: true, handle: changeLeverage }],
  ['GET /papi/v1/um/symbolConfig', { weight: 5, signed: true, handle: symbolConfig }],
  ['GET /papi/v1/um/positionRisk', { weight: 5, signed: true, handle: positionRisk }],
  ['GET /papi/v1/um/leverageBracket', { weight: 1, signed: true, handle: leverageBracket }],
  ['GET /papi/v1/um/account', { weight: 5, signed: true, handle: umAccount }],
  ['GET /papi/v1/ping', { weight: 1, signed: false, handle: () => json(200, {}) }],
  ['GET /fapi/v1/time', { weight: 1, signed: false, handle: (ctx) => json(200, { serverTime: ctx.serverTime }) }],
]);

/** Weight charged for a request that matches no route. */
export const UNKNOWN_ROUTE_WEIGHT = 1;
