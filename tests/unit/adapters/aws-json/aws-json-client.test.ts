/**
 * The small AWS JSON client against loopback servers: where it sends, what it sends, how it reads
 * errors, and whether its SigV4 signature is the one the real AWS SDK computes for the same request.
 *
 * Time: only `Date` is faked (to a fixed instant), so both clients sign at the same second while
 * sockets and timers stay real. Credentials come from the environment (the SDK's default chain, as
 * in Lambda); config and credential files are pointed at nothing so the machine's own do not leak in.
 */
import { createHash, createHmac } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand, type ServiceInputTypes, type ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { type AwsJsonService, AwsServiceError, createAwsJsonClient } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { DYNAMODB_JSON } from '../../../../functions/adapters/dynamodb/state-store.ts';
import { SSM_JSON } from '../../../../functions/adapters/ssm/pause-switch.ts';
import type { TransportError } from '../../../../functions/adapters/http/keep-alive-client.ts';
import type { RetryableError } from '../../../../functions/domain/errors.ts';
import { MIN_CALL_BUDGET_MS } from '../../../../functions/domain/time-budget.ts';
import { rejectionOf } from '../../../support/fakes.ts';

const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);
const AMZ_DATE = '20261125T100000Z';
const ACCESS_KEY = 'AKIDEXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const REGION = 'eu-west-1';

// The adapters' own protocol constants, so the table below checks what production sends.
const DYNAMODB: AwsJsonService = DYNAMODB_JSON;
const SSM: AwsJsonService = SSM_JSON;

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
type ServerReply = { status?: number; body?: string };

