// Child-process side of the protocol: read the job, print the result line, exit.
import { readFileSync } from 'node:fs';
import { RESULT_MARKER, type RssReport } from '../protocol.ts';

export function readJob<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: node <child>.mjs <job json | @job file>');
  return JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw) as T;
}

/**
 * Peak resident memory of this process. On Linux, getrusage's maxRSS (process.resourceUsage())
 * survives execve: a child spawned by a big parent starts with the parent's RSS at fork time as
 * its maxRSS. VmHWM in /proc/self/status belongs to the new address space, so it is the child's
 * own peak; maxRSS is the fallback where /proc is missing.
 */
export function rssReport(): RssReport {
  const maxRssKiB = process.resourceUsage().maxRSS;
  try {
    const hwm = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return { peakKiB: hwm ? Number(hwm) : maxRssKiB, maxRssKiB };
  } catch {
    return { peakKiB: maxRssKiB, maxRssKiB };
  }
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
