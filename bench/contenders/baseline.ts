/**
 * Baseline: the least a client can do. node:http with a keep-alive Agent, node:crypto HMAC
 * signing, local clock, no retries, no clock sync. (The simulator speaks plain http on loopback,
 * so node:http stands in for node:https.)
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { runClientContender } from './harness.ts';

runClientContender(({ simulatorUrl, credentials, symbol }) => {
  const agent = new http.Agent({ keepAlive: true });
  const url = new URL('/papi/v1/um/leverage', simulatorUrl);
  return (leverage) => {
    const query = `symbol=${symbol}&leverage=${leverage}&recvWindow=5000&timestamp=${Date.now()}`;
    const signature = createHmac('sha256', credentials.apiSecret).update(query).digest('hex');
    return new Promise<number>((resolve, reject) => {
      const request = http.request(
        `${url.href}?${query}&signature=${signature}`,
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
  };
});
