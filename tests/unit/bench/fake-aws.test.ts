// The benchmark's AWS fakes log every request by service and operation (the per-record counts
// and the round-trip chains are read from that log), whichever wire protocol names it.
import { request } from 'node:http';
import { type FakeAws, startFakeAws } from '../../../bench/fake-aws.ts';

let aws: FakeAws;
beforeAll(async () => {
  aws = await startFakeAws({ secrets: { s: '{}' }, parameters: { '/p': 'false' } });
});
afterAll(() => aws.close());

function post(headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(aws.endpoint, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('requests are logged by service and operation: X-Amz-Target for JSON protocols, Action for SNS', async () => {
  aws.takeCalls();
  await post({ 'x-amz-target': 'AmazonSSM.GetParameter', 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify({ Name: '/p' }));
  await post({ 'x-amz-target': 'secretsmanager.GetSecretValue' }, JSON.stringify({ SecretId: 's' }));
  await post({ 'x-amz-target': 'DynamoDB_20120810.GetItem' }, JSON.stringify({ TableName: 't', Key: { pk: { S: 'k' } } }));
  await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'Action=Publish&TopicArn=arn&Message=%7B%7D');
  const calls = aws.takeCalls();
  expect(calls.map((c) => `${c.service} ${c.operation}`)).toEqual(['SSM GetParameter', 'SecretsManager GetSecretValue', 'DynamoDB GetItem', 'SNS Publish']);
  for (const c of calls) expect(c.repliedAt).toBeGreaterThanOrEqual(c.arrivedAt);
  expect(aws.takeCalls()).toEqual([]);
});

test('with a latency set, requests sent together are all logged, and answered', async () => {
  aws.setLatencyMs(20);
  try {
    const statuses = await Promise.all([1, 2, 3].map(() => post({ 'x-amz-target': 'AmazonSSM.GetParameter' }, JSON.stringify({ Name: '/p' }))));
    expect(statuses).toEqual([200, 200, 200]);
  } finally {
    aws.setLatencyMs(0);
  }
  expect(aws.takeCalls()).toHaveLength(3);
});
