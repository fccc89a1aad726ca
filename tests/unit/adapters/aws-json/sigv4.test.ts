/**
 * The hand-written SigV4 against the SDK's own signer (@smithy/signature-v4) as the oracle: same
 * credentials, instant, endpoint path and body must give the same headers, byte for byte, including
 * across a change of day and a rotated secret (the derived signing key is cached).
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { type AwsCredentials, canonicalPath, PostSigner } from '../../../../functions/adapters/aws-json/sigv4.ts';

const CREDENTIALS: AwsCredentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET = 'DynamoDB_20120810.UpdateItem';

async function sdkHeaders(credentials: AwsCredentials, host: string, path: string, body: string, at: Date, region = 'eu-west-1', service = 'dynamodb') {
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: host.split(':')[0]!, path, query: {}, headers: { host, 'content-type': CONTENT_TYPE, 'x-amz-target': TARGET }, body },
    { signingDate: at },
  );
  return signed.headers;
}

describe('PostSigner signs as the SDK signer does', () => {
  test.each([
    ['long-term credentials', CREDENTIALS],
    ['temporary credentials (as in Lambda): the session token is sent and signed', { ...CREDENTIALS, sessionToken: 'IQoJb3JpZ2luX2VjEFoaDGV1LXdlc3QtMSJHMEUCIQ/token+==' }],
  ])('%s', async (_name, credentials) => {
    const at = new Date(Date.UTC(2026, 10, 25, 10, 0, 0, 123));
    const body = JSON.stringify({ TableName: 't', Key: { pk: { S: 'key#desk-2#BTCUSDT' } } });
    const ours = new PostSigner('eu-west-1', 'dynamodb', 'dynamodb.eu-west-1.amazonaws.com', '/').sign(credentials, CONTENT_TYPE, TARGET, body, at);
    expect(ours).toEqual(await sdkHeaders(credentials, 'dynamodb.eu-west-1.amazonaws.com', '/', body, at));
  });

  test('any body, host with port, region, service and instant', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom('127.0.0.1:4566', 'localhost:8000', 'ssm.us-east-1.amazonaws.com'),
        fc.constantFrom(['us-east-1', 'dynamodb'], ['ap-northeast-1', 'ssm']),
        fc.date({ min: new Date(Date.UTC(2020, 0, 1)), max: new Date(Date.UTC(2035, 0, 1)), noInvalidDate: true }),
        async (body, host, [region, service], at) => {
          const ours = new PostSigner(region!, service!, host, '/').sign(CREDENTIALS, CONTENT_TYPE, TARGET, body, at);
          expect(ours).toEqual(await sdkHeaders(CREDENTIALS, host, '/', body, at, region, service));
        },
      ),
      { numRuns: 100 },
    );
  });

  test.each(['/', '/prefix/', '/a b/c', '/x/../y', '//double//slash', "/it's(*)!", '/%7Euser/', '/ü'])('endpoint path %j', async (path) => {
    const at = new Date(Date.UTC(2026, 10, 25, 10, 0, 0));
    const ours = new PostSigner('eu-west-1', 'dynamodb', 'h', path).sign(CREDENTIALS, CONTENT_TYPE, TARGET, '{}', at);
    expect(ours).toEqual(await sdkHeaders(CREDENTIALS, 'h', path, '{}', at));
  });

  test('a Query-protocol request (SNS): a form body and no X-Amz-Target, neither sent nor signed', async () => {
    const at = new Date(Date.UTC(2026, 10, 25, 10, 0, 0));
    const form = 'application/x-www-form-urlencoded';
    const body = 'Action=PublishBatch&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3At&PublishBatchRequestEntries.member.1.Id=0';
    const credentials = { ...CREDENTIALS, sessionToken: 'token' };
    const ours = new PostSigner('eu-west-1', 'sns', 'sns.eu-west-1.amazonaws.com', '/').sign(credentials, form, undefined, body, at);
    const signer = new SignatureV4({ credentials, region: 'eu-west-1', service: 'sns', sha256: Sha256 });
    const sdk = await signer.sign(
      { method: 'POST', protocol: 'https:', hostname: 'sns.eu-west-1.amazonaws.com', path: '/', query: {}, headers: { host: 'sns.eu-west-1.amazonaws.com', 'content-type': form }, body },
      { signingDate: at },
    );
    expect(ours).toEqual(sdk.headers);
    expect(ours['x-amz-target']).toBeUndefined();
  });

  test('the cached signing key follows a change of day and a rotated secret', async () => {
    const signer = new PostSigner('eu-west-1', 'dynamodb', 'h', '/');
    const rotated = { ...CREDENTIALS, secretAccessKey: 'rotated-secret' };
    const sequence: Array<[AwsCredentials, Date]> = [
      [CREDENTIALS, new Date(Date.UTC(2026, 10, 25, 23, 59, 59))],
      [CREDENTIALS, new Date(Date.UTC(2026, 10, 26, 0, 0, 1))],
      [rotated, new Date(Date.UTC(2026, 10, 26, 0, 0, 2))],
      [CREDENTIALS, new Date(Date.UTC(2026, 10, 26, 0, 0, 3))],
    ];
    for (const [credentials, at] of sequence) {
      expect(signer.sign(credentials, CONTENT_TYPE, TARGET, '{}', at)).toEqual(await sdkHeaders(credentials, 'h', '/', '{}', at));
    }
  });
});

describe('canonicalPath', () => {
  test.each([
    ['/', '/'],
    ['/prefix/', '/prefix/'],
    ['/a b', '/a%20b'],
    ['/a%20b', '/a%2520b'],
    ['/x/./y/../z', '/x/z'],
  ])('%j → %j (segments normalised, then encoded a second time)', (path, expected) => {
    expect(canonicalPath(path)).toBe(expected);
  });
});
