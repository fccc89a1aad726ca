// The benchmark's reading of the request logs: which AWS calls stood in sequence before the change,
// which requests belong to which invocation, and the per-operation counts behind the targets.
import type { RecordedRequest } from '../../../local/binance-simulator/index.ts';
import type { AwsCall } from '../../../bench/fake-aws.ts';
import { attribute, countByOperation, firstChangeAt, sequentialAwsCalls } from '../../../bench/round-trips.ts';
import type { InvocationMeasure } from '../../../bench/protocol.ts';

const call = (operation: string, arrivedAt: number, repliedAt: number, service = 'DynamoDB'): AwsCall => ({ service, operation, arrivedAt, repliedAt });
const post = (at: number): RecordedRequest => ({ seq: 1, at, method: 'POST', path: '/papi/v1/um/leverage', query: {}, status: 200, weight: 1 });
const invocation = (label: string, startedAt: number, endedAt: number): InvocationMeasure => ({ label, startedAt, endedAt, wallMs: endedAt - startedAt, cpuUserMs: 0, cpuSystemMs: 0, response: {} });

describe('sequentialAwsCalls', () => {
  test('calls that overlap in time count as one round trip', () => {
    const calls = [call('GetItem', 0, 100), call('UpdateItem', 2, 102), call('GetParameter', 3, 103, 'SSM')];
    expect(sequentialAwsCalls(calls, 110)).toHaveLength(1);
  });

  test('each call sent after the previous one was answered adds a round trip', () => {
    const calls = [call('GetParameter', 0, 100, 'SSM'), call('GetItem', 101, 201), call('UpdateItem', 202, 302)];
    expect(sequentialAwsCalls(calls, 310).map((c) => c.operation)).toEqual(['GetParameter', 'GetItem', 'UpdateItem']);
  });

  test('a chain through the longest path, ignoring calls answered after the change', () => {
    // GetSecretValue overlaps GetParameter; GetItem follows both; the completion write comes after the change.
    const calls = [call('GetSecretValue', 0, 100, 'SecretsManager'), call('GetParameter', 1, 101, 'SSM'), call('GetItem', 102, 202), call('PutItem', 260, 360)];
    expect(sequentialAwsCalls(calls, 210)).toHaveLength(2);
  });
});

test('attribute splits both logs between invocations by arrival time', () => {
  const invocations = [invocation('cold', 1000, 1400), invocation('warm', 2000, 2300)];
  const observed = attribute(invocations, [call('GetItem', 1010, 1110), call('UpdateItem', 2010, 2110)], [post(1200), post(2150)]);
  expect(observed.map((o) => o.awsCalls.map((c) => c.operation))).toEqual([['GetItem'], ['UpdateItem']]);
  expect(observed.map((o) => firstChangeAt(o))).toEqual([1200, 2150]);
});

test('an invocation that sent no leverage change is an error, not a zero', () => {
  const [observed] = attribute([invocation('warm', 0, 10)], [], []);
  expect(() => firstChangeAt(observed!)).toThrow('sent no leverage change');
});

test('countByOperation counts AWS and exchange requests per service and operation', () => {
  const counts = countByOperation({ awsCalls: [call('GetItem', 0, 1), call('GetItem', 0, 1), call('Publish', 0, 1, 'SNS')], exchangeRequests: [post(5)] });
  expect(Object.fromEntries(counts)).toEqual({ 'DynamoDB GetItem': 2, 'SNS Publish': 1, 'Binance POST /papi/v1/um/leverage': 1 });
});
