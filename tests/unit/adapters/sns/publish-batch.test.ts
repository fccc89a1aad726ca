/**
 * SNS PublishBatch over the wire (publish-batch.ts) against a loopback server: the form it sends
 * (checked against what @aws-sdk/client-sns sends for the same input), its SigV4 signature (checked
 * against the SDK's signer, @smithy/signature-v4), the endpoint it picks, and how it reads SNS's
 * XML replies: strictly, failing every entry of the request on anything it cannot read.
 * Credentials come from the environment (the SDK's default chain, as in Lambda).
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsServiceError } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { attributesOf, SnsOutcomePublisher } from '../../../../functions/adapters/sns/outcome-publisher.ts';
import {
  createPublishBatchCall,
  encodePublishBatch,
  type PublishBatchInput,
  parsePublishBatchReply,
} from '../../../../functions/adapters/sns/publish-batch.ts';
import type { RetryableError } from '../../../../functions/domain/errors.ts';
import type { Outcome } from '../../../../functions/domain/outcome.ts';
import { fixedDeadline, rejectionOf } from '../../../support/fakes.ts';

const ACCESS_KEY = 'AKIDEXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEFoaDGV1LXdlc3QtMSJHMEUCIQ/token+==';
const REGION = 'eu-west-1';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:leverage-guard-outcomes';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A scripted answer, or none: the request hangs, or its connection is reset. */
type Reply = { status: number; body: string } | 'hang' | 'reset';

