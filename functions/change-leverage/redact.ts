/**
 * Last line of defence for credential material in logs: named secret fields are masked wherever
 * they appear, and PEM blocks or `signature=` query values are cut out of free text. The code
 * never logs secrets on purpose; this catches the accident.
 */
import { withoutAwsIdentity } from '../domain/errors.ts';

export const REDACTED = '[REDACTED]';

const SENSITIVE_KEYS = new Set(['apisecret', 'privatekey', 'secretstring', 'signature', 'x-mbx-apikey', 'apikey', 'authorization']);

const PEM_BLOCK = /-----BEGIN [A-Z ]*KEY-----[\s\S]*?(-----END [A-Z ]*KEY-----|$)/g;
const SIGNATURE_PARAM = /(signature=)[^&\s"']+/gi;

/** Also drops AWS account ids and ARNs (they name the account and often a principal). */
export function redactText(text: string): string {
  return withoutAwsIdentity(text.replace(PEM_BLOCK, REDACTED).replace(SIGNATURE_PARAM, `$1${REDACTED}`));
}

/** A JSON.stringify replacer. */
export function redactJson(key: string, value: unknown): unknown {
  if (SENSITIVE_KEYS.has(key.toLowerCase())) return REDACTED;
  return typeof value === 'string' ? redactText(value) : value;
}
