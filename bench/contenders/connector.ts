/**
 * The official connector, @binance/derivatives-trading-portfolio-margin, with its base path
 * pointed at the simulator and otherwise default settings.
 */
import { DerivativesTradingPortfolioMargin } from '@binance/derivatives-trading-portfolio-margin';
import { runClientContender } from './harness.ts';

runClientContender(({ simulatorUrl, credentials, symbol }) => {
  const client = new DerivativesTradingPortfolioMargin({
    configurationRestAPI: { apiKey: credentials.apiKey, apiSecret: credentials.apiSecret, basePath: simulatorUrl },
  });
  return async (leverage) => {
    const response = await client.restAPI.changeUmInitialLeverage({ symbol, leverage });
    return Number((await response.data()).leverage);
  };
});
