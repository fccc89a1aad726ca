/**
 * Ablation between the baseline and leverage-guard: the baseline's signing and parsing, sent
 * through leverage-guard's transport (functions/adapters/http/keep-alive-client.ts: per-request deadline
 * timer, URL object, error classification). Its distance to the baseline is the transport's
 * cost; its distance to leverage-guard is the rest of the client (parameter encoding, response
 * interpretation, clock and rate-limit state).
 */
import { send } from '../../functions/adapters/http/keep-alive-client.ts';
import { runClientContender } from './harness.ts';
import { signedLeveragePath } from './minimal-signing.ts';

runClientContender(({ simulatorUrl, credentials, symbol }) => async (leverage) => {
  const url = new URL(signedLeveragePath(credentials, symbol, leverage), simulatorUrl);
  const response = await send({ method: 'POST', url, headers: { 'X-MBX-APIKEY': credentials.apiKey }, timeoutMs: 5000 });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.body}`);
  return (JSON.parse(response.body) as { leverage: number }).leverage;
});
