import crypto from 'node:crypto';
import { defaultSeed } from '../../../local/binance-simulator/index.ts';
import { cred, encode, raw, sign, signed, useSimulator } from '../../support/simulator-client.ts';

// Official vectors (reference doc): secret, payload, HMAC hex.
const SECRET_1 = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const SECRET_2 = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const VECTORS = [
  {
    secret: SECRET_1,
    payload: 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559',
    signature: 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71',
    timestamp: 1499827319559,
  },
  {
    secret: SECRET_1,
    payload:
      'symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559',
    signature: 'e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3',
    timestamp: 1499827319559,
  },
  {
    secret: SECRET_2,
    payload: 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943',
    signature: '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9',
    timestamp: 1591702613943,
  },
];
const LEVERAGE_PAYLOAD = 'symbol=BTCUSDT&leverage=21&recvWindow=5000&timestamp=1611825601400';
const LEVERAGE_HMAC = 'bee0c5d2b2ff325834d86abab3ae582926c1384d9ed593fe413cdd71b14b75e6';
const LEVERAGE_ED25519 =
  'oGNRF%2BgxBer7z9%2FBBS8Bp8aYb1Dl3eLyeQCXHSw9PmahSf77KS3fyZdkAm3AmymmNGmOVeb3aLuWBv5jUs6SAA%3D%3D';
