// ccxt, unified API: setLeverage(…, { portfolioMargin: true }) with a pre-seeded market.
import { ccxtBinance, linearPerpetual, reportedLeverage } from './ccxt-client.ts';
import { runClientContender } from './harness.ts';

runClientContender((job) => {
  const exchange = ccxtBinance(job);
  exchange.setMarkets([linearPerpetual(job.symbol, job.unifiedSymbol)]);
  return async (leverage) => reportedLeverage(await exchange.setLeverage(leverage, job.unifiedSymbol, { portfolioMargin: true }));
});