/** A loopback AWS endpoint: records each request, answers from its script, then `200 {}`. */
class LoopbackAws {
  readonly requests: Seen[] = [];
  private readonly replies: ServerReply[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = this.replies.shift() ?? {};
      res.sendDate = false; // no Date header: the SDK must not adjust its clock
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(reply.body ?? '{}');
    });
  });

  static async start(): Promise<LoopbackAws> {
    const loopback = new LoopbackAws();
    await new Promise<void>((resolve) => loopback.server.listen(0, '127.0.0.1', resolve));
    return loopback;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reply(...replies: ServerReply[]): this {
    this.replies.push(...replies);
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const CREDENTIAL_ENV = {
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: undefined,
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_DYNAMODB: undefined,
  AWS_ENDPOINT_URL_SSM: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

function setEnv(values: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

let saved: Record<string, string | undefined>;
let server: LoopbackAws;
beforeEach(async () => {
  saved = Object.fromEntries(Object.keys(CREDENTIAL_ENV).map((name) => [name, process.env[name]]));
  setEnv(CREDENTIAL_ENV);
  jest.useFakeTimers({
    now: NOW,
    doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'],
  });
  server = await LoopbackAws.start();
});
afterEach(async () => {
  jest.useRealTimers();
  setEnv(saved);
  await server.close();
});

interface Authorization {
  Credential: string;
  SignedHeaders: string;
  Signature: string;
}

/** Authorization header parts: Credential, SignedHeaders, Signature. */
function authorization(seen: Seen | undefined): Authorization {
  const header = String(seen?.headers.authorization ?? '');
  expect(header).toMatch(/^AWS4-HMAC-SHA256 Credential=[^,]+, SignedHeaders=[^,]+, Signature=[0-9a-f]+$/);
  const parts = Object.fromEntries(header.slice('AWS4-HMAC-SHA256 '.length).split(', ').map((part) => part.split('=')));
  return { Credential: parts.Credential, SignedHeaders: parts.SignedHeaders, Signature: parts.Signature };
}

/**
 * SigV4 recomputed from scratch (node:crypto and the AWS documentation only) over a request as the
 * server received it: canonical request, string to sign, derived key, signature.
 */
function expectedSignature(seen: Seen, secretKey: string): string {
  const { Credential, SignedHeaders } = authorization(seen);
  const [, date = '', region = '', service = ''] = Credential.split('/');
  const names = SignedHeaders.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(seen.headers[name]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const [path = '/', query = ''] = seen.url.split('?');
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const canonicalRequest = [seen.method, path, query, canonicalHeaders, SignedHeaders, sha256(seen.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', String(seen.headers['x-amz-date']), scope, sha256(canonicalRequest)].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = [date, region, service, 'aws4_request'].reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${secretKey}`);
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex');
}

describe('createAwsJsonClient: the endpoint', () => {
  let other: LoopbackAws;
  beforeEach(async () => {
    other = await LoopbackAws.start();
  });
  afterEach(() => other.close());

  test.each([
    ['AWS_ENDPOINT_URL_DYNAMODB beats AWS_ENDPOINT_URL', DYNAMODB, { AWS_ENDPOINT_URL: 'other', AWS_ENDPOINT_URL_DYNAMODB: 'server' }, 'server'],
    ['AWS_ENDPOINT_URL alone', DYNAMODB, { AWS_ENDPOINT_URL: 'server' }, 'server'],
    ['another service\'s variable does not apply', DYNAMODB, { AWS_ENDPOINT_URL: 'server', AWS_ENDPOINT_URL_SSM: 'other' }, 'server'],
    ['AWS_ENDPOINT_URL_SSM for SSM', SSM, { AWS_ENDPOINT_URL: 'other', AWS_ENDPOINT_URL_SSM: 'server', AWS_ENDPOINT_URL_DYNAMODB: 'other' }, 'server'],
  ] as const)('%s', async (_name, spec, variables, chosen) => {
    const urls = { server: server.url, other: other.url };
    const env = Object.fromEntries(Object.entries(variables).map(([name, which]) => [name, urls[which]]));
    await createAwsJsonClient(spec, { AWS_REGION: REGION, ...env })('Anything', {});
    expect([server.requests.length, other.requests.length]).toEqual(chosen === 'server' ? [1, 0] : [0, 1]);
  });

  test('the endpoint\'s path is kept', async () => {
    await createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: `${server.url}/prefix/` })('GetItem', {});
    expect(server.requests[0]?.url).toBe('/prefix/');
  });

  test.each([
    ['AWS_REGION', { AWS_REGION: 'ap-northeast-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'ap-northeast-1'],
    ['AWS_DEFAULT_REGION when AWS_REGION is unset', { AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
    ['us-east-1 when neither is set', {}, 'us-east-1'],
  ])('the signing region: %s', async (_name, regions, region) => {
    await createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: server.url, ...regions })('GetItem', {});
    expect(authorization(server.requests[0]).Credential).toBe(`${ACCESS_KEY}/20261125/${region}/dynamodb/aws4_request`);
  });
});

describe('createAwsJsonClient: the request', () => {
  test.each([
    ['DynamoDB (JSON 1.0)', DYNAMODB, 'UpdateItem', 'DynamoDB_20120810.UpdateItem', 'application/x-amz-json-1.0'],
    ['SSM (JSON 1.1)', SSM, 'GetParameter', 'AmazonSSM.GetParameter', 'application/x-amz-json-1.1'],
  ])('%s: one signed POST with the target, content type and the input as JSON', async (_name, spec, operation, target, contentType) => {
    const input = { Name: '/p', Nested: { list: [1, 'two'] } };
    await createAwsJsonClient(spec, { AWS_REGION: REGION, AWS_ENDPOINT_URL: server.url })(operation, input);
    const [seen] = server.requests;
    expect([seen?.method, seen?.url, seen?.body]).toEqual(['POST', '/', JSON.stringify(input)]);
    expect(seen?.headers).toMatchObject({
      'x-amz-target': target,
      'content-type': contentType,
      'x-amz-date': AMZ_DATE,
      host: server.url.slice('http://'.length),
    });
    expect(authorization(seen)).toEqual({
      Credential: `${ACCESS_KEY}/20261125/${REGION}/${spec.service}/aws4_request`,
      SignedHeaders: 'content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target',
      Signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(authorization(seen).Signature).toBe(expectedSignature(seen!, SECRET_KEY));
  });

  test('temporary credentials (as in Lambda): the session token is sent and signed', async () => {
    setEnv({ AWS_SESSION_TOKEN: 'session-token-1' });
    await createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: server.url })('GetItem', {});
    const [seen] = server.requests;
    expect(seen?.headers['x-amz-security-token']).toBe('session-token-1');
    expect(authorization(seen).SignedHeaders.split(';')).toContain('x-amz-security-token');
    expect(authorization(seen).Signature).toBe(expectedSignature(seen!, SECRET_KEY));
  });

  test('a signature made with another secret does not verify (the check above can fail)', async () => {
    await createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: server.url })('GetItem', {});
    expect(authorization(server.requests[0]).Signature).not.toBe(expectedSignature(server.requests[0]!, `${SECRET_KEY}x`));
  });
});

describe('createAwsJsonClient: the answer', () => {
  const call = () => createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: server.url });

  test.each([
    ['a JSON object', '{"Item":{"pk":{"S":"x"}}}', { Item: { pk: { S: 'x' } } }],
    ['an empty body', '', {}],
  ])('200 with %s', async (_name, body, parsed) => {
    server.reply({ body });
    await expect(call()('GetItem', {})).resolves.toEqual(parsed);
  });

  test.each([
    ['DynamoDB: the exception after the namespace', 400,
      '{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}',
      ['ConditionalCheckFailedException', 'The conditional request failed', 400]],
    ['SSM: a bare exception name, message in "message"', 400, '{"__type":"ParameterNotFound","message":"Parameter /p not found."}',
      ['ParameterNotFound', 'Parameter /p not found.', 400]],
    ['"Message" with a capital M', 400, '{"__type":"com.amazon.coral.service#AccessDeniedException","Message":"User is not authorized"}',
      ['AccessDeniedException', 'User is not authorized', 400]],
    ['a 5xx without a body', 503, '', ['HTTP_503', 'HTTP 503', 503]],
    ['a 5xx with a JSON body but no __type', 500, '{"message":"internal"}', ['HTTP_500', 'internal', 500]],
  ])('%s: AwsServiceError(errorName, message, statusCode)', async (_name, status, body, [errorName, message, statusCode]) => {
    server.reply({ status, body });
    const error = await rejectionOf<AwsServiceError>(call()('GetItem', {}));
    expect(error).toBeInstanceOf(AwsServiceError);
    expect([error.errorName, error.name, error.message, error.statusCode]).toEqual([errorName, errorName, message, statusCode]);
  });

  test('an error type with a ":" suffix is sanitised like the SDK does', async () => {
    server.reply({ status: 400, body: '{"__type":"ConditionalCheckFailedException:http://internal.amazon.com/coral/com.amazon.coral.validate/","message":"x"}' });
    expect((await rejectionOf<AwsServiceError>(call()('UpdateItem', {}))).errorName).toBe('ConditionalCheckFailedException');
  });

  test.each([
    ['a proxy\'s HTML error page', 502, '<html>Bad Gateway</html>'],
    ['a truncated 200', 200, '{"Item":'],
  ])('%s: rejects rather than resolving with something that is not the answer', async (_name, status, body) => {
    server.reply({ status, body });
    await expect(call()('GetItem', {})).rejects.toThrow();
  });

  test('a connection refused is thrown as is (callers map it to their own retryable error)', async () => {
    const closed = await LoopbackAws.start();
    const url = closed.url;
    await closed.close();
    const error = await rejectionOf<NodeJS.ErrnoException>(createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: url })('GetItem', {}));
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe('createAwsJsonClient: bounded by the caller\'s deadline', () => {
  let silent: net.Server;
  let silentUrl: string;
  const sockets: net.Socket[] = [];
  beforeEach(async () => {
    // Accepts connections and never answers: a hanging endpoint.
    silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  test('a hanging endpoint is given up when the deadline runs out, not after the client\'s own 5 s', async () => {
    const call = createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: silentUrl });
    const error = await rejectionOf<TransportError>(call('GetItem', {}, { remainingMs: () => 150 }));
    expect([error.name, error.kind, error.message]).toEqual(['TransportError', 'timeout', 'no response within 150 ms']);
  });

  test('a deadline too short for a call: TIME_BUDGET_EXHAUSTED, nothing sent', async () => {
    const call = createAwsJsonClient(DYNAMODB, { AWS_ENDPOINT_URL: server.url });
    const error = await rejectionOf<RetryableError>(call('GetItem', {}, { remainingMs: () => MIN_CALL_BUDGET_MS - 1 }));
    expect([error.constructor.name, error.code, error.message]).toEqual(['RetryableError', 'TIME_BUDGET_EXHAUSTED', 'not enough invocation time left for dynamodb GetItem']);
    expect(server.requests).toEqual([]);
  });
});

describe('createAwsJsonClient signs exactly like the AWS SDK', () => {
  // The SDK's GetItem serialises its members in model order; the same order here gives the same body.
  const input = { TableName: 'leverage-guard-state', Key: { pk: { S: 'key#desk-2#BTCUSDT' } }, ConsistentRead: true };
  /** Headers the SDK adds and signs (invocation id, attempt, its user agent, content length) that ours does not send. */
  const SDK_ONLY = ['amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-user-agent', 'content-length'];

  const stripSdkOnlyHeaders: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    const request = args.request as { headers: Record<string, string> };
    for (const name of Object.keys(request.headers)) if (SDK_ONLY.includes(name.toLowerCase())) delete request.headers[name];
    return next(args);
  };

  function sdkClient(stripExtras: boolean): DynamoDBClient {
    setEnv({ AWS_ENDPOINT_URL_DYNAMODB: server.url });
    const client = new DynamoDBClient({ maxAttempts: 1 });
    if (stripExtras) {
      // Right before signing, so the SDK signs the very header set ours sends.
      client.middlewareStack.addRelativeTo(stripSdkOnlyHeaders, { name: 'stripSdkOnlyHeaders', relation: 'before', toMiddleware: 'httpSigningMiddleware' });
    }
    return client;
  }

  test('same instant, same credentials, same request: the same Authorization header, byte for byte', async () => {
    await createAwsJsonClient(DYNAMODB, { AWS_REGION: REGION, AWS_ENDPOINT_URL_DYNAMODB: server.url })('GetItem', input);
    await sdkClient(true).send(new GetItemCommand(input));

    const [ours, sdk] = server.requests;
    expect(sdk?.body).toBe(ours?.body);
    expect(authorization(sdk).SignedHeaders).toBe(authorization(ours).SignedHeaders);
    expect(ours?.headers.authorization).toBe(sdk?.headers.authorization);
  });

  test('the SDK as shipped signs more headers; the from-scratch SigV4 reproduces its signature and accepts ours', async () => {
    await createAwsJsonClient(DYNAMODB, { AWS_REGION: REGION, AWS_ENDPOINT_URL_DYNAMODB: server.url })('GetItem', input);
    await sdkClient(false).send(new GetItemCommand(input));

    const [ours, sdk] = server.requests;
    expect(authorization(sdk).SignedHeaders.split(';')).toEqual(expect.arrayContaining(['amz-sdk-invocation-id', 'x-amz-user-agent']));
    expect(authorization(sdk).Credential).toBe(authorization(ours).Credential);
    expect(expectedSignature(sdk!, SECRET_KEY)).toBe(authorization(sdk).Signature);
    expect(expectedSignature(ours!, SECRET_KEY)).toBe(authorization(ours).Signature);
  });
});
