/**
 * In-process fakes of the AWS APIs the function calls, on one loopback port: Secrets Manager
 * GetSecretValue (JSON 1.1), SNS Publish and PublishBatch (Query: form body, XML reply), DynamoDB GetItem /
 * PutItem / UpdateItem (JSON 1.0, see local/aws/in-memory-dynamodb.ts) and SSM GetParameter (JSON 1.1).
 * Chosen over the moto stack for the benchmark because they answer in microseconds, serve
 * concurrent requests without queuing behind one Python process, and run in the orchestrator's
 * process, so the function's child process is measured alone. Published messages and the
 * tables are kept so the benchmark can check every record's outcome and state.
 *
 * Every request is logged (service, operation, arrival and reply time) and can be answered after a
 * fixed injected latency (`setLatencyMs`): with every AWS call taking at least that long, the time
 * the exchange sees the change after the invocation started tells how many AWS calls stood in
 * sequence before it, and the log tells which calls each record cost.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DynamoDbError, FakeDynamoDb } from '../local/aws/in-memory-dynamodb.ts';

export interface FakeAwsData {
  /** secret id → SecretString */
  secrets: Record<string, string>;
  /** SSM parameter name → value */
  parameters: Record<string, string>;
}

/** One AWS request as the fake saw it. Times are epoch ms, high resolution (performance clock). */
export interface AwsCall {
  /** SecretsManager, SNS, DynamoDB, SSM */
  service: string;
  /** GetSecretValue, Publish, PublishBatch, GetItem, TransactWriteItems, GetParameter, … */
  operation: string;
  arrivedAt: number;
  repliedAt: number;
}

export interface FakeAws {
  endpoint: string;
  dynamodb: FakeDynamoDb;
  /** Delay every answer by this much from now on (0 = answer at once). */
  setLatencyMs(ms: number): void;
  /** The requests answered since the last `takeCalls()`. */
  takeCalls(): AwsCall[];
  /** Messages published to SNS since the last `takePublished()`. */
  takePublished(): string[];
  close(): Promise<void>;
}

export async function startFakeAws({ secrets, parameters }: FakeAwsData): Promise<FakeAws> {
  let published: string[] = [];
  let calls: AwsCall[] = [];
  let latencyMs = 0;
  const dynamodb = new FakeDynamoDb();

  const json = (res: ServerResponse, version: string, status: number, body: object) =>
    reply(res, status, `application/x-amz-json-${version}`, JSON.stringify(body));

  const dynamo = (operation: string, body: string, res: ServerResponse) => {
    try {
      json(res, '1.0', 200, dynamodb.handle(operation, JSON.parse(body)));
    } catch (error) {
      if (!(error instanceof DynamoDbError)) throw error;
      json(res, '1.0', 400, { __type: `com.amazonaws.dynamodb.v20120810#${error.type}`, message: error.message, ...error.details });
    }
  };

  const ssm = (operation: string, body: string, res: ServerResponse) => {
    const { Name } = JSON.parse(body) as { Name: string };
    const value = parameters[Name];
    if (operation !== 'GetParameter') return json(res, '1.1', 400, { __type: 'UnsupportedOperation', message: operation });
    if (value === undefined) return json(res, '1.1', 400, { __type: 'ParameterNotFound', message: `no parameter ${Name}` });
    json(res, '1.1', 200, { Parameter: { Name, Type: 'String', Value: value, Version: 1, ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${Name}` } });
  };

  const secretsManager = (body: string, res: ServerResponse) => {
    const { SecretId } = JSON.parse(body) as { SecretId: string };
    const secret = secrets[SecretId];
    if (secret === undefined) {
      return reply(res, 400, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'ResourceNotFoundException', message: `no secret ${SecretId}` }));
    }
    const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${SecretId}`;
    reply(res, 200, 'application/x-amz-json-1.1', JSON.stringify({ ARN: arn, Name: SecretId, SecretString: secret, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 0 }));
  };

  const sns = (body: string, res: ServerResponse) => {
    const form = new URLSearchParams(body);
    const action = form.get('Action');
    if (action === 'Publish') {
      published.push(form.get('Message') ?? '');
      return reply(res, 200, 'text/xml', snsXml('Publish', `<MessageId>${randomUUID()}</MessageId>`));
    }
    if (action !== 'PublishBatch') return reply(res, 400, 'text/xml', errorXml('InvalidAction', `unsupported ${action}`));
    // Entries are PublishBatchRequestEntries.member.N.{Id,Message,MessageAttributes...}, N from 1.
    const successful: string[] = [];
    for (let n = 1; form.has(`PublishBatchRequestEntries.member.${n}.Id`); n++) {
      published.push(form.get(`PublishBatchRequestEntries.member.${n}.Message`) ?? '');
      successful.push(`<member><Id>${form.get(`PublishBatchRequestEntries.member.${n}.Id`)}</Id><MessageId>${randomUUID()}</MessageId></member>`);
    }
    reply(res, 200, 'text/xml', snsXml('PublishBatch', `<Successful>${successful.join('')}</Successful><Failed/>`));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const arrivedAt = now();
      const body = Buffer.concat(chunks).toString('utf8');
      const call = identify(req, body);
      const answer = () => {
        calls.push({ ...call, arrivedAt, repliedAt: now() });
        route(req, body, res);
      };
      if (latencyMs > 0) setTimeout(answer, latencyMs);
      else answer();
    });
  });

  const route = (req: IncomingMessage, body: string, res: ServerResponse) => {
    const target = req.headers['x-amz-target'];
    if (target === undefined) return sns(body, res);
    const [service, operation = ''] = String(target).split('.');
    if (target === 'secretsmanager.GetSecretValue') return secretsManager(body, res);
    if (service === 'DynamoDB_20120810') return dynamo(operation, body, res);
    if (service === 'AmazonSSM') return ssm(operation, body, res);
    reply(res, 400, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'UnknownOperationException', message: String(target) }));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dynamodb,
    setLatencyMs: (ms) => {
      latencyMs = ms;
    },
    takeCalls: () => {
      const taken = calls;
      calls = [];
      return taken;
    },
    takePublished: () => {
      const taken = published;
      published = [];
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const now = () => performance.timeOrigin + performance.now();

const SERVICES: Record<string, string> = { secretsmanager: 'SecretsManager', DynamoDB_20120810: 'DynamoDB', AmazonSSM: 'SSM' };

/** Service and operation of a request: JSON protocols name them in X-Amz-Target, SNS (Query) in the form's Action. */
function identify(req: IncomingMessage, body: string): Pick<AwsCall, 'service' | 'operation'> {
  const target = req.headers['x-amz-target'];
  if (target === undefined) return { service: 'SNS', operation: new URLSearchParams(body).get('Action') ?? '?' };
  const [service = '', operation = '?'] = String(target).split('.');
  return { service: SERVICES[service] ?? service, operation };
}

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'x-amzn-RequestId': randomUUID() });
  res.end(body);
}

function snsXml(action: string, result: string): string {
  return `<${action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}
