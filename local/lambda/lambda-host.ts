/**
 * The built function on AWS's own Lambda runtime pieces: each "container" is the Runtime Interface
 * Emulator running the bundle through the Node.js Runtime Interface Client (rie-container.ts), so
 * timeouts, error shapes, init errors and the `context` object are Lambda's. This class adds what
 * the Lambda service (not the runtime) does, which RIE does not emulate: scaling out to several
 * containers for concurrent invocations, up to a concurrency limit, and reusing warm ones. Used by
 * the integration tests, the local SQS poller and `npm start`.
 */
import { type ContainerOptions, InvocationError, RieContainer } from './rie-container.ts';
import { locateRuntimePieces } from './runtime-pieces.ts';

export { InvocationError };

export interface LambdaHostOptions {
  bundlePath: string;
  /** The function's environment (merged over this process's PATH only). */
  env: Record<string, string>;
  /** The function timeout; whole seconds, as Lambda (and RIE) configure it. */
  timeoutMs: number;
  /** Containers running at once, like a function's reserved concurrency (default 5, the
   *  deployed value); further invocations wait for a free one. */
  maxConcurrency?: number;
  /** Receives every line the function writes to stdout/stderr (its structured logs). */
  onLog?: (line: string) => void;
}

// Lambda's init phase has its own 10 s budget; RIE counts init inside the invocation's deadline,
// so a cold invocation answers within the timeout. The guard only catches an RIE that hangs.
const UNANSWERED_GUARD_MS = 10_000;
const DEFAULT_MAX_CONCURRENCY = 5;

export class LambdaHost {
  /** The lines the function (and the runtime client on its behalf) wrote, in order. */
  readonly logs: string[] = [];
  /** RIE's own lines: START/END/REPORT, INIT START/RTDONE/REPORT, resets after timeouts. */
  readonly platformLogs: string[] = [];
  /** How many times a runtime was initialised (cold starts, including re-inits after a timeout). */
  coldStarts = 0;

  private readonly idle: RieContainer[] = [];
  private readonly busy = new Set<RieContainer>();
  private starting = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly containerOptions: ContainerOptions;
  private readonly maxConcurrency: number;

  constructor(private readonly options: LambdaHostOptions) {
    if (!Number.isInteger(options.timeoutMs / 1000) || options.timeoutMs < 1000) {
      throw new Error(`a Lambda timeout is whole seconds (at least 1); got ${options.timeoutMs} ms`);
    }
    this.maxConcurrency = options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
    this.containerOptions = {
      pieces: locateRuntimePieces(),
      bundlePath: options.bundlePath,
      env: options.env,
      timeoutSeconds: options.timeoutMs / 1000,
      onFunctionLine: (line) => {
        this.logs.push(line);
        this.options.onLog?.(line);
      },
      onPlatformLine: (line) => this.platformLogs.push(line),
      onInit: () => this.coldStarts++,
    };
  }

  async invoke<T = unknown>(event: unknown): Promise<T> {
    const container = await this.acquire();
    try {
      return (await container.invoke(event, this.options.timeoutMs + UNANSWERED_GUARD_MS)) as T;
    } finally {
      this.release(container);
    }
  }

  /** Kills every container: the next invocation starts a cold one; running ones fail. */
  stop(): void {
    for (const container of [...this.idle, ...this.busy]) container.stop();
    this.idle.length = 0;
  }

  private async acquire(): Promise<RieContainer> {
    for (;;) {
      const warm = this.idle.pop();
      if (warm?.alive) {
        this.busy.add(warm);
        return warm;
      }
      if (warm) continue;
      if (this.busy.size + this.starting < this.maxConcurrency) break;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.starting++;
    try {
      const container = await RieContainer.start(this.containerOptions);
      this.busy.add(container);
      return container;
    } catch (error) {
      this.waiting.shift()?.(); // its turn passes on
      throw error;
    } finally {
      this.starting--;
    }
  }

  private release(container: RieContainer): void {
    this.busy.delete(container);
    if (container.alive) this.idle.push(container);
    this.waiting.shift()?.();
  }
}
