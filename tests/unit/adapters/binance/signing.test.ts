import crypto from 'node:crypto';
import {
  encodeParams,
  hmacSigner,
  percentEncode,
  signerFor,
  signQuery,
} from '../../../../functions/adapters/binance/signing.ts';
import { RetryableError } from '../../../../functions/domain/errors.ts';
import { thrownBy } from '../../../support/fakes.ts';

// Official vectors (binance-papi.md, "Test vectors").
const SECRET_A = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const SECRET_B = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const ORDER_TAIL = 'side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const FULL_WIDTH_SYMBOL = '%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96';
const LEVERAGE_PAYLOAD = 'symbol=BTCUSDT&leverage=21&recvWindow=5000&timestamp=1611825601400';

// RFC 8032 §7.1 TEST 1 seed, wrapped as PKCS#8: SEQUENCE { version 0, AlgorithmIdentifier Ed25519, OCTET STRING { OCTET STRING seed } }.
const ED25519_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const ED25519_PEM = pem('PRIVATE KEY', Buffer.from(`302e020100300506032b657004220420${ED25519_SEED}`, 'hex'));
const ED25519_SIGNATURE = 'oGNRF+gxBer7z9/BBS8Bp8aYb1Dl3eLyeQCXHSw9PmahSf77KS3fyZdkAm3AmymmNGmOVeb3aLuWBv5jUs6SAA==';
const ED25519_SIGNATURE_ENCODED = 'oGNRF%2BgxBer7z9%2FBBS8Bp8aYb1Dl3eLyeQCXHSw9PmahSf77KS3fyZdkAm3AmymmNGmOVeb3aLuWBv5jUs6SAA%3D%3D';

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

