/**
 * ccxt's binance exchange aimed at the simulator, the least invasive way:
 * - `urls.api.papi` is overridden (the only host a PAPI leverage change uses);
 * - the client-side throttle is off (`enableRateLimit: false`): on by default it spaces calls
 *   10 ms apart for this endpoint, which would measure the throttle, not the client;
 * - for the unified API, `setMarkets()` pre-seeds the one market the call needs, so
 *   `setLeverage` does not run `loadMarkets()` (spot/fapi/dapi exchangeInfo, which the simulator
 *   does not serve and which costs several heavy requests on a real cold start).
 */
import ccxt from 'ccxt';
import type { ClientJob } from '../protocol.ts';

export type CcxtBinance = InstanceType<typeof ccxt.binance>;

export function ccxtBinance({ simulatorUrl, credentials }: ClientJob): CcxtBinance {
  const exchange = new ccxt.binance({ apiKey: credentials.apiKey, secret: credentials.apiSecret, enableRateLimit: false });
  const urls = exchange.urls as { api: Record<string, string> };
  urls.api = { ...urls.api, papi: `${simulatorUrl}/papi/v1` };
  return exchange;
}

/** A USDⓈ-M perpetual as ccxt's own market parser would describe it, minus precision and limits. */
export function linearPerpetual(id: string, unifiedSymbol: string) {
  const [base = '', quote = ''] = unifiedSymbol.split(/[/:]/);
  return {
    id,
    symbol: unifiedSymbol,
    base,
    quote,
    settle: quote,
    baseId: base,
    quoteId: quote,
    settleId: quote,
    type: 'swap',
    spot: false,
    margin: false,
    swap: true,
    future: false,
    option: false,
    contract: true,
    linear: true,
    inverse: false,
    active: true,
    contractSize: 1,
    info: {},
  };
}

/** ccxt returns the exchange's JSON; the leverage may come back as a number or a string. */
export function reportedLeverage(response: unknown): number {
  return Number((response as { leverage?: unknown } | undefined)?.leverage);
}
