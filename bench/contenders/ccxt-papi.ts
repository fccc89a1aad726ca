// ccxt, implicit API method for the endpoint: papiPostUmLeverage.
import { ccxtBinance, reportedLeverage } from './ccxt-client.ts';
import { runClientContender } from './harness.ts';

runClientContender((job) => {
  const exchange = ccxtBinance(job);
  return async (leverage) => reportedLeverage(await exchange.papiPostUmLeverage({ symbol: job.symbol, leverage }));
});
