// A hanging AWS dependency never becomes a timed-out invocation. Each case runs the built bundle
// in the local Lambda host with one service's endpoint (AWS_ENDPOINT_URL_<SERVICE>) pointed at a
// loopback server that accepts connections and never answers, and delivers a record on its final
// receive: its FAILED outcome is published (or, when SNS itself hangs, the record is handed back)
// and the partial batch response returns before the function's timeout.
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { LambdaHost } from '../../../local/lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

const MAX_RECEIVE_COUNT = 3;
const FUNCTION_TIMEOUT_MS = 8000;

let guard: LocalLeverageGuard;
let silent: net.Server;
let silentUrl: string;
const sockets: net.Socket[] = [];
let hosts: LambdaHost[] = [];

beforeAll(async () => {
  silent = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  guard = await startLocalLeverageGuard({ name: 'hanging-aws', maxReceiveCount: MAX_RECEIVE_COUNT });
});
afterEach(() => {
  for (const host of hosts) host.stop();
  hosts = [];
});
afterAll(async () => {
  await guard?.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent?.close(() => resolve()));
});

/** The function as the stack runs it, but with `service`'s endpoint hanging. */
function hostWithHanging(service: string): LambdaHost {
  const host = new LambdaHost({
    bundlePath: path.resolve(BUNDLE_PATH),
    env: { ...guard.functionEnv, [`AWS_ENDPOINT_URL_${service}`]: silentUrl },
    timeoutMs: FUNCTION_TIMEOUT_MS,
  });
  hosts.push(host);
  return host;
}

/** An SQS event of one record on its final receive (ApproximateReceiveCount = maxReceiveCount). */
function finalReceive(body: unknown) {
  const messageId = `final-${Math.random().toString(36).slice(2)}`;
  return {
    messageId,
    event: {
      Records: [
        {
          messageId,
          receiptHandle: 'r',
          body: JSON.stringify(body),
          attributes: { ApproximateReceiveCount: String(MAX_RECEIVE_COUNT), SentTimestamp: String(Date.now()) },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: guard.resources.queueArn,
          awsRegion: 'us-east-1',
        },
      ],
    },
  };
}

/**
 * Invokes, and reads from the function's own 'invocation complete' log line how much of its
 * deadline was left when it answered (the host's clock starts after the cold start).
 */
async function invoke(host: LambdaHost, event: unknown): Promise<{ result: SQSBatchResponse; remainingMs: number }> {
  const result = await host.invoke<SQSBatchResponse>(event);
  const complete = host.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.message === 'invocation complete');
  return { result, remainingMs: Number(complete?.remainingMs) };
}

test.each([
  ['Secrets Manager', 'SECRETS_MANAGER', 'CREDENTIALS_UNAVAILABLE'],
  ['DynamoDB (the state table)', 'DYNAMODB', 'STATE_STORE_UNAVAILABLE'],
  ['SSM (the pause switch)', 'SSM', 'PAUSE_SWITCH_UNAVAILABLE'],
])('%s hanging on a final receive: FAILED published, record handed back, before the deadline', async (_name, service, code) => {
  const event = riskEvent({ symbol: 'XRPUSDT', leverage: 4 });
  const { messageId, event: sqsEvent } = finalReceive(event);
  const host = hostWithHanging(service);

  const { result, remainingMs } = await invoke(host, sqsEvent);

  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
  expect(remainingMs).toBeGreaterThan(0);
  const [outcome, ...others] = await guard.readOutcomes(1);
  expect(others).toEqual([]);
  expect(outcome!.body).toMatchObject({ eventId: event.eventId, symbol: 'XRPUSDT', status: 'FAILED', error: { code, retryable: true } });
  expect(JSON.stringify(outcome!.body)).not.toMatch(/arn:aws|\d{12}/);
  expect(guard.simulator.requests().filter((r) => r.path === '/papi/v1/um/leverage')).toEqual([]);
  console.log(`${service} hanging: answered with ${remainingMs} ms of ${FUNCTION_TIMEOUT_MS} ms left`);
});

test('SNS hanging on a final receive: the record is handed back before the deadline', async () => {
  const event = riskEvent({ symbol: 'LINKUSDT', leverage: 4 });
  const { messageId, event: sqsEvent } = finalReceive(event);
  const host = hostWithHanging('SNS');

  const { result, remainingMs } = await invoke(host, sqsEvent);

  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: messageId }] });
  expect(remainingMs).toBeGreaterThan(0);
  // The change itself went through; only its outcome could not be published, so it comes back.
  expect(guard.simulator.leverageOf('desk-1', 'LINKUSDT')).toBe(4);
  expect(await guard.readOutcomes(1, 1000)).toEqual([]);
  console.log(`SNS hanging: answered with ${remainingMs} ms of ${FUNCTION_TIMEOUT_MS} ms left`);
});
