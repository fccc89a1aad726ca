// The local Lambda runtime is AWS's own (Runtime Interface Emulator + Node.js Runtime Interface
// Client): timeouts, re-initialisation, error shapes, init errors and the context object are
// Lambda's. A small fixture function (fixture/index.mjs) reports what the runtime gave it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { InvocationError, LambdaHost, type LambdaHostOptions } from '../../../local/lambda/lambda-host.ts';

jest.setTimeout(30_000);

interface FixtureReply {
  remainingAtStart: number;
  awsRequestId: string;
  functionName: string;
  invokedFunctionArn: string;
  pid: number;
  invocationsInThisRuntime: number;
  leakedVariable: string | null;
  configured: string | null;
}

const FIXTURE = 'tests/integration/runtime/fixture/index.mjs';

/** Alive and not a zombie (a dead process nobody has reaped yet). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const hosts: LambdaHost[] = [];
afterEach(() => {
  for (const host of hosts.splice(0)) host.stop();
});

function fixture(options: Partial<LambdaHostOptions> = {}): LambdaHost {
  const host = new LambdaHost({ bundlePath: FIXTURE, env: {}, timeoutMs: 3000, ...options });
  hosts.push(host);
  return host;
}

const failureOf = (promise: Promise<unknown>): Promise<InvocationError> =>
  promise.then(
    (value) => {
      throw new Error(`expected the invocation to fail, it answered ${JSON.stringify(value)}`);
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(InvocationError);
      return error as InvocationError;
    },
  );

describe('the context object', () => {
  test.each([2000, 5000])('getRemainingTimeInMillis counts down from the configured timeout (%i ms)', async (timeoutMs) => {
    const host = fixture({ timeoutMs });
    await host.invoke({}); // warm: RIE's deadline of a cold invocation also covers the init
    const reply = await host.invoke<FixtureReply>({});
    expect(reply.remainingAtStart).toBeLessThanOrEqual(timeoutMs);
    expect(reply.remainingAtStart).toBeGreaterThan(timeoutMs - 1000);
  });

  test('awsRequestId is the invocation id RIE reports; the function name and ARN are set', async () => {
    const host = fixture();
    const first = await host.invoke<FixtureReply>({});
    const second = await host.invoke<FixtureReply>({});
    expect(first.awsRequestId).toMatch(UUID);
    expect(second.awsRequestId).not.toBe(first.awsRequestId);
    for (const reply of [first, second]) {
      expect(host.platformLogs).toContain(`START RequestId: ${reply.awsRequestId} Version: $LATEST`);
    }
    expect(first).toMatchObject({ functionName: 'fixture', invokedFunctionArn: expect.stringMatching(/^arn:aws:lambda:.*:function:fixture$/) });
  });

  test('the function sees its configured environment, not the environment of the process hosting it', async () => {
    process.env.LEVERAGE_GUARD_HOST_ONLY = 'host secret';
    try {
      const reply = await fixture({ env: { FIXTURE_SETTING: 'configured' } }).invoke<FixtureReply>({});
      expect(reply).toMatchObject({ configured: 'configured', leakedVariable: null });
    } finally {
      delete process.env.LEVERAGE_GUARD_HOST_ONLY;
    }
  });
});

describe('timeouts', () => {
  test('an invocation past the timeout answers "Task timed out"; the next one runs on a re-initialised runtime', async () => {
    const host = fixture({ timeoutMs: 1000 });
    const warm = await host.invoke<FixtureReply>({});
    expect(host.coldStarts).toBe(1);

    const error = await failureOf(host.invoke({ sleepMs: 3000 }));
    expect(error).toMatchObject({ errorType: 'Sandbox.Timedout', phase: 'invoke', message: 'Task timed out after 1.00 seconds' });

    const after = await host.invoke<FixtureReply>({});
    expect(after.pid).not.toBe(warm.pid);
    expect(after.invocationsInThisRuntime).toBe(1); // module state did not survive the reset
    expect(host.coldStarts).toBe(2);
    expect(host.platformLogs.some((line) => line.includes('Reset initiated: Timeout'))).toBe(true);
  });
});

describe('errors', () => {
  test("a thrown error comes back in Lambda's shape and the runtime stays warm", async () => {
    const host = fixture();
    const before = await host.invoke<FixtureReply>({});
    const error = await failureOf(host.invoke({ throwMessage: 'symbol must be uppercase' }));
    expect(error).toMatchObject({ errorType: 'TypeError', message: 'symbol must be uppercase', phase: 'invoke' });
    expect(error.trace[0]).toBe('TypeError: symbol must be uppercase');
    const after = await host.invoke<FixtureReply>({});
    expect(after).toMatchObject({ pid: before.pid, invocationsInThisRuntime: 3 });
    expect(host.coldStarts).toBe(1);
    // The runtime client logs the failure as Lambda does, against the invocation's request id.
    expect(host.logs.some((line) => /\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"symbol must be uppercase"/.test(line))).toBe(true);
  });

  test('an error while loading the function is an init error, and every invocation tries the init again', async () => {
    const host = fixture({ env: { FIXTURE_INIT_ERROR: 'LEVERAGE_CAPS is not JSON' } });
    for (const attempt of [1, 2]) {
      const error = await failureOf(host.invoke({}));
      expect(error).toMatchObject({ phase: 'init', errorType: 'RangeError', message: 'LEVERAGE_CAPS is not JSON' });
      expect(host.coldStarts).toBe(attempt);
    }
    expect(host.logs.some((line) => line.includes('\tERROR\tInit Error \t{"errorType":"RangeError"'))).toBe(true);
  });
});

describe('containers', () => {
  test('concurrent invocations run in separate containers, each initialised once (RIE serves one at a time)', async () => {
    const host = fixture();
    const replies = await Promise.all([host.invoke<FixtureReply>({ sleepMs: 300 }), host.invoke<FixtureReply>({ sleepMs: 300 })]);
    expect(new Set(replies.map((r) => r.pid)).size).toBe(2);
    expect(host.coldStarts).toBe(2);
    // Both are warm now: two more concurrent invocations start nothing new.
    const again = await Promise.all([host.invoke<FixtureReply>({ sleepMs: 300 }), host.invoke<FixtureReply>({ sleepMs: 300 })]);
    expect(new Set(again.map((r) => r.pid))).toEqual(new Set(replies.map((r) => r.pid)));
    expect(host.coldStarts).toBe(2);
  });

  test('at the concurrency limit an invocation waits for a free container instead of overloading one', async () => {
    const host = fixture({ maxConcurrency: 1 });
    const replies = await Promise.all([1, 2, 3].map(() => host.invoke<FixtureReply>({ sleepMs: 100 })));
    expect(replies.map((r) => r.invocationsInThisRuntime).sort()).toEqual([1, 2, 3]);
    expect(new Set(replies.map((r) => r.pid)).size).toBe(1);
    expect(host.coldStarts).toBe(1);
  });

  test('stop() ends every container: the next invocation is a cold start, a running one fails', async () => {
    const host = fixture();
    const warm = await host.invoke<FixtureReply>({});
    const running = failureOf(host.invoke({ sleepMs: 2000 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    host.stop();
    expect(await running).toMatchObject({ errorType: 'Runtime.Exited' });
    const cold = await host.invoke<FixtureReply>({});
    expect(cold.pid).not.toBe(warm.pid);
    expect(cold.invocationsInThisRuntime).toBe(1);
  });

  test('a container does not outlive the process that started it, even one killed outright', async () => {
    const holder = spawn('node', ['--import', 'tsx', 'tests/integration/runtime/fixture/hold-a-container.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const runtimePid = await new Promise<number>((resolve, reject) => {
      holder.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      holder.once('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
    });
    expect(isRunning(runtimePid)).toBe(true);
    holder.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isRunning(runtimePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isRunning(runtimePid)).toBe(false);
  });

  test('a timeout that is not whole seconds is refused, as Lambda refuses it', () => {
    expect(() => fixture({ timeoutMs: 1500 })).toThrow('a Lambda timeout is whole seconds (at least 1); got 1500 ms');
  });
});
