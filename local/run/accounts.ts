/**
 * `npm start -- --accounts <file>`: more Binance accounts for the local run. One definition per
 * account gives both sides: the simulator's account (its key, positions, leverage) and the
 * function's Secrets Manager secret (what a real deployment stores), so the two always match.
 *
 *   [{ "name": "desk-9",                       the event's accountId
 *      "apiKey": "...", "apiSecret": "..."      HMAC; or "privateKey": "<PKCS#8 PEM>" (Ed25519/RSA);
 *                                               both omitted: a random HMAC key is made up
 *      "positions": {"BTCUSDT": {"positionAmt": "1.5", "entryPrice": "90000"}},
 *      "leverage": {"BTCUSDT": 20} }]
 *
 * An account named like one of the simulator's own (default, desk-1…) replaces it.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SimulatorAccountSeed } from '../binance-simulator/index.ts';
import { UsageError } from './args.ts';

export interface LocalAccounts {
  seeds: SimulatorAccountSeed[];
  /** Secret JSON per account id, as the function reads it from Secrets Manager. */
  credentials: Record<string, object>;
}

const FIELDS = ['name', 'apiKey', 'apiSecret', 'privateKey', 'positions', 'leverage'];
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function parseAccount(entry: unknown, where: string): { seed: SimulatorAccountSeed; secret: object } {
  if (!isObject(entry)) throw new UsageError(`${where} must be an object`);
  const unknown = Object.keys(entry).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0) throw new UsageError(`${where}: unknown field ${unknown.join(', ')} (allowed: ${FIELDS.join(', ')})`);
  const { name, apiKey, apiSecret, privateKey, positions, leverage } = entry;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new UsageError(`${where}.name must be an accountId ([A-Za-z0-9._-], 1 to 64)`);
  if (apiSecret !== undefined && privateKey !== undefined) throw new UsageError(`${where}: apiSecret (HMAC) or privateKey (Ed25519/RSA), not both`);
  for (const [field, value] of Object.entries({ apiKey, apiSecret, privateKey })) {
    if (value !== undefined && typeof value !== 'string') throw new UsageError(`${where}.${field} must be a string`);
  }
  if (positions !== undefined && !isObject(positions)) throw new UsageError(`${where}.positions must be an object keyed by symbol`);
  if (leverage !== undefined && !isObject(leverage)) throw new UsageError(`${where}.leverage must be an object keyed by symbol`);
  const key = (apiKey as string | undefined) ?? `LocalRunTestOnly${randomBytes(24).toString('hex')}`;
  const extras = {
    ...(positions ? { positions: positions as SimulatorAccountSeed['positions'] } : {}),
    ...(leverage ? { leverage: leverage as SimulatorAccountSeed['leverage'] } : {}),
  };
  if (typeof privateKey === 'string') {
    let publicKeyPem: string;
    try {
      publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    } catch (error) {
      throw new UsageError(`${where}.privateKey is not a usable PEM private key (${(error as Error).message})`);
    }
    return { seed: { name, apiKey: key, publicKeyPem, ...extras }, secret: { apiKey: key, privateKey } };
  }
  const secret = (apiSecret as string | undefined) ?? randomBytes(32).toString('hex');
  return { seed: { name, apiKey: key, apiSecret: secret, ...extras }, secret: { apiKey: key, apiSecret: secret } };
}

export function loadAccounts(file: string): LocalAccounts {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--accounts ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(json) || json.length === 0) throw new UsageError(`--accounts ${file} must be a non-empty JSON array of accounts`);
  const parsed = json.map((entry, index) => parseAccount(entry, `--accounts ${file}: [${index}]`));
  const names = parsed.map(({ seed }) => seed.name);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new UsageError(`--accounts ${file}: account ${twice} is defined twice`);
  return { seeds: parsed.map(({ seed }) => seed), credentials: Object.fromEntries(parsed.map(({ seed, secret }) => [seed.name, secret])) };
}
