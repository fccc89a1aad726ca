/**
 * The SDK clients as index.ts builds them, against a loopback endpoint that accepts connections
 * and never answers: the abort signal from the caller's deadline ends the call (retries
 * included), where the SDK alone would wait for ever.
 */
import net, { type AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CallTimeoutError, SDK_REQUEST_HANDLER, sendWithin } from '../../../../functions/adapters/aws-sdk/bounded-call.ts';
import { type GuardError } from '../../../../functions/domain/errors.ts';
import { MIN_CALL_BUDGET_MS } from '../../../../functions/domain/time-budget.ts';
import { fixedDeadline, rejectionOf } from '../../../support/fakes.ts';

let silent: net.Server;
let sockets: net.Socket[] = [];
let accepted = 0;
let endpoint: string;
beforeEach(async () => {
  accepted = 0;
  sockets = [];
  silent = net.createServer((socket) => {
    accepted++;
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  return new Promise<void>((resolve) => silent.close(() => resolve()));
});

const config = () => ({
  region: 'eu-west-1',
  endpoint,
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
  requestHandler: SDK_REQUEST_HANDLER,
});

test.each([
  ['SNS Publish', () => new SNSClient(config()).send.bind(new SNSClient(config())), () => new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', Message: '{}' })],
  ['Secrets Manager GetSecretValue', () => new SecretsManagerClient(config()).send.bind(new SecretsManagerClient(config())), () => new GetSecretValueCommand({ SecretId: 's' })],
] as const)('%s against a hanging endpoint ends when the deadline runs out', async (_name, sender, command) => {
  const send = sender() as (command: unknown, options: { abortSignal: AbortSignal }) => Promise<unknown>;
  const error = await rejectionOf<CallTimeoutError>(sendWithin(fixedDeadline(300), 'the call', (options) => send(command(), options)));
  expect([error.name, error.message, (error.cause as Error).name]).toEqual(['CallTimeoutError', 'no answer within 300 ms', 'AbortError']);
  expect(accepted).toBe(1);
});

test('a deadline too short for a call: TIME_BUDGET_EXHAUSTED, nothing sent', async () => {
  const client = new SNSClient(config());
  const error = await rejectionOf<GuardError>(
    sendWithin(fixedDeadline(MIN_CALL_BUDGET_MS - 1), 'publishing the outcome', (options) => client.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:1:t', Message: '{}' }), options)),
  );
  expect([error.code, error.message]).toEqual(['TIME_BUDGET_EXHAUSTED', 'not enough invocation time left for publishing the outcome']);
  expect(accepted).toBe(0);
});

test('an error that is not the deadline passes through unchanged', async () => {
  const failure = new Error('AccessDenied');
  await expect(sendWithin(undefined, 'x', () => Promise.reject(failure))).rejects.toBe(failure);
});
