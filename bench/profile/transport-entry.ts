/**
 * CPU per call of the function's transports, against the servers the function meets in the
 * benchmark: send() (keep-alive-client.ts) with the baseline's signed leverage POST, the whole
 * BinancePapiClient.changeLeverage (without the function's metrics observer), the aws-json
 * client's DynamoDB PutItem and GetItem, an AWS SDK SNS Publish (what each record's outcome cost
 * before PublishBatch), and a PublishBatch of 10 outcomes through the SDK client (`sdkBatch`, what
 * it cost before publish-batch.ts) and through publish-batch.ts (`batch`). `<mode>*10` keeps ten calls in flight, as a batch of ten records
 * does. Bundled with the function's esbuild options by cpu-profile.ts (--transport); one mode per
 * process, job in a JSON file (argv[2]).
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createAwsJsonClient } from '../../functions/adapters/aws-json/aws-json-client.ts';
import { DYNAMODB_JSON } from '../../functions/adapters/dynamodb/state-store.ts';
import { BinancePapiClient } from '../../functions/adapters/binance/papi-client.ts';
import { send } from '../../functions/adapters/http/keep-alive-client.ts';
import { attributesOf } from '../../functions/adapters/sns/outcome-publisher.ts';
import { createPublishBatchCall, type PublishBatchInput } from '../../functions/adapters/sns/publish-batch.ts';

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { mode: string; simulatorUrl: string; apiKey: string; apiSecret: string };
const dynamodb = createAwsJsonClient(DYNAMODB_JSON);
const sns = new SNSClient({});
const publishBatch = createPublishBatchCall();
// Ten outcomes as the function publishes them (outcome-publisher.ts): JSON message, three attributes.
const batchInput: PublishBatchInput = {
  TopicArn: 'arn:aws:sns:us-east-1:000000000000:outcomes',
  PublishBatchRequestEntries: Array.from({ length: 10 }, (_, n) => {
    const outcome = { eventId: `evt-${n}`, accountId: 'default', symbol: `SYM${n}USDT`, requestedLeverage: 5, status: 'APPLIED' as const, leverage: 5, maxNotionalValue: '250000', trigger: 'sqs' as const, processedAt: new Date().toISOString(), durationMs: 12 };
    return { Id: String(n), Message: JSON.stringify(outcome), MessageAttributes: attributesOf(outcome) };
  }),
};
const papi = new BinancePapiClient({ papiUrl: job.simulatorUrl, timeUrl: `${job.simulatorUrl}/fapi/v1/time`, recvWindowMs: 5000, requestTimeoutMs: 5000, weightLimitPerMinute: 1_000_000 });
const apiCredentials = { apiKey: job.apiKey, apiSecret: job.apiSecret };
const deadline = { remainingMs: () => 30_000 };
let lastLeverage = 5;
let item = 0;

const calls: Record<string, () => Promise<void>> = {
  async send() {
    const leverage = (lastLeverage = lastLeverage === 5 ? 6 : 5);
    const query = `symbol=BTCUSDT&leverage=${leverage}&recvWindow=5000&timestamp=${Date.now()}`;
    const signature = createHmac('sha256', job.apiSecret).update(query).digest('hex');
    const url = new URL(`/papi/v1/um/leverage?${query}&signature=${signature}`, job.simulatorUrl);
    const response = await send({ method: 'POST', url, headers: { 'X-MBX-APIKEY': job.apiKey }, timeoutMs: 5000 });
    if (response.status !== 200 || (JSON.parse(response.body) as { leverage: number }).leverage !== leverage) throw new Error(response.body);
  },
  async papi() {
    const leverage = (lastLeverage = lastLeverage === 5 ? 6 : 5);
    const setting = await papi.changeLeverage(apiCredentials, 'BTCUSDT', leverage, deadline);
    if (setting.leverage !== leverage) throw new Error(`asked for ${leverage}, got ${setting.leverage}`);
  },
  async put() {
    await dynamodb('PutItem', { TableName: 'leverage-guard-state', Item: { pk: { S: `done#default#BTCUSDT#profile-${item++}` }, expiresAt: { N: '1796035163' } } });
  },
  async get() {
    await dynamodb('GetItem', { TableName: 'leverage-guard-state', Key: { pk: { S: 'done#default#BTCUSDT#profile-1' } }, ConsistentRead: true });
  },
  async sns() {
    const outcome = { eventId: 'e', status: 'APPLIED' };
    await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:outcomes', Message: JSON.stringify(outcome), MessageAttributes: { status: { DataType: 'String', StringValue: 'APPLIED' } } }));
  },
  async sdkBatch() {
    const output = await sns.send(new PublishBatchCommand(batchInput));
    if (output.Successful?.length !== 10) throw new Error(JSON.stringify(output));
  },
  async batch() {
    const output = await publishBatch(batchInput, deadline);
    if (output.Successful.length !== 10) throw new Error(JSON.stringify(output));
  },
};

const [name = '', inFlight = '1'] = job.mode.split('*');
const one = calls[name]!;
const width = Number(inFlight);
const round = width === 1 ? one : async () => void (await Promise.all(Array.from({ length: width }, one)));
for (let i = 0; i < 300 / width; i++) await round();
const perCall: number[] = [];
for (let b = 0; b < 10; b++) {
  const before = process.cpuUsage();
  for (let i = 0; i < 100 / width; i++) await round();
  const cpu = process.cpuUsage(before);
  perCall.push((cpu.user + cpu.system) / 1000 / 100);
}
// Exit explicitly: keep-alive sockets would hold the process open.
process.stdout.write(`\n@@profile-result@@ ${JSON.stringify(perCall)}\n`, () => process.exit(0));
