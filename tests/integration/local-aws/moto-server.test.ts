// Starting and stopping moto, and the environment that lets a child process (the Lambda bundle)
// reach it through the SDK's default configuration chain.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { findFreePort, localAwsEnv, resetMoto, startLocalAws, startMoto, type LocalAws } from '../../../local/aws/index.ts';

jest.setTimeout(30_000);

const run = promisify(execFile);

async function answers(endpoint: string): Promise<boolean> {
  try {
    return (await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

describe('startMoto', () => {
  test('serves on a loopback port, and stop() frees it', async () => {
    const moto = await startMoto();
    expect(moto.endpoint).toBe(`http://127.0.0.1:${moto.port}`);
    expect(await answers(moto.endpoint)).toBe(true);

    await moto.stop();
    expect(await answers(moto.endpoint)).toBe(false);
    await moto.stop(); // a second stop is harmless
  });

  function writeExecutable(path: string, script: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
  }

  const fakeRoots: string[] = [];
  afterAll(() => fakeRoots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  function fakeRepoRoot(): string {
    const root = mkdtempSync(join(tmpdir(), 'fake-repo-'));
    fakeRoots.push(root);
    return root;
  }

  /** A repo root whose `.venv/bin/moto_server` is the given shell script. */
  function fakeMotoRoot(script: string): string {
    const root = fakeRepoRoot();
    writeExecutable(join(root, '.venv/bin/moto_server'), script);
    return root;
  }

  test('runs scripts/setup-python.sh when moto_server is missing', async () => {
    const root = fakeRepoRoot();
    writeExecutable(join(root, 'fake-moto.sh'), 'echo installed-by-setup >&2; exit 4');
    writeExecutable(join(root, 'scripts/setup-python.sh'), 'mkdir -p .venv/bin && cp fake-moto.sh .venv/bin/moto_server');
    await expect(startMoto({ repoRoot: root })).rejects.toThrow(/exited early \(code 4[\s\S]*installed-by-setup/);
  });

  test('a failing setup script is reported', async () => {
    const root = fakeRepoRoot();
    writeExecutable(join(root, 'scripts/setup-python.sh'), 'echo "pip: no network" >&2; exit 1');
    await expect(startMoto({ repoRoot: root })).rejects.toThrow(/setup-python.sh failed \(exit 1\)[\s\S]*pip: no network/);
  });

  test('a moto that dies at start is reported with its stderr', async () => {
    const repoRoot = fakeMotoRoot('echo "boom: broken install" >&2; exit 3');
    await expect(startMoto({ repoRoot })).rejects.toThrow(/exited early \(code 3[\s\S]*boom: broken install/);
  });

  test('a moto that never answers times out with its stderr', async () => {
    const repoRoot = fakeMotoRoot('echo "still importing" >&2; exec sleep 30');
    await expect(startMoto({ repoRoot, startTimeoutMs: 500 })).rejects.toThrow(/did not answer .* within 500 ms:\s+still importing/);
  });

  test('honours a fixed port, and refuses one already in use', async () => {
    const port = await findFreePort();
    const moto = await startMoto({ port });
    try {
      expect(moto.port).toBe(port);
      await expect(startMoto({ port, startTimeoutMs: 10_000 })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      await moto.stop();
    }
  });

  test('resetMoto answers for a live server and fails clearly for a dead one', async () => {
    const moto = await startMoto();
    await resetMoto(moto.endpoint);
    await moto.stop();
    await expect(resetMoto(moto.endpoint)).rejects.toThrow();
  });
});

describe('localAwsEnv', () => {
  let local: LocalAws;
  beforeAll(async () => {
    local = await startLocalAws();
  });
  afterAll(async () => {
    await local?.stop();
  });

  test('a child process with default SDK clients reaches moto through the env alone', async () => {
    await local.clients.sqs.send(new CreateQueueCommand({ QueueName: 'child-visible' }));
    await local.clients.secretsManager.send(new CreateSecretCommand({ Name: 'child/secret', SecretString: '{"k":1}' }));
    // Default-configured clients, exactly as the Lambda bundle builds them: no endpoint, region
    // or credentials in code.
    const script = `
      const { SQSClient, ListQueuesCommand } = require('@aws-sdk/client-sqs');
      const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager');
      (async () => {
        const queues = await new SQSClient({}).send(new ListQueuesCommand({}));
        const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: 'child/secret' }));
        console.log(JSON.stringify({ queues: queues.QueueUrls, secret: secret.SecretString }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    // Real-looking credentials in the parent must not leak through to the child.
    const parentEnv = { ...process.env, AWS_PROFILE: 'someone-real', AWS_SESSION_TOKEN: 'real-token' };
    const { stdout, stderr } = await run(process.execPath, ['-e', script], {
      cwd: process.cwd(),
      env: { ...parentEnv, ...localAwsEnv(local.endpoint) },
      timeout: 15_000,
    });

    expect(JSON.parse(stdout)).toEqual({
      queues: [`${local.endpoint}/123456789012/child-visible`],
      secret: '{"k":1}',
    });
    expect(stderr).toBe('');
  });
});
