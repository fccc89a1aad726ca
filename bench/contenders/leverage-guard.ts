// Our exchange client, exactly as the function uses it (bundled from functions/ by esbuild).
import { BinancePapiClient } from '../../functions/adapters/binance/papi-client.ts';
import { runClientContender } from './harness.ts';

runClientContender(({ simulatorUrl, credentials, symbol, weightLimitPerMinute }) => {
  const client = new BinancePapiClient({
    papiUrl: simulatorUrl,
    timeUrl: `${simulatorUrl}/fapi/v1/time`,
    recvWindowMs: 5000,
    requestTimeoutMs: 5000,
    // The client paces its request weight below the exchange's limit: tell it the simulator's.
    weightLimitPerMinute,
  });
  const deadline = { remainingMs: () => 60_000 };
  return async (leverage) => (await client.changeLeverage(credentials, symbol, leverage, deadline)).leverage;
});
