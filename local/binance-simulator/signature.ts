// Request-signature verification, written independently of the client's signing code so
// that it can serve as a test oracle for it.
//
// Binance rules: totalParams = raw query string + raw request body (no separator), exactly as
// received (still percent-encoded); `signature` must be the last parameter and is not part of
// the signed payload. HMAC-SHA256 → hex (case-insensitive); Ed25519 / RSA PKCS#1 v1.5 SHA-256
// → base64, percent-encoded on the wire.
import crypto from 'node:crypto';

export interface RawParam {
  name: string;
  /** Still percent-encoded, as received. */
  raw: string;
}

/** Splits `a=1&b=2` into ordered raw pairs (empty pieces are skipped). */
export function splitRawParams(raw: string): RawParam[] {
  if (raw === '') return [];
  return raw
    .split('&')
    .filter((piece) => piece !== '')
    .map((piece) => {
      const eq = piece.indexOf('=');
      return eq < 0 ? { name: piece, raw: '' } : { name: piece.slice(0, eq), raw: piece.slice(eq + 1) };
    });
}

/** application/x-www-form-urlencoded decoding (`+` is a space), as a Java/Spring server does. */
export function formDecode(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}

export type SignedPayload =
  | { ok: true; payload: string; signature: string }
  | { ok: false; reason: 'missing' | 'notLast' };

/**
 * Finds the signed payload. The signature sits at the end of the body when there is a body,
 * otherwise at the end of the query string.
 */
export function extractSignedPayload(rawQuery: string, rawBody: string): SignedPayload {
  const carrier = rawBody !== '' ? rawBody : rawQuery;
  const all = [...splitRawParams(rawQuery), ...splitRawParams(rawBody)];
  const sigIndex = all.findIndex((p) => p.name === 'signature');
  if (sigIndex < 0) return { ok: false, reason: 'missing' };
  const last = all[all.length - 1];
  if (sigIndex !== all.length - 1 || last === undefined) return { ok: false, reason: 'notLast' };
  const marker = carrier.startsWith('signature=') ? 0 : carrier.lastIndexOf('&signature=');
  if (marker < 0) return { ok: false, reason: 'notLast' };
  const unsignedCarrier = carrier.slice(0, marker);
  const payload = rawBody !== '' ? rawQuery + unsignedCarrier : unsignedCarrier;
  return { ok: true, payload, signature: last.raw };
}

export type Verifier = (payload: string, wireSignature: string) => boolean;

/** HMAC-SHA256 verifier; the hex signature is compared case-insensitively. */
export function hmacVerifier(secret: string): Verifier {
  return (payload, wireSignature) => {
    const expected = crypto.createHmac('sha256', secret).update(payload, 'utf8').digest();
    const given = wireSignature.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(given)) return false;
    return crypto.timingSafeEqual(expected, Buffer.from(given, 'hex'));
  };
}

/** Ed25519 or RSA (PKCS#1 v1.5, SHA-256) verifier from an SPKI PEM public key. */
export function publicKeyVerifier(publicKeyPem: string): Verifier {
  const key = crypto.createPublicKey(publicKeyPem);
  const type = key.asymmetricKeyType;
  if (type !== 'ed25519' && type !== 'rsa') {
    throw new Error(`unsupported public key type ${String(type)} (Ed25519 or RSA expected)`);
  }
  const algorithm = type === 'ed25519' ? null : 'sha256';
  return (payload, wireSignature) => {
    let decoded: string;
    try {
      decoded = formDecode(wireSignature);
    } catch {
      return false;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(decoded)) return false;
    try {
      return crypto.verify(algorithm, Buffer.from(payload, 'utf8'), key, Buffer.from(decoded, 'base64'));
    } catch {
      return false;
    }
  };
}

export function verifierFor(account: { apiSecret?: string; publicKeyPem?: string; name: string }): Verifier {
  if (account.publicKeyPem !== undefined) return publicKeyVerifier(account.publicKeyPem);
  if (account.apiSecret !== undefined) return hmacVerifier(account.apiSecret);
  throw new Error(`simulator account ${account.name} has neither apiSecret nor publicKeyPem`);
}