describe('HMAC-SHA256 (official vectors)', () => {
  test.each([
    [SECRET_A, `symbol=LTCBTC&${ORDER_TAIL}`, 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71'],
    [SECRET_A, `symbol=${FULL_WIDTH_SYMBOL}&${ORDER_TAIL}`, 'e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3'],
    [
      SECRET_B,
      'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943',
      '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9',
    ],
    [SECRET_A, LEVERAGE_PAYLOAD, 'bee0c5d2b2ff325834d86abab3ae582926c1384d9ed593fe413cdd71b14b75e6'],
  ])('secret %s… signs %s', (secret, payload, hex) => {
    expect(hmacSigner(secret)(payload)).toBe(hex);
  });

  test('the full-width symbol is encoded to the vector payload before signing', () => {
    const query = encodeParams([
      ['symbol', '１２３４５６'],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['timeInForce', 'GTC'],
      ['quantity', 1],
      ['price', '0.1'],
      ['recvWindow', 5000],
      ['timestamp', 1499827319559],
    ]);
    expect(query).toBe(`symbol=${FULL_WIDTH_SYMBOL}&${ORDER_TAIL}`);
    expect(signQuery(query, hmacSigner(SECRET_A))).toBe(
      `${query}&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3`,
    );
  });

  test('signerFor uses HMAC for {apiKey, apiSecret}', () => {
    expect(signerFor({ apiKey: 'k', apiSecret: SECRET_A })(LEVERAGE_PAYLOAD)).toBe(
      'bee0c5d2b2ff325834d86abab3ae582926c1384d9ed593fe413cdd71b14b75e6',
    );
  });
});

describe('Ed25519 (RFC 8032 TEST 1 key)', () => {
  test('the wrapped PEM really holds the RFC key (public key d75a98…)', () => {
    const publicDer = crypto.createPublicKey(ED25519_PEM).export({ type: 'spki', format: 'der' });
    expect(publicDer.subarray(-32).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  });

  test('signs the leverage payload to the reference base64', () => {
    expect(signerFor({ apiKey: 'k', privateKey: ED25519_PEM })(LEVERAGE_PAYLOAD)).toBe(ED25519_SIGNATURE);
  });

  test('signQuery sends it percent-encoded, last', () => {
    expect(signQuery(LEVERAGE_PAYLOAD, signerFor({ apiKey: 'k', privateKey: ED25519_PEM }))).toBe(
      `${LEVERAGE_PAYLOAD}&signature=${ED25519_SIGNATURE_ENCODED}`,
    );
  });
});

describe('RSA (PKCS#1 v1.5, SHA-256)', () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const signature = signerFor({ apiKey: 'k', privateKey })(LEVERAGE_PAYLOAD);

  test('the signature verifies with the public key, and only for the signed payload', () => {
    const verify = (payload: string) => crypto.verify('sha256', Buffer.from(payload), publicKey, Buffer.from(signature, 'base64'));
    expect([verify(LEVERAGE_PAYLOAD), verify(LEVERAGE_PAYLOAD.replace('21', '22'))]).toEqual([true, false]);
  });

  test('it is PKCS#1 v1.5 (deterministic), not PSS', () => {
    const expected = crypto
      .sign('sha256', Buffer.from(LEVERAGE_PAYLOAD), { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING })
      .toString('base64');
    expect(signature).toBe(expected);
    expect(Buffer.from(signature, 'base64')).toHaveLength(256);
  });
});

describe('signQuery', () => {
  test('signs query + body with no separator and appends the signature last', () => {
    const seen: string[] = [];
    const signer = (payload: string) => {
      seen.push(payload);
      return 'a+b/c=';
    };
    expect(signQuery('symbol=BTCUSDT&leverage=5', signer, 'x=1')).toBe('symbol=BTCUSDT&leverage=5&signature=a%2Bb%2Fc%3D');
    expect(signQuery('timestamp=1', signer)).toBe('timestamp=1&signature=a%2Bb%2Fc%3D');
    expect(seen).toEqual(['symbol=BTCUSDT&leverage=5x=1', 'timestamp=1']);
  });
});

describe('percentEncode (RFC 3986, UTF-8)', () => {
  test.each([
    ['BTCUSDT_261225', 'BTCUSDT_261225'],
    ['AZaz09-._~', 'AZaz09-._~'],
    ["!'()*", '%21%27%28%29%2A'],
    [' +/=&?#%', '%20%2B%2F%3D%26%3F%23%25'],
    ['１２３４５６', FULL_WIDTH_SYMBOL],
    ['é', '%C3%A9'],
    ['😀', '%F0%9F%98%80'],
  ])('%p → %p', (value, encoded) => {
    expect(percentEncode(value)).toBe(encoded);
  });

  test('encodeParams keeps the given order and encodes names and values', () => {
    expect(encodeParams([['symbol', 'BTCUSDT'], ['leverage', 21], ['a b', 'c&d']])).toBe('symbol=BTCUSDT&leverage=21&a%20b=c%26d');
  });
});

describe('signerFor', () => {
  test('caches one signer per credentials object', () => {
    const credentials = { apiKey: 'k', privateKey: ED25519_PEM };
    const signer = signerFor(credentials);
    expect(signerFor(credentials)).toBe(signer);
    expect(signerFor({ ...credentials })).not.toBe(signer);
  });

  const ecKey = crypto.generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const truncatedPem = `${ED25519_PEM.slice(0, 60)}\n-----END PRIVATE KEY-----\n`;

  test.each([
    ['not PEM at all', 'MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v', 'privateKey is not a readable PKCS#8 PEM private key'],
    ['a truncated PEM', truncatedPem, 'privateKey is not a readable PKCS#8 PEM private key'],
    ['a public key', ecKey.publicKey, 'privateKey is not a readable PKCS#8 PEM private key'],
    ['an EC P-256 key', ecKey.privateKey, 'unsupported private key type ec: Binance accepts Ed25519 or RSA'],
  ])('rejects %s with INVALID_CREDENTIALS and no key material', (_name, privateKey, message) => {
    const error = thrownBy<RetryableError>(() => signerFor({ apiKey: 'k', privateKey }));
    expect(error).toBeInstanceOf(RetryableError);
    expect([error.code, error.message]).toEqual(['INVALID_CREDENTIALS', message]);
    const body = privateKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
    for (let i = 0; i + 8 <= body.length; i += 8) expect(error.message).not.toContain(body.slice(i, i + 8));
  });
});
