// Exit codes, output and error text shared by every command. Scripts rely on the exit codes;
// they are documented in the CLI's --help and the README.
export const EXIT = {
  /** Done; for status: running and nothing needs attention. */
  OK: 0,
  /** The answer is no: invalid events (nothing sent), status needs attention, no outcome arrived, redrive while paused. */
  NOT_OK: 1,
  /** Wrong command line, or a file that cannot be read. */
  USAGE: 2,
  /** AWS refused or could not be reached, or the stack was not found. */
  AWS: 3,
} as const;

export const EXIT_CODES_HELP = `Exit codes: 0 done (status: running, nothing needs attention); 1 not OK (invalid events,
nothing sent; status needs attention; no outcome arrived; redrive refused while paused); 2 usage
error or unreadable file; 3 AWS refused or could not be reached, or the stack was not found.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export const print = (line = ''): void => void process.stdout.write(`${line}\n`);
export const printError = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * AWS error messages can name the caller (`arn:aws:iam::123456789012:user/alice is not
 * authorized…`) and queue URLs carry the account id; neither belongs in a terminal log or a CI
 * transcript.
 */
export function maskAccountIds(text: string): string {
  return text
    .replace(/arn:aws[\w-]*:(iam|sts)::\d{12}:[^\s"',]+/g, '<principal>')
    .replace(/(?<![\d])\d{12}(?![\d])/g, '<account>');
}
