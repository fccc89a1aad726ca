// The baseline's request line: fixed parameter order, local clock, HMAC-SHA256 hex signature last.
import { createHmac } from 'node:crypto';
import type { Credentials } from '../protocol.ts';

export function signedLeveragePath(credentials: Credentials, symbol: string, leverage: number): string {
  const query = `symbol=${symbol}&leverage=${leverage}&recvWindow=5000&timestamp=${Date.now()}`;
  const signature = createHmac('sha256', credentials.apiSecret).update(query).digest('hex');
  return `/papi/v1/um/leverage?${query}&signature=${signature}`;
}
