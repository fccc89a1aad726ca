/**
 * In-process fakes of the two AWS APIs the function calls, on one loopback port: Secrets Manager
 * GetSecretValue (JSON 1.1, `X-Amz-Target`) and SNS Publish (Query: form body, XML reply).
 * Chosen over the moto stack for the benchmark because they answer in microseconds and run in
 * the orchestrator's process, so the function's child process is measured alone. Published
 * messages are kept so the benchmark can check every record ended APPLIED.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAws {
  endpoint: string;
  /** Messages published to SNS since the last `takePublished()`. */
  takePublished(): string[];
  close(): Promise<void>;
}

/** @param secrets secret id → SecretString */
export async function startFakeAws(secrets: Record<string, string>): Promise<FakeAws> {
  let published: string[] = [];

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
    if (form.get('Action') !== 'Publish') return reply(res, 400, 'text/xml', errorXml('InvalidAction', `unsupported ${form.get('Action')}`));
    published.push(form.get('Message') ?? '');
    const xml = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`;
    reply(res, 200, 'text/xml', xml);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const target = req.headers['x-amz-target'];
      if (target === 'secretsmanager.GetSecretValue') return secretsManager(body, res);
      if (target === undefined) return sns(body, res);
      reply(res, 400, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'UnknownOperationException', message: String(target) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
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

function reply(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'x-amzn-RequestId': randomUUID() });
  res.end(body);
}

function errorXml(code: string, message: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}
