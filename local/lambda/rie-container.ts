/**
 * One Lambda "container": AWS's Runtime Interface Emulator (aws-lambda-rie) running the bundle
 * through AWS's Node.js Runtime Interface Client (aws-lambda-ric), as AWS's container images do.
 * RIE owns everything Lambda owns: the deadline, "Task timed out", killing and re-initialising the
 * runtime, init errors, the `context` object. This file only starts it on loopback ports, posts
 * invocations, and reads its answers and output. RIE serves one invocation at a time (a second
 * concurrent one crashes it), so LambdaHost never gives a container two at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import type { RuntimePieces } from './runtime-pieces.ts';

const HOST = '127.0.0.1';
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
const START_ATTEMPTS = 5;
const START_TIMEOUT_MS = 10_000;
const KILL_AFTER_MS = 3000;
// util-linux: sets the parent-death signal, then runs the command in the same process.
const SETPRIV = '/usr/bin/setpriv';
// RIE answers a timed-out invocation with this plain text. Lambda reports the same sentence as a
// function error; its type here is the one Lambda's platform reports give a timeout.
const TIMED_OUT = /^Task timed out after [\d.]+ seconds$/;
// RIE's own report lines on stdout, between which the function's output is interleaved.
const PLATFORM_LINE = /^(START|END|REPORT) RequestId: /;
// The runtime finished an init, successfully or not: one per runtime process RIE started.
const INIT_DONE = /\(rapid\) INIT RTDONE\(status: /;

/** A failed invocation as Lambda reports it: `{errorType, errorMessage, trace}`. */
export class InvocationError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
    /** `init`: the function failed to initialise (RIE answers 502); `invoke`: the handler failed. */
    readonly phase: 'init' | 'invoke',
    readonly trace: string[] = [],
  ) {
    super(message);
    this.name = 'InvocationError';
  }
}

export interface ContainerOptions {
  pieces: RuntimePieces;
  bundlePath: string;
  /** The function's environment; RIE passes its own environment to the runtime. */
  env: Record<string, string>;
  timeoutSeconds: number;
  /** A line the function (or the runtime client on its behalf) wrote. */
  onFunctionLine: (line: string) => void;
  /** A line RIE wrote about the invocation lifecycle (START/END/REPORT, INIT..., resets). */
  onPlatformLine: (line: string) => void;
  /** The runtime started and finished an init: a cold start. */
  onInit: () => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Free loopback ports from the OS (port 0), all held at once so they differ, then released for RIE
 * to take. Another process could take one in between; RIE then dies with "address in use" and
 * the container is started again on fresh ports.
 */
async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (buffered + chunk.toString('utf8')).split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line) onLine(line);
  });
  stream.on('end', () => buffered && onLine(buffered));
}

