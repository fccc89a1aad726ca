/**
 * Baseline: the least a client can do. node:http (node:https for an https URL) with a keep-alive
 * Agent, node:crypto HMAC signing, local clock, no retries, no clock sync.
 */
import http from 'node:http';
import https from 'node:https';
import { runClientContender } from './harness.ts';
import { signedLeveragePath } from './minimal-signing.ts';

runClientContender(({ simulatorUrl, credentials, symbol }) => {
  const transport = simulatorUrl.startsWith('https:') ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  return (leverage) =>
    new Promise<number>((resolve, reject) => {
      const request = transport.request(
        `${simulatorUrl}${signedLeveragePath(credentials, symbol, leverage)}`,
        { method: 'POST', agent, headers: { 'X-MBX-APIKEY': credentials.apiKey } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}: ${body}`));
            else resolve((JSON.parse(body) as { leverage: number }).leverage);
          });
        },
      );
      request.on('error', reject);
      request.end();
    });
});