/** Answers each request with the next scripted reply, by default SNS accepting every entry. */
class LoopbackSns {
  readonly requests: Seen[] = [];
  private readonly replies: Reply[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      this.requests.push({ url: req.url ?? '', headers: req.headers, body });
      const reply = this.replies.shift() ?? { status: 200, body: acceptEvery(body) };
      if (reply === 'hang') return;
      if (reply === 'reset') return req.socket.destroy();
      res.writeHead(reply.status, { 'content-type': 'text/xml' });
      res.end(reply.body);
    });
  });

  static async start(): Promise<LoopbackSns> {
    const loopback = new LoopbackSns();
    await new Promise<void>((resolve) => loopback.server.listen(0, '127.0.0.1', resolve));
    return loopback;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reply(...replies: Reply[]): this {
    this.replies.push(...replies);
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** SNS's reply taking every entry of the form `body`. */
function acceptEvery(body: string): string {
  const form = new URLSearchParams(body);
  const members: string[] = [];
  for (let n = 1; form.has(`PublishBatchRequestEntries.member.${n}.Id`); n++) {
    members.push(`<member><Id>${form.get(`PublishBatchRequestEntries.member.${n}.Id`)}</Id><MessageId>m-${n}</MessageId></member>`);
  }
  return batchResponse(`<Successful>${members.join('')}</Successful><Failed/>`);
}

/** A PublishBatchResponse as SNS writes it: declaration, namespace, request metadata. */
function batchResponse(result: string): string {
  return (
    '<?xml version="1.0"?>\n<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">\n  ' +
    `<PublishBatchResult>${result}</PublishBatchResult>\n  <ResponseMetadata><RequestId>8d7a1f0c-1e4b-5b1e-9f8e-0a1b2c3d4e5f</RequestId></ResponseMetadata>\n</PublishBatchResponse>\n`
  );
}

const CREDENTIAL_ENV = {
  AWS_ACCESS_KEY_ID: ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: SECRET_KEY,
  AWS_SESSION_TOKEN: SESSION_TOKEN,
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

let saved: Record<string, string | undefined>;
let server: LoopbackSns;
beforeEach(async () => {
  saved = Object.fromEntries(Object.keys(CREDENTIAL_ENV).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(CREDENTIAL_ENV)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  server = await LoopbackSns.start();
});
afterEach(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server.close();
});

const outcome = (n: number, extra: Partial<Outcome> = {}): Outcome => ({
  eventId: `evt-${n}`,
  accountId: 'desk-2',
  symbol: `SYM${n}USDT`,
  requestedLeverage: 5,
  status: 'APPLIED',
  leverage: 5,
  trigger: 'sqs',
  processedAt: '2026-11-25T10:00:00.250Z',
  durationMs: 12,
  ...extra,
});

/** What characters the encoding must get right: reserved ones, `+` (a space in HTML forms), UTF-8 of every width, newlines. */
const AWKWARD = 'a+b c&d=e%f/g?h#i!j\'k(l)m*n~o "quoted" <tag> \\ \n\r\t é 中文 🚀 \u2028';

function inputOf(outcomes: Outcome[]): PublishBatchInput {
  return {
    TopicArn: TOPIC,
    PublishBatchRequestEntries: outcomes.map((o, n) => ({ Id: String(n), Message: JSON.stringify(o), MessageAttributes: attributesOf(o) })),
  };
}

/** The form's fields, in a stable order: what a Query-protocol server reads. */
const fieldsOf = (body: string) => [...new URLSearchParams(body)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

describe('the PublishBatch request', () => {
  const outcomes = [outcome(0), outcome(1, { metadata: { note: AWKWARD } }), { ...outcome(2), symbol: '', accountId: AWKWARD }];

  test('carries the same form fields as @aws-sdk/client-sns for the same input', async () => {
    const input = inputOf(outcomes);
    const sdk = new SNSClient({ region: REGION, endpoint: server.url, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    await sdk.send(new PublishBatchCommand(input));
    sdk.destroy();
    await createPublishBatchCall({ AWS_REGION: REGION, AWS_ENDPOINT_URL: server.url })(input);
    const [theirs, ours] = server.requests;
    expect(fieldsOf(ours!.body)).toEqual(fieldsOf(theirs!.body));
    expect(ours?.headers['content-type']).toBe(theirs?.headers['content-type']);
  });

  test('every message and attribute arrives intact (reserved characters, `+`, multi-byte UTF-8)', () => {
    const input = inputOf(outcomes);
    const form = new URLSearchParams(encodePublishBatch(input));
    expect(form.get('Action')).toBe('PublishBatch');
    expect(form.get('Version')).toBe('2010-03-31');
    expect(form.get('TopicArn')).toBe(TOPIC);
    input.PublishBatchRequestEntries.forEach((entry, index) => {
      const member = `PublishBatchRequestEntries.member.${index + 1}`;
      expect([form.get(`${member}.Id`), form.get(`${member}.Message`)]).toEqual([entry.Id, entry.Message]);
      const attributes: Record<string, unknown> = {};
      for (let n = 1; form.has(`${member}.MessageAttributes.entry.${n}.Name`); n++) {
        attributes[form.get(`${member}.MessageAttributes.entry.${n}.Name`)!] = {
          DataType: form.get(`${member}.MessageAttributes.entry.${n}.Value.DataType`),
          StringValue: form.get(`${member}.MessageAttributes.entry.${n}.Value.StringValue`),
        };
      }
      expect(attributes).toStrictEqual(entry.MessageAttributes);
    });
    expect(form.has('PublishBatchRequestEntries.member.4.Id')).toBe(false);
    // Only unreserved characters and percent-escapes: nothing a server could read two ways.
    expect(encodePublishBatch(input)).toMatch(/^([A-Za-z0-9._~-]|%[0-9A-F]{2}|[=&])*$/);
  });

  test('is signed for sns in the endpoint\'s region, as the SDK\'s signer signs the same request', async () => {
    await createPublishBatchCall({ AWS_REGION: REGION, AWS_ENDPOINT_URL: server.url })(inputOf(outcomes));
    const [seen] = server.requests;
    const amzDate = String(seen?.headers['x-amz-date']);
    const at = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signer = new SignatureV4({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, sessionToken: SESSION_TOKEN }, region: REGION, service: 'sns', sha256: Sha256 });
    const host = server.url.slice('http://'.length);
    const signed = await signer.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers: { host, 'content-type': String(seen?.headers['content-type']) }, body: seen?.body },
      { signingDate: at },
    );
    expect(seen?.headers.authorization).toBe(signed.headers.authorization);
    expect(seen?.headers.authorization).toContain(`/${REGION}/sns/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token,`);
    expect(seen?.headers['x-amz-security-token']).toBe(SESSION_TOKEN);
    expect(seen?.headers['x-amz-target']).toBeUndefined();
  });

  test.each([
    ['AWS_ENDPOINT_URL_SNS beats AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL_SNS: 'server', AWS_ENDPOINT_URL: 'elsewhere' }],
    ['AWS_ENDPOINT_URL alone', { AWS_ENDPOINT_URL: 'server' }],
    ['another service\'s variable does not apply', { AWS_ENDPOINT_URL: 'server', AWS_ENDPOINT_URL_DYNAMODB: 'elsewhere' }],
  ])('the endpoint: %s, its path kept', async (_name, variables) => {
    const elsewhere = await LoopbackSns.start();
    try {
      const urls = { server: `${server.url}/prefix/`, elsewhere: elsewhere.url };
      await createPublishBatchCall({ AWS_REGION: REGION, ...Object.fromEntries(Object.entries(variables).map(([name, which]) => [name, urls[which as 'server']])) })(inputOf([outcome(0)]));
      expect([server.requests.map((seen) => seen.url), elsewhere.requests.length]).toEqual([['/prefix/'], 0]);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('the PublishBatch reply', () => {
  test('successful and failed entries, text entities decoded', () => {
    const reply = batchResponse(
      '<Successful><member><Id>0</Id><MessageId>m-0</MessageId></member><member><Id>2</Id><MessageId>m-2</MessageId><SequenceNumber>1</SequenceNumber></member></Successful>' +
        '<Failed><member><Id>1</Id><Code>InvalidParameter</Code><Message>Value &quot;a&amp;b&quot; &lt;x&gt; &#233;&#x1F680;</Message><SenderFault>true</SenderFault></member></Failed>',
    );
    expect(parsePublishBatchReply(200, reply)).toStrictEqual({
      Successful: [
        { Id: '0', MessageId: 'm-0' },
        { Id: '2', MessageId: 'm-2' },
      ],
      Failed: [{ Id: '1', Code: 'InvalidParameter', Message: 'Value "a&b" <x> é🚀', SenderFault: true }],
    });
  });

  test('empty lists, written either way', () => {
    expect(parsePublishBatchReply(200, batchResponse('<Successful></Successful><Failed/>'))).toStrictEqual({ Successful: [], Failed: [] });
  });

  test('an ErrorResponse becomes an AwsServiceError with its code and message', () => {
    const reply = `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: SNS:Publish on resource: ${TOPIC}</Message></Error><RequestId>x</RequestId></ErrorResponse>`;
    const error = (() => {
      try {
        parsePublishBatchReply(403, reply);
      } catch (thrown) {
        return thrown as AwsServiceError;
      }
    })();
    expect(error).toBeInstanceOf(AwsServiceError);
    expect([error?.name, error?.statusCode, error?.message]).toEqual(['AuthorizationError', 403, `User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: SNS:Publish on resource: ${TOPIC}`]);
  });

  const SUCCESS = batchResponse('<Successful><member><Id>0</Id><MessageId>m</MessageId></member></Successful><Failed/>');
  test.each([
    ['an HTML gateway page', 502, '<html><body><h1>502 Bad Gateway</h1></body></html>'],
    ['an HTML page with status 200', 200, '<!DOCTYPE html><html><body>maintenance</body></html>'],
    ['an empty body', 200, ''],
    ['JSON', 200, '{"Successful":[{"Id":"0"}],"Failed":[]}'],
    ['a cut-off reply', 200, SUCCESS.slice(0, SUCCESS.indexOf('</Successful>'))],
    ['an ErrorResponse with status 200', 200, '<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>'],
    ['an error status without an error code', 500, '<ErrorResponse><Error><Message>oops</Message></Error></ErrorResponse>'],
    ['another action\'s response', 200, SUCCESS.replaceAll('PublishBatch', 'Publish')],
    ['a member without its Id', 200, batchResponse('<Successful><member><MessageId>m</MessageId></member></Successful>')],
    ['a failed member without its Code', 200, batchResponse('<Failed><member><Id>0</Id><SenderFault>false</SenderFault></member></Failed>')],
    ['a member with two Ids', 200, batchResponse('<Successful><member><Id>0</Id><Id>1</Id></member></Successful>')],
    ['something else than a member in a list', 200, batchResponse('<Successful><entry><Id>0</Id></entry></Successful>')],
    ['two results', 200, SUCCESS.replace('</PublishBatchResult>', '</PublishBatchResult><PublishBatchResult/>')],
    ['mismatched tags', 200, SUCCESS.replace('</Id>', '</MessageId>')],
    ['a second root', 200, `<Other/>${SUCCESS.replace(/^<\?xml[^>]*>/, '')}`],
    ['text after the root', 200, `${SUCCESS}trailing`],
    ['an unknown entity', 200, batchResponse('<Successful><member><Id>&zero;</Id></member></Successful>')],
    ['a bare ampersand', 200, batchResponse('<Successful><member><Id>0&1</Id></member></Successful>')],
    ['a forbidden character reference', 200, batchResponse('<Successful><member><Id>&#0;</Id></member></Successful>')],
    ['a comment', 200, SUCCESS.replace('<Failed/>', '<!-- x --><Failed/>')],
    ['CDATA', 200, batchResponse('<Successful><member><Id><![CDATA[0]]></Id></member></Successful>')],
  ])('does not parse: %s → AwsServiceError, never a partial result', (_name, status, body) => {
    expect(() => parsePublishBatchReply(status, body)).toThrow(AwsServiceError);
  });
});

describe('SnsOutcomePublisher over the wire', () => {
  const publisher = () => new SnsOutcomePublisher(createPublishBatchCall({ AWS_REGION: REGION, AWS_ENDPOINT_URL: server.url }), TOPIC);
  const fates = (promises: Promise<void>[]) =>
    Promise.allSettled(promises).then((results) => results.map((result) => (result.status === 'fulfilled' ? 'published' : `${(result.reason as RetryableError).code}: ${(result.reason as Error).message}`)));

  test('10 outcomes, one request; each caller gets its own entry\'s fate (published, failed, not reported)', async () => {
    const reply = batchResponse(
      `<Successful>${[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `<member><Id>${n}</Id><MessageId>m</MessageId></member>`).join('')}</Successful>` +
        '<Failed><member><Id>8</Id><Code>KMSThrottling</Code><Message>Rate exceeded</Message><SenderFault>false</SenderFault></member></Failed>',
    );
    server.reply({ status: 200, body: reply });
    const sender = publisher();
    const results = await fates(Array.from({ length: 10 }, (_, n) => sender.publish(outcome(n))));
    expect(server.requests).toHaveLength(1);
    expect(results).toEqual([
      ...Array(8).fill('published'),
      'OUTCOME_PUBLISH_FAILED: could not publish the outcome (KMSThrottling: Rate exceeded)',
      'OUTCOME_PUBLISH_FAILED: could not publish the outcome (SNS did not report this entry of its batch)',
    ]);
  });

  test('an error reply fails every entry, retryable, without the ARNs or account it names', async () => {
    server.reply({
      status: 403,
      body: `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: SNS:Publish on resource: ${TOPIC}</Message></Error><RequestId>x</RequestId></ErrorResponse>`,
    });
    const sender = publisher();
    expect(await fates([sender.publish(outcome(0)), sender.publish(outcome(1))])).toEqual(
      Array(2).fill('OUTCOME_PUBLISH_FAILED: could not publish the outcome (AuthorizationError: User: <arn> is not authorized to perform: SNS:Publish on resource: <arn>)'),
    );
  });

  test('a reply that does not parse fails every entry, retryable', async () => {
    server.reply({ status: 200, body: '<html>gateway</html>' });
    const sender = publisher();
    const errors = await Promise.allSettled([sender.publish(outcome(0)), sender.publish(outcome(1))]);
    for (const result of errors) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as RetryableError;
      expect([error.code, error.retryable, error.message]).toEqual(['OUTCOME_PUBLISH_FAILED', true, expect.stringContaining('UnparsableReply')]);
    }
  });

  test('an SNS that never answers: the request ends with the tightest deadline of its entries', async () => {
    server.reply('hang');
    const sender = publisher();
    const results = await fates([sender.publish(outcome(0), fixedDeadline(60_000)), sender.publish(outcome(1), fixedDeadline(100))]);
    expect(results).toEqual(Array(2).fill('OUTCOME_PUBLISH_FAILED: could not publish the outcome (TransportError: no response within 100 ms)'));
    expect(server.requests).toHaveLength(1);
  });

  test('a reset connection (a keep-alive socket SNS closed) is retried once, on another connection', async () => {
    server.reply('reset');
    const sender = publisher();
    expect(await fates([sender.publish(outcome(0)), sender.publish(outcome(1))])).toEqual(['published', 'published']);
    expect(server.requests.map((seen) => seen.body)).toEqual([server.requests[0]?.body, server.requests[0]?.body]);
  });

  test('only once: a second reset fails every entry', async () => {
    server.reply('reset', 'reset');
    const results = await fates([publisher().publish(outcome(0))]);
    expect(results).toEqual([expect.stringMatching(/^OUTCOME_PUBLISH_FAILED: could not publish the outcome \(TransportError: /)]);
    expect(server.requests).toHaveLength(2);
  });

  test('an error answer is not retried', async () => {
    server.reply({ status: 500, body: '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>oops</Message></Error></ErrorResponse>' });
    expect(await fates([publisher().publish(outcome(0))])).toEqual(['OUTCOME_PUBLISH_FAILED: could not publish the outcome (InternalError: oops)']);
    expect(server.requests).toHaveLength(1);
  });

  test('no time left: nothing is sent', async () => {
    const error = await rejectionOf<RetryableError>(publisher().publish(outcome(0), fixedDeadline(0)));
    await new Promise((resolve) => setImmediate(resolve));
    expect([error.code, server.requests.length]).toEqual(['TIME_BUDGET_EXHAUSTED', 0]);
  });
});
