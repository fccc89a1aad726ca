/**
 * Binance request signing (SIGNED endpoints). The payload is the percent-encoded query string
 * followed by the body; the exact string that was signed is the one sent, with `signature` last.
 * HMAC-SHA256 gives lowercase hex; Ed25519 and RSA (PKCS#1 v1.5, SHA-256) give base64, which is
 * percent-encoded like any other value.
 */
import { createHmac, createPrivateKey, createSecretKey, type KeyObject, sign } from 'node:crypto';
import { RetryableError } from '../../domain/errors.ts';
import type { ApiCredentials } from '../../domain/ports.ts';

export type Signer = (payload: string) => string;

/** Nothing to encode: RFC 3986 unreserved characters only (symbols, numbers, hex signatures). */
const UNRESERVED = /^[\w.~-]*$/;

/** RFC 3986 percent-encoding (encodeURIComponent also leaves !'()* alone). */
export function percentEncode(value: string): string {
  if (UNRESERVED.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function encodeParams(params: ReadonlyArray<readonly [string, string | number]>): string {
  return params.map(([name, value]) => `${percentEncode(name)}=${percentEncode(String(value))}`).join('&');
}

/** The query string to send: the encoded parameters, then the signature over them (and the body). */
export function signQuery(query: string, signer: Signer, body = ''): string {
  return `${query}&signature=${percentEncode(signer(query + body))}`;
}

export function hmacSigner(apiSecret: string): Signer {
  // A KeyObject made once: createHmac with a string key imports the key again on every call.
  const key = createSecretKey(apiSecret, 'utf8');
  return (payload) => createHmac('sha256', key).update(payload).digest('hex');
}

export function privateKeySigner(key: KeyObject): Signer {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return (payload) => sign(null, Buffer.from(payload), key).toString('base64');
    case 'rsa':
      return (payload) => sign('sha256', Buffer.from(payload), key).toString('base64');
    default:
      throw new RetryableError(
        'INVALID_CREDENTIALS',
        `unsupported private key type ${key.asymmetricKeyType ?? 'unknown'}: Binance accepts Ed25519 or RSA`,
      );
  }
}

// Parsing a PEM key is the costly part of signing: do it once per credentials object (the
// credential store hands out the same object while its cache entry lives).
const signers = new WeakMap<ApiCredentials, Signer>();

export function signerFor(credentials: ApiCredentials): Signer {
  let signer = signers.get(credentials);
  if (!signer) {
    signer = 'apiSecret' in credentials ? hmacSigner(credentials.apiSecret) : privateKeySigner(parsePrivateKey(credentials.privateKey));
    signers.set(credentials, signer);
  }
  return signer;
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // The parser's own message may quote key material: say only what is wrong.
    throw new RetryableError('INVALID_CREDENTIALS', 'privateKey is not a readable PKCS#8 PEM private key');
  }
}