// RFC 8032 §7.1 TEST 1 public key, wrapped as SPKI.
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const spki = (rawHex: string) =>
  crypto
    .createPublicKey({ key: Buffer.from('302a300506032b6570032100' + rawHex, 'hex'), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

const KEY_1 = 'VectorKeyOne'.padEnd(64, 'A');
const KEY_2 = 'VectorKeyTwo'.padEnd(64, 'B');
const KEY_ED = 'VectorKeyEd25519'.padEnd(64, 'C');

describe('signature verification: official vectors', () => {
  let clock = 0;
  const seed = defaultSeed();
  seed.accounts.push(
    { name: 'vector-1', apiKey: KEY_1, apiSecret: SECRET_1 },
    { name: 'vector-2', apiKey: KEY_2, apiSecret: SECRET_2 },
    { name: 'vector-ed', apiKey: KEY_ED, publicKeyPem: spki(RFC8032_PUBLIC) },
  );
  const sim = useSimulator({ seed, now: () => clock });

  it.each(VECTORS)('accepts the documented HMAC signature of $payload', async ({ secret, payload, signature, timestamp }) => {
    clock = timestamp + 10;
    const apiKey = secret === SECRET_1 ? KEY_1 : KEY_2;
    const ok = await raw(sim, 'POST', `/papi/v1/um/leverage?${payload}&signature=${signature}`, { apiKey });
    // Signature accepted, so validation moves on to the endpoint's own parameters.
    expect(ok.json).toEqual({ code: -1102, msg: "Mandatory parameter 'leverage' was not sent, was empty/null, or malformed." });
    const upper = await raw(sim, 'POST', `/papi/v1/um/leverage?${payload}&signature=${signature.toUpperCase()}`, { apiKey });
    expect(upper.json.code).toBe(-1102);
    const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    const bad = await raw(sim, 'POST', `/papi/v1/um/leverage?${payload}&signature=${flipped}`, { apiKey });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
  });

  it('accepts the computed leverage-call vectors (HMAC and Ed25519) and changes leverage', async () => {
    clock = 1611825601400 + 10;
    const hmac = await raw(sim, 'POST', `/papi/v1/um/leverage?${LEVERAGE_PAYLOAD}&signature=${LEVERAGE_HMAC}`, { apiKey: KEY_1 });
    expect(hmac.status).toBe(200);
    expect(hmac.json).toEqual({ leverage: 21, maxNotionalValue: '70000000', symbol: 'BTCUSDT' });
    expect(sim.leverageOf('vector-1', 'BTCUSDT')).toBe(21);
    const ed = await raw(sim, 'POST', `/papi/v1/um/leverage?${LEVERAGE_PAYLOAD}&signature=${LEVERAGE_ED25519}`, { apiKey: KEY_ED });
    expect(ed.status).toBe(200);
    expect(sim.leverageOf('vector-ed', 'BTCUSDT')).toBe(21);
    // The base64 must be percent-encoded: a raw '+' is form-decoded to a space and fails.
    const unencoded = decodeURIComponent(LEVERAGE_ED25519);
    const plus = await raw(sim, 'POST', `/papi/v1/um/leverage?${LEVERAGE_PAYLOAD}&signature=${unencoded}`, { apiKey: KEY_ED });
    expect(plus.json.code).toBe(-1022);
  });
});

describe('signature verification: seeded accounts', () => {
  const sim = useSimulator();

  it.each(['default', 'desk-1', 'desk-2', 'desk-3'])('accepts a correctly signed request from %s', async (account) => {
    const res = await signed(sim, { method: 'POST', path: '/papi/v1/um/leverage', params: { symbol: 'XRPUSDT', leverage: 7 }, account });
    expect(res.status).toBe(200);
    expect(sim.leverageOf(account, 'XRPUSDT')).toBe(7);
  });

  it.each([
    ['desk-2', 'Ed25519'],
    ['desk-3', 'RSA'],
  ])('rejects %s (%s) signed with another key or over another payload', async (account) => {
    const query = encode({ symbol: 'XRPUSDT', leverage: 7, timestamp: Date.now() });
    const apiKey = cred(account).apiKey;
    const otherKey = account === 'desk-2' ? cred('desk-3') : cred('desk-2');
    const wrongKey = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}&signature=${sign(otherKey, query)}`, { apiKey });
    expect(wrongKey.json.code).toBe(-1022);
    const tampered = await raw(sim, 'POST', `/papi/v1/um/leverage?${query.replace('leverage=7', 'leverage=8')}&signature=${sign(cred(account), query)}`, { apiKey });
    expect(tampered.json.code).toBe(-1022);
    const garbage = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}&signature=not-base64!`, { apiKey });
    expect(garbage.json.code).toBe(-1022);
    expect(sim.leverageOf(account, 'XRPUSDT')).toBe(20);
  });

  it('rejects an HMAC request signed with the wrong secret', async () => {
    const query = encode({ symbol: 'XRPUSDT', leverage: 7, timestamp: Date.now() });
    const res = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}&signature=${sign(cred('desk-1'), query)}`, {
      apiKey: cred('default').apiKey,
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
  });

  it('rejects a signature that is not the last parameter, even when it is correct', async () => {
    const query = encode({ symbol: 'XRPUSDT', leverage: 7, timestamp: Date.now() });
    const signature = sign(cred('default'), query);
    const res = await raw(sim, 'POST', `/papi/v1/um/leverage?signature=${signature}&${query}`, { apiKey: cred('default').apiKey });
    expect(res.json.code).toBe(-1022);
    const middle = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}&signature=${signature}&recvWindow=5000`, {
      apiKey: cred('default').apiKey,
    });
    expect(middle.json.code).toBe(-1022);
    expect(sim.leverageOf('default', 'XRPUSDT')).toBe(20);
  });

  it('requires the signature parameter', async () => {
    const query = encode({ symbol: 'XRPUSDT', leverage: 7, timestamp: Date.now() });
    const res = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}`, { apiKey: cred('default').apiKey });
    expect(res.json).toEqual({ code: -1102, msg: "Mandatory parameter 'signature' was not sent, was empty/null, or malformed." });
  });

  it('signs query + body concatenated without a separator when parameters are in the body', async () => {
    const c = cred('desk-3');
    const query = encode({ symbol: 'XRPUSDT' });
    const body = encode({ leverage: 9, timestamp: Date.now() });
    const good = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}`, {
      apiKey: c.apiKey,
      body: `${body}&signature=${sign(c, query + body)}`,
    });
    expect(good.status).toBe(200);
    expect(sim.leverageOf('desk-3', 'XRPUSDT')).toBe(9);
    const withAmpersand = await raw(sim, 'POST', `/papi/v1/um/leverage?${query}`, {
      apiKey: c.apiKey,
      body: `${body}&signature=${sign(c, `${query}&${body}`)}`,
    });
    expect(withAmpersand.json.code).toBe(-1022);
  });

  it('verifies the raw percent-encoded query, not a re-encoded one', async () => {
    const c = cred('default');
    // Same decoded parameters, different encoding of the symbol: signature over one, sent the other.
    const encoded = `symbol=%58RPUSDT&leverage=5&timestamp=${Date.now()}`;
    const plain = encoded.replace('%58', 'X');
    const res = await raw(sim, 'POST', `/papi/v1/um/leverage?${encoded}&signature=${sign(c, plain)}`, { apiKey: c.apiKey });
    expect(res.json.code).toBe(-1022);
    const ok = await raw(sim, 'POST', `/papi/v1/um/leverage?${encoded}&signature=${sign(c, encoded)}`, { apiKey: c.apiKey });
    expect(ok.json).toEqual({ leverage: 5, maxNotionalValue: '5000000', symbol: 'XRPUSDT' });
  });
});
