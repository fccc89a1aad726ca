// Runs one benchmark child in a fresh `node` process and returns its result line.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RESULT_MARKER } from './protocol.ts';

export interface ChildRun<T> {
  result: T;
  /** Epoch ms (high resolution) just before the process was spawned. */
  spawnedAt: number;
  /** Lines the child printed besides the result (the function's logs). */
  output: string[];
}

export class ChildFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChildFailedError';
  }
}

const TIMEOUT_MS = 120_000;
/** Linux refuses a single argument above 128 KiB (E2BIG): bigger jobs go through a file. */
const MAX_ARGUMENT_BYTES = 100_000;

export function runChildProcess<T>(script: string, job: unknown, env: Record<string, string> = {}): Promise<ChildRun<T>> {
  let argument = JSON.stringify(job);
  let jobFile: string | undefined;
  if (Buffer.byteLength(argument) > MAX_ARGUMENT_BYTES) {
    const dir = path.join(tmpdir(), 'leverage-guard-bench');
    mkdirSync(dir, { recursive: true });
    jobFile = path.join(dir, `${randomUUID()}.json`);
    writeFileSync(jobFile, argument);
    argument = `@${jobFile}`;
  }
  const spawnedAt = performance.timeOrigin + performance.now();
  const child = spawn(process.execPath, [script, argument], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (jobFile) rmSync(jobFile, { force: true });
      const lines = stdout.split('\n');
      const marked = lines.find((line) => line.startsWith(RESULT_MARKER));
      const output = lines.filter((line) => line && !line.startsWith(RESULT_MARKER));
      const payload = marked ? (JSON.parse(marked.slice(RESULT_MARKER.length)) as T | { error: string }) : undefined;
      if (payload && typeof payload === 'object' && 'error' in payload) return reject(new ChildFailedError(payload.error));
      if (code !== 0 || !payload) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        return reject(new ChildFailedError(`${why}; stderr: ${stderr.trim().slice(-800) || '(empty)'}`));
      }
      resolve({ result: payload, spawnedAt, output });
    });
  });
}