function isLambdaError(value: unknown): value is { errorType: string; errorMessage: string; trace?: string[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { errorType, errorMessage, ...rest } = value as Record<string, unknown>;
  return typeof errorType === 'string' && typeof errorMessage === 'string' && Object.keys(rest).every((key) => key === 'trace');
}

/** The payload as JSON; a body that is not JSON stays text. */
function parsePayload(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

// Containers still running when this process exits are stopped with it (one killed outright is
// covered by the parent-death signal set at spawn).
const running = new Set<RieContainer>();
process.once('exit', () => {
  for (const container of running) container.stop();
});

export class RieContainer {
  private exited = false;
  private stopped = false;
  private readonly exitWaiters = new Set<(error: Error) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    running.add(this);
    child.once('exit', (code, signal) => {
      this.exited = true;
      running.delete(this);
      const error = new InvocationError('Runtime.Exited', `the function container stopped (code ${code}, signal ${signal})`, 'invoke');
      for (const reject of this.exitWaiters) reject(error);
    });
  }

  static async start(options: ContainerOptions): Promise<RieContainer> {
    let lastFailure = '';
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const [emulatorPort, runtimeApiPort] = await freeLoopbackPorts(2);
      const container = RieContainer.spawn(options, emulatorPort!, runtimeApiPort!);
      const failure = await container.waitUntilListening();
      if (!failure) return container;
      container.stop();
      lastFailure = failure;
    }
    throw new Error(`aws-lambda-rie did not start after ${START_ATTEMPTS} attempts: ${lastFailure}`);
  }

  private static spawn(options: ContainerOptions, emulatorPort: number, runtimeApiPort: number): RieContainer {
    const { pieces, bundlePath } = options;
    const taskRoot = path.dirname(path.resolve(bundlePath));
    const handler = `${path.basename(bundlePath).replace(/\.m?js$/, '')}.handler`;
    const rieCommand = [
      pieces.rie,
      '--runtime-interface-emulator-address',
      `${HOST}:${emulatorPort}`,
      '--runtime-api-address',
      `${HOST}:${runtimeApiPort}`,
      pieces.node,
      pieces.ric,
      handler,
    ];
    // RIE dies with this process even when it is killed outright (a jest worker force-exited, a
    // `kill -9`), and the runtime follows RIE: no container outlives the tests or `npm start`.
    const [command, ...args] = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...rieCommand] : rieCommand;
    const child = spawn(command!, args, {
      cwd: taskRoot,
      env: {
        PATH: `${path.dirname(pieces.node)}:${process.env.PATH ?? ''}`,
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: path.basename(taskRoot),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds),
        // What Lambda sets for an on-demand container (Powertools reads it for cold_start).
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const container = new RieContainer(child, emulatorPort);
    // RIE writes its own report lines and the runtime's output to stdout, its log to stderr.
    forEachLine(child.stdout!, (line) => {
      if (container.stopped) return;
      (PLATFORM_LINE.test(line) ? options.onPlatformLine : options.onFunctionLine)(line);
    });
    forEachLine(child.stderr!, (line) => {
      if (container.stopped) return;
      options.onPlatformLine(line);
      if (INIT_DONE.test(line)) options.onInit();
    });
    return container;
  }

  /** Resolves with nothing once RIE accepts connections, or with why it did not. */
  private async waitUntilListening(): Promise<string | undefined> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) return `exited with code ${this.child.exitCode}`;
      if (await isListening(this.port)) return this.exited ? `exited with code ${this.child.exitCode}` : undefined;
      await sleep(20);
    }
    return `not listening on ${HOST}:${this.port} after ${START_TIMEOUT_MS} ms`;
  }

  /** Running and not stopped: can take an invocation. */
  get alive(): boolean {
    return !this.exited && !this.stopped;
  }

  /**
   * Posts one invocation and answers as Lambda's Invoke API would: the payload, or an
   * InvocationError carrying the error's type and message. `guardMs` only catches an emulator that
   * never answers; RIE enforces the function timeout itself.
   */
  invoke(event: unknown, guardMs: number): Promise<unknown> {
    if (!this.alive) return Promise.reject(new InvocationError('Runtime.Exited', 'the function container stopped', 'invoke'));
    return new Promise((resolve, reject) => {
      const onExit = (error: Error) => {
        req.destroy();
        reject(error);
      };
      this.exitWaiters.add(onExit);
      const settle = () => this.exitWaiters.delete(onExit);
      const body = JSON.stringify(event) ?? 'null';
      const req = request(
        { host: HOST, port: this.port, path: INVOKE_PATH, method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            settle();
            try {
              resolve(RieContainer.interpret(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.setTimeout(guardMs, () => {
        settle();
        this.stop();
        req.destroy();
        reject(new InvocationError('Runtime.Unresponsive', `aws-lambda-rie did not answer within ${guardMs} ms`, 'invoke'));
      });
      req.once('error', (error) => {
        settle();
        reject(
          this.stopped
            ? new InvocationError('Runtime.Exited', 'the function container was stopped', 'invoke')
            : new InvocationError('Runtime.Unreachable', `aws-lambda-rie: ${error.message}`, 'invoke'),
        );
      });
      req.end(body);
    });
  }

  /** RIE's answer → the payload, or the InvocationError Lambda would report. */
  private static interpret(status: number, body: string): unknown {
    const parsed = body === '' ? undefined : parsePayload(body);
    if (status === 502) {
      // Init failed: RIE relays what the runtime client posted to /init/error.
      if (isLambdaError(parsed)) throw new InvocationError(parsed.errorType, parsed.errorMessage, 'init', parsed.trace);
      throw new InvocationError('Runtime.ExitError', body || 'the runtime exited during init', 'init');
    }
    if (status !== 200) throw new InvocationError('Runtime.Unknown', `aws-lambda-rie answered HTTP ${status}: ${body}`, 'invoke');
    if (TIMED_OUT.test(body)) throw new InvocationError('Sandbox.Timedout', body, 'invoke');
    // RIE sends no X-Amz-Function-Error header: a function error is known by Lambda's error shape.
    if (isLambdaError(parsed)) throw new InvocationError(parsed.errorType, parsed.errorMessage, 'invoke', parsed.trace);
    return parsed;
  }

  /**
   * Stops RIE, which kills the runtime it started (the runtime has a process group of its own, so
   * only RIE can reach it); SIGKILL follows if RIE lingers. Output after this point is dropped: a
   * stopped container is gone, as in Lambda.
   */
  stop(): void {
    this.stopped = true;
    if (this.exited) return;
    this.child.kill('SIGTERM');
    setTimeout(() => this.exited || this.child.kill('SIGKILL'), KILL_AFTER_MS).unref();
  }
}
