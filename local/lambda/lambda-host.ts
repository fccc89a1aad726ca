/**
 * Runs a built handler bundle the way Lambda does: in its own process ("container") with its own
 * environment, initialised once and then invoked many times (warm), with a per-invocation timeout
 * after which the container is killed and replaced. Used by the integration tests, the local SQS
 * poller and `npm start`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { InvokeReply, InvokeRequest } from './protocol.ts';

export interface LambdaHostOptions {
  bundlePath: string;
  /** The function's environment (merged over this process's PATH only). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Receives every line the function writes to stdout/stderr (its structured logs). */
  onLog?: (line: string) => void;
}

export class InvocationError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvocationError';
  }
}

export class LambdaHost {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly logs: string[] = [];
  /** How many containers were started (cold starts). */
  coldStarts = 0;

  constructor(private readonly options: LambdaHostOptions) {}

  async invoke<T = unknown>(event: unknown): Promise<T> {
    await this.start();
    const id = this.nextId++;
    const request: InvokeRequest = { id, event, timeoutMs: this.options.timeoutMs };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.stop();
        reject(new InvocationError('Timeout', `Task timed out after ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs + 1000);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child!.send(request);
    });
  }

  stop(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    for (const [id, waiter] of this.pending) {
      this.pending.delete(id);
      waiter.reject(new InvocationError('Runtime.Exited', 'the function container stopped'));
    }
  }

  private start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const runtime = path.resolve('local/lambda/runtime.ts');
      const child = fork(runtime, [path.resolve(this.options.bundlePath)], {
        execArgv: ['--import', 'tsx'],
        env: { PATH: process.env.PATH ?? '', ...this.options.env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      this.child = child;
      this.coldStarts++;
      for (const stream of [child.stdout!, child.stderr!]) {
        let buffered = '';
        stream.on('data', (chunk: Buffer) => {
          const lines = (buffered + chunk.toString('utf8')).split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) this.record(line);
        });
      }
      child.on('message', (reply: InvokeReply) => {
        if (reply.type === 'ready') return resolve();
        if (reply.type === 'init-error') return reject(new InvocationError('Runtime.InitError', reply.message));
        const waiter = this.pending.get(reply.id);
        this.pending.delete(reply.id);
        if (reply.type === 'result') waiter?.resolve(reply.result);
        else waiter?.reject(new InvocationError(reply.error.name, reply.error.message));
      });
      child.on('exit', (code) => {
        if (this.child === child) this.stop();
        reject(new InvocationError('Runtime.ExitError', `the function container exited with code ${code}`));
      });
    });
    return this.ready;
  }

  private record(line: string): void {
    if (!line) return;
    this.logs.push(line);
    this.options.onLog?.(line);
  }
}
