// Starts and stops a loopback moto server (all AWS services on one port) for local runs and
// integration tests. moto cannot run Lambda functions, so callers pair it with the SQS poller.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';

export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Fixed port; a free loopback port is chosen when omitted. */
  port?: number;
  /** How long to wait for moto to answer before giving up (default 30 s). */
  startTimeoutMs?: number;
  /** Repository root holding `.venv/` and `scripts/setup-python.sh` (default: the nearest
   *  directory at or above process.cwd() that has `scripts/setup-python.sh`). */
  repoRoot?: string;
}

const HOST = '127.0.0.1';
const STDERR_TAIL_CHARS = 4000;

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (bound ? resolvePort(bound) : reject(new Error('no port assigned'))));
    });
  });
}

/** Asks the OS for a free port by binding port 0, then releases it for moto to take. */
export function findFreePort(): Promise<number> {
  return listenOnce(0);
}

/**
 * A fixed port must be checked up front: if another server already answers there, the readiness
 * poll would take it for our moto (which is about to die with "address in use").
 */
async function assertPortFree(port: number): Promise<void> {
  try {
    await listenOnce(port);
  } catch (error) {
    throw new Error(`cannot start moto_server: port ${port} on ${HOST} is in use (${String(error)})`);
  }
}

const SETUP_SCRIPT = 'scripts/setup-python.sh';

// Walks up from the working directory, so jest or tsx started in a subfolder still finds .venv.
function findRepoRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, SETUP_SCRIPT))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

function ensureMotoInstalled(repoRoot: string): string {
  const binary = resolve(repoRoot, '.venv/bin/moto_server');
  if (existsSync(binary)) return binary;
  const setup = spawnSync('bash', [resolve(repoRoot, SETUP_SCRIPT)], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (setup.status !== 0 || !existsSync(binary)) {
    throw new Error(
      `${SETUP_SCRIPT} failed (exit ${setup.status}); moto_server not installed:\n${setup.stderr}`,
    );
  }
  return binary;
}

async function isAnswering(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  hasClosed: () => boolean,
  timeoutMs: number,
  stderrTail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // 'close' (not 'exit') so the stderr pipe has been read to the end: the error names the cause.
    if (hasClosed()) {
      throw new Error(
        `moto_server exited early (code ${child.exitCode}, signal ${child.signalCode}):\n${stderrTail()}`,
      );
    }
    if (await isAnswering(endpoint)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within ${timeoutMs} ms:\n${stderrTail()}`);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

/** SIGTERM first so werkzeug shuts down cleanly; SIGKILL if it lingers. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await waitForExit(child, 3000)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 3000);
}

export async function startMoto(options: StartMotoOptions = {}): Promise<MotoServer> {
  const repoRoot = options.repoRoot ?? findRepoRoot(process.cwd());
  const binary = ensureMotoInstalled(repoRoot);
  if (options.port !== undefined) await assertPortFree(options.port);
  const port = options.port ?? (await findFreePort());
  const endpoint = `http://${HOST}:${port}`;

  const child = spawn(binary, ['-H', HOST, '-p', String(port)], {
    cwd: repoRoot,
    // DynamoDB's item operations and transactions made atomic under concurrent requests (see there).
    env: { ...process.env, PYTHONPATH: resolve(repoRoot, 'local/aws/moto-patches') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Keep only the tail of stderr: moto logs every request there, which is unbounded.
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  let closed = false;
  child.once('close', () => {
    closed = true;
  });
  // A forgotten stop() must neither keep the test runner alive nor leave moto behind.
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };

  try {
    await waitUntilAnswering(endpoint, child, () => closed, options.startTimeoutMs ?? 30_000, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, stop };
}

/** Wipes every moto backend (queues, topics, secrets, rules...) so a suite can start clean. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}
