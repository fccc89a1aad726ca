/**
 * Last line of defence for credential material in logs: named secret fields are masked wherever
 * they appear, and PEM blocks or `signature=` query values are cut out of free text. The code
 * never logs secrets on purpose; this catches the accident.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEYS = new Set(['apisecret', 'privatekey', 'secretstring', 'signature', 'x-mbx-apikey', 'apikey', 'authorization']);

const PEM_BLOCK = /-----BEGIN [A-Z ]*KEY-----[\s\S]*?(-----END [A-Z ]*KEY-----|$)/g;
const SIGNATURE_PARAM = /(signature=)[^&\s"']+/gi;

export function redactText(text: string): string {
  return text.replace(PEM_BLOCK, REDACTED).replace(SIGNATURE_PARAM, `$1${REDACTED}`);
}

/** A JSON.stringify replacer. */
export function redactJson(key: string, value: unknown): unknown {
  if (SENSITIVE_KEYS.has(key.toLowerCase())) return REDACTED;
  return typeof value === 'string' ? redactText(value) : value;
}

// ARNs (arn:partition:service:region:account:resource) name the account and often a principal;
// a lone 12-digit number is an account id as often as not.
const ARN = /\barn:aws[a-z-]*:[^\s"'`,;()<>]*/g;
const ACCOUNT_ID = /\b\d{12}\b/g;

/** AWS account ids and ARNs cut out of free text that leaves the function (outcomes, logs). */
export function redactAwsIdentifiers(text: string): string {
  return text.replace(ARN, '[ARN]').replace(ACCOUNT_ID, '[ACCOUNT]');
}
