// `npm start` options that configure the function and the simulator: --env and --accounts.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRunArgs, UsageError } from '../../../local/run/args.ts';
import { loadAccounts } from '../../../local/run/accounts.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'run-options-'));
const accountsFile = (content: unknown) => {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
};

describe('--env', () => {
  test('KEY=VALUE pairs, repeatable, values kept verbatim (an "=" inside included)', () => {
    expect(parseRunArgs(['--env', 'DRY_RUN=true', '--env', 'LEVERAGE_CAPS={"*":5}', '--env', 'X=a=b']).functionEnv).toEqual({
      DRY_RUN: 'true',
      LEVERAGE_CAPS: '{"*":5}',
      X: 'a=b',
    });
    expect(parseRunArgs([]).functionEnv).toEqual({});
  });

  test.each([
    ['DRY_RUN', /KEY=VALUE/],
    ['dry_run=true', /uppercase variable name/],
    ['RESULT_TOPIC_ARN=arn:x', /RESULT_TOPIC_ARN: set by the local run/],
    ['AWS_ENDPOINT_URL=https://sqs.amazonaws.com', /AWS_ENDPOINT_URL: set by the local run/],
  ])('%s is refused', (pair, message) => {
    expect(() => parseRunArgs(['--env', pair])).toThrow(UsageError);
    expect(() => parseRunArgs(['--env', pair])).toThrow(message);
  });
});

describe('--accounts', () => {
  test('an HMAC account: the simulator and the secret get the same key; positions and leverage go to the simulator', () => {
    const positions = { BTCUSDT: { positionAmt: '1', entryPrice: '90000' } };
    const { seeds, credentials } = loadAccounts(accountsFile([{ name: 'desk-9', apiKey: 'k9', apiSecret: 's9', positions, leverage: { BTCUSDT: 20 } }]));
    expect(seeds).toEqual([{ name: 'desk-9', apiKey: 'k9', apiSecret: 's9', positions, leverage: { BTCUSDT: 20 } }]);
    expect(credentials).toEqual({ 'desk-9': { apiKey: 'k9', apiSecret: 's9' } });
  });

  test('keys left out are made up, the same on both sides', () => {
    const { seeds, credentials } = loadAccounts(accountsFile([{ name: 'desk-10' }]));
    expect(credentials['desk-10']).toEqual({ apiKey: seeds[0]!.apiKey, apiSecret: seeds[0]!.apiSecret });
    expect(seeds[0]!.apiSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  test('an Ed25519 private key: the secret holds it, the simulator its public key, and they verify each other', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { seeds, credentials } = loadAccounts(accountsFile([{ name: 'desk-11', apiKey: 'k11', privateKey: pem }]));
    expect(credentials['desk-11']).toEqual({ apiKey: 'k11', privateKey: pem });
    const signature = sign(null, Buffer.from('query'), pem);
    expect(verify(null, Buffer.from('query'), seeds[0]!.publicKeyPem!, signature)).toBe(true);
  });

  test.each([
    [[{ name: 'd', apiSecret: 's', privateKey: 'p' }], /not both/],
    [[{ name: 'd', secret: 's' }], /unknown field secret/],
    [[{ name: 'bad name' }], /name must be an accountId/],
    [[{ name: 'd' }, { name: 'd' }], /defined twice/],
    [[{ name: 'd', privateKey: 'not a key' }], /not a usable PEM private key/],
    [{ name: 'd' }, /non-empty JSON array/],
  ])('%j is refused', (content, message) => {
    expect(() => loadAccounts(accountsFile(content))).toThrow(message);
  });
});
