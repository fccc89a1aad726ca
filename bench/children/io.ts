// Child-process side of the protocol: read the job, print the result line, exit.
import { RESULT_MARKER } from '../protocol.ts';

export function readJob<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: node <child>.mjs <job json>');
  return JSON.parse(raw) as T;
}

export function maxRssKiB(): number {
  return process.resourceUsage().maxRSS;
}

function finish(payload: unknown, exitCode: number): void {
  // Exit explicitly: keep-alive sockets and SDK timers would otherwise hold the process open.
  process.stdout.write(`\n${RESULT_MARKER} ${JSON.stringify(payload)}\n`, () => process.exit(exitCode));
}

export function report(result: unknown): void {
  finish(result, 0);
}

export function fail(error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  finish({ error: message }, 1);
}

/** Runs the child's body, reporting a thrown error as a failure line. */
export function runChild(body: () => Promise<unknown>): void {
  body().then(report, fail);
}
