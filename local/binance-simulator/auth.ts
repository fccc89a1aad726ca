// SIGNED endpoint checks, in Binance's order: API key, mandatory timestamp and signature,
// recvWindow, timing window, then the signature itself.
import { errors, type SimResponse } from './responses.ts';
import { extractSignedPayload } from './signature.ts';
import type { Account, SimulatorState } from './state.ts';

export const DEFAULT_RECV_WINDOW = 5000;
export const MAX_RECV_WINDOW = 60000;
const API_KEY_FORMAT = /^[A-Za-z0-9]{64}$/;

export interface SignedRequest {
  apiKey: string | undefined;
  params: Map<string, string>;
  rawQuery: string;
  rawBody: string;
  serverTime: number;
}

export function authenticate(state: SimulatorState, req: SignedRequest): Account | SimResponse {
  if (req.apiKey === undefined || req.apiKey === '') return errors.invalidApiKey();
  // A seeded key is always accepted, whatever its shape (custom seeds may use short keys).
  const account = state.accountByKey(req.apiKey);
  if (account === undefined) return API_KEY_FORMAT.test(req.apiKey) ? errors.invalidApiKey() : errors.apiKeyFormat();

  const timestamp = integerParam(req.params, 'timestamp');
  if (timestamp === undefined) return errors.mandatory('timestamp');
  if (!req.params.get('signature')) return errors.mandatory('signature');
  const recvWindow = req.params.has('recvWindow') ? integerParam(req.params, 'recvWindow') : DEFAULT_RECV_WINDOW;
  if (recvWindow === undefined) return errors.mandatory('recvWindow');
  if (recvWindow > MAX_RECV_WINDOW) return errors.badRecvWindow();
  if (timestamp >= req.serverTime + 1000) return errors.aheadOfServer();
  if (req.serverTime - timestamp > recvWindow) return errors.outsideRecvWindow();

  const signed = extractSignedPayload(req.rawQuery, req.rawBody);
  if (!signed.ok || !account.verify(signed.payload, signed.signature)) return errors.badSignature();
  return account;
}

function integerParam(params: Map<string, string>, name: string): number | undefined {
  const raw = params.get(name);
  return raw !== undefined && /^\d{1,20}$/.test(raw) ? Number(raw) : undefined;
}
