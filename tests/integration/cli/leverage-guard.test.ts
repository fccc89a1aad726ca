// The `leverage-guard` CLI as an operator runs it (`node bin/leverage-guard.mjs`, what npx runs),
// against moto: a stage is the stack that `npm run package` produces, created in moto's
// CloudFormation, so the CLI finds queues, DLQs, topic and pause parameter from the real stack's
// outputs and resources. The local stack (`--local`) is checked through the file --serve writes.
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ListSubscriptionsByTopicCommand, PublishCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createLocalStack,
  drainQueue,
  LOCAL_ACCESS_KEY_ID,
  LOCAL_REGION,
  LOCAL_SECRET_ACCESS_KEY,
  type LocalAws,
  localAwsEnv,
  readOutcomes,
  RISK_EVENT_PATTERN,
  startLocalAws,
} from '../../../local/aws/index.ts';
import { writeLocalStackFile } from '../../../local/run/stack-file.ts';
import { packageStack } from '../infra/template.ts';

jest.setTimeout(60_000);

const STAGE = 'clitest';
const STACK = `leverage-guard-${STAGE}`;
const BIN = path.resolve('bin/leverage-guard.mjs');
const work = mkdtempSync(path.join(tmpdir(), 'leverage-guard-cli-'));

let aws: LocalAws;
let env: NodeJS.ProcessEnv;
let cloudWatch: CloudWatchClient;
/**
 * Queues made by moto's CloudFormation have real-looking URLs (https://sqs.us-east-1.amazonaws.com/…):
 * this client never sends to a QueueUrl's host, only to moto.
 */
let sqs: SQSClient;
const url = async (name: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
const q = {
  risk: '', riskFifo: '', dlq: '', fifoDlq: '', topicArn: '',
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a separate process with the AWS environment aimed at moto. */
function cli(args: string[], options: { input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 45_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

function file(name: string, content: unknown): string {
  const target = path.join(work, name);
  writeFileSync(target, JSON.stringify(content));
  return target;
}

async function depth(queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}

async function pauseValue(): Promise<string | undefined> {
  const { Parameter } = await aws.clients.ssm.send(new GetParameterCommand({ Name: `/leverage-guard/${STAGE}/paused` }));
  return Parameter?.Value;
}

beforeAll(async () => {
  aws = await startLocalAws();
  env = { ...process.env, ...localAwsEnv(aws.endpoint), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  // A non-dev stage must name its caps, producers and alarm subscriber (infra/safety-params.cjs).
  const params = { leverageCaps: '{"*":10}', riskEventProducers: 'arn:aws:iam::123456789012:role/risk-engine', alarmSubscriberOptOut: 'true' };
  const { template } = packageStack(STAGE, { outDir: path.join(work, 'package'), params });
  // moto tries to run the function (it would need Docker) on every message sent to a queue with
  // an event source mapping, or matched by a rule that targets it, and answers 500; its
  // CloudFormation cannot create a Lambda alias (the deploy test uses a shim for that). Those
  // resources, and whatever refers to them, are the parts left out here: the CLI uses neither.
  const resources = template.Resources as Record<string, { Type: string }>;
  const removed = new Set(Object.keys(resources).filter((id) => ['AWS::Lambda::EventSourceMapping', 'AWS::Events::Rule', 'AWS::Lambda::Alias'].includes(resources[id]!.Type)));
  const refersToRemoved = (value: unknown) => {
    const text = JSON.stringify(value);
    return [...removed].some((id) => text.includes(`{"Ref":"${id}"}`) || text.includes(`"Fn::GetAtt":["${id}"`) || text.includes(`"DependsOn":["${id}"`) || text.includes(`"DependsOn":"${id}"`));
  };
  for (let grew = true; grew; ) {
    grew = false;
    for (const [id, resource] of Object.entries(resources)) {
      if (!removed.has(id) && refersToRemoved(resource)) {
        removed.add(id);
        grew = true;
      }
    }
  }
  for (const id of removed) delete resources[id];
  const outputs = (template as { Outputs?: Record<string, unknown> }).Outputs ?? {};
  for (const [name, output] of Object.entries(outputs)) if (refersToRemoved(output)) delete outputs[name];
  const config = { endpoint: aws.endpoint, region: LOCAL_REGION, credentials: { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: LOCAL_SECRET_ACCESS_KEY } };
  const cloudFormation = new CloudFormationClient(config);
  cloudWatch = new CloudWatchClient(config);
  sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
  await cloudFormation.send(
    new CreateStackCommand({
      StackName: STACK,
      TemplateBody: JSON.stringify(template),
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      Parameters: [{ ParameterKey: 'RiskQueueMode', ParameterValue: 'both' }],
    }),
  );
  for (;;) {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: STACK }));
    const status = Stacks[0]?.StackStatus ?? '';
    if (!status.endsWith('IN_PROGRESS')) {
      if (status !== 'CREATE_COMPLETE') throw new Error(`stack ${status}: ${Stacks[0]?.StackStatusReason}`);
      q.topicArn = Stacks[0]!.Outputs!.find((o) => o.OutputKey === 'ResultTopicArn')!.OutputValue!;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  cloudFormation.destroy();
  q.risk = await url(`${STACK}-risk-events`);
  q.riskFifo = await url(`${STACK}-risk-events.fifo`);
  q.dlq = await url(`${STACK}-risk-events-dlq`);
  q.fifoDlq = await url(`${STACK}-risk-events-dlq.fifo`);
  // moto's CloudFormation skips CloudWatch alarms; create one of the stack's through the API.
  await cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: `${STACK}-risk-events-dlq-not-empty`, Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum', Period: 60, EvaluationPeriods: 1, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
}, 120_000);

afterAll(async () => {
  cloudWatch?.destroy();
  sqs?.destroy();
  await aws?.stop();
});

describe('every command has --help, and the exit codes scripts rely on', () => {
  test.each(['validate', 'send', 'pause', 'resume', 'status', 'redrive', 'outcomes'])('%s --help', async (command) => {
    const run = await cli([command, '--help']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`leverage-guard ${command}`);
    expect(run.stdout).toContain('Exit codes: 0 done');
  });

  test('usage errors exit 2; a stack that does not exist exits 3', async () => {
    expect(await cli(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
    expect(await cli(['status'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--stage <name>') });
    expect(await cli(['status', '--stage', STAGE, '--bogus'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--bogus'") });
    expect(await cli(['validate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('expects <file|->') });
    expect(await cli(['status', '--stage', 'nope'])).toMatchObject({ code: 3, stderr: expect.stringContaining('cannot read stack leverage-guard-nope') });
  });
});

describe('validate (offline)', () => {
  test('names each wrong field and exits 1; valid input exits 0; stdin with -', async () => {
    const events = file('mixed.json', [{ eventId: 'ok-1', symbol: 'BTCUSDT', leverage: 5 }, { eventId: 'bad-1', symbol: 'BTCUSDT', leverage: 2.5 }]);
    const mixed = await cli(['validate', events]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toContain('ok       events[0] (ok-1)');
    expect(mixed.stdout).toContain('INVALID  events[1] (bad-1): leverage: must be a whole number, got 2.5');
    expect(await cli(['validate', '-'], { input: '{"eventId":"s","symbol":"ETHUSDT","leverage":3}' })).toMatchObject({ code: 0 });
    expect(await cli(['validate', path.join(work, 'missing.json')])).toMatchObject({ code: 2 });
  });
});

describe('send to a stage', () => {
  test('to the queue from the stack outputs, with issuedAt stamped; nothing at all when one event is invalid', async () => {
    const invalid = await cli(['send', file('invalid.json', [{ eventId: 'x-1', symbol: 'BTCUSDT', leverage: 5 }, { eventId: 'x-2', symbol: 'BTCUSDT' }]), '--stage', STAGE]);
    expect(invalid).toMatchObject({ code: 1, stderr: expect.stringContaining('INVALID  events[1] (x-2): leverage: is required') });
    expect(await depth(q.risk)).toBe(0);

    const before = Date.now();
    const run = await cli(['send', file('one.json', { eventId: 'send-1', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5 }), '--stage', STAGE]);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining(`sent     event (send-1) → queue ${STACK}-risk-events:`) });
    const [message] = await drainQueue(sqs, q.risk);
    const body = JSON.parse(message!.body) as { issuedAt: string };
    expect(body).toEqual({ eventId: 'send-1', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5, issuedAt: expect.any(String) });
    expect(Date.parse(body.issuedAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  test('--fifo: to the FIFO queue with the pair as message group', async () => {
    expect(await cli(['send', file('fifo.json', { eventId: 'fifo-1', accountId: 'desk-2', symbol: 'ETHUSDT', leverage: 4 }), '--stage', STAGE, '--fifo'])).toMatchObject({ code: 0 });
    const [message] = await drainQueue(sqs, q.riskFifo);
    expect(message!.attributes.MessageGroupId).toBe('desk-2:ETHUSDT');
  });

  test('--bus: on the default bus, matched by the risk-event rule\'s pattern', async () => {
    // The stack's rule targets the function, which moto cannot run: a second rule with the same
    // pattern delivers to a queue the test reads.
    const capture = await sqs.send(new CreateQueueCommand({ QueueName: 'cli-bus-capture' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: capture.QueueUrl, AttributeNames: ['QueueArn'] }));
    await aws.clients.eventBridge.send(new PutRuleCommand({ Name: 'cli-capture', EventPattern: JSON.stringify(RISK_EVENT_PATTERN), State: 'ENABLED' }));
    await aws.clients.eventBridge.send(new PutTargetsCommand({ Rule: 'cli-capture', Targets: [{ Id: 'q', Arn: Attributes!.QueueArn }] }));
    expect(await cli(['send', file('bus.json', { eventId: 'bus-1', symbol: 'BNBUSDT', leverage: 2 }), '--stage', STAGE, '--bus'])).toMatchObject({ code: 0 });
    const [delivered] = await readOutcomes<{ detail: unknown }>(sqs, capture.QueueUrl!, { count: 1, timeoutMs: 5000 });
    expect(delivered?.body.detail).toMatchObject({ eventId: 'bus-1', symbol: 'BNBUSDT', leverage: 2 });
  });
});

describe('pause, resume, status', () => {
  test('pause sets the stack\'s pause parameter and status says so (exit 1); resume clears it (exit 0)', async () => {
    expect(await cli(['pause', '--stage', STAGE])).toMatchObject({ code: 0, stdout: expect.stringContaining(`paused: /leverage-guard/${STAGE}/paused = true`) });
    expect(await pauseValue()).toBe('true');
    const paused = await cli(['status', '--stage', STAGE]);
    expect(paused.code).toBe(1);
    expect(paused.stdout).toContain('PAUSED');
    expect(await cli(['resume', '--stage', STAGE])).toMatchObject({ code: 0 });
    expect(await pauseValue()).toBe('false');
    const running = await cli(['status', '--stage', STAGE]);
    expect(running).toMatchObject({ code: 0, stdout: expect.stringContaining('OK: running, DLQs empty, no alarm') });
    // Queue names, never URLs: a URL carries the AWS account id.
    expect(running.stdout).not.toMatch(/\d{12}/);
  });

  test('status --json: queue and DLQ depths, alarm states, and what needs attention', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: q.risk, MessageBody: '{"eventId":"waiting"}' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: q.dlq, MessageBody: '{"eventId":"dead"}' }));
    await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: `${STACK}-risk-events-dlq-not-empty`, StateValue: 'ALARM', StateReason: 'test' }));
    try {
      const run = await cli(['status', '--stage', STAGE, '--json']);
      expect(run.code).toBe(1);
      const status = JSON.parse(run.stdout);
      expect(status.pause).toEqual({ paused: false, value: 'false' });
      expect(status.queues).toContainEqual({ name: `${STACK}-risk-events`, visible: 1, inFlight: 0, delayed: 0 });
      expect(status.queues.map((queue: { name: string }) => queue.name)).toContain(`${STACK}-risk-events.fifo`);
      expect(status.dlqs).toContainEqual({ name: `${STACK}-risk-events-dlq`, visible: 1, inFlight: 0, delayed: 0 });
      // Every DLQ of the stack, not only the risk-event ones.
      for (const name of ['eventbridge-dlq', 'async-failures-dlq', 'scheduler-dlq', 'risk-events-dlq.fifo']) {
        expect(status.dlqs.map((queue: { name: string }) => queue.name)).toContain(`${STACK}-${name}`);
      }
      expect(status.alarms).toEqual([{ name: `${STACK}-risk-events-dlq-not-empty`, state: 'ALARM' }]);
      expect(status.attention).toEqual([`${STACK}-risk-events-dlq holds 1 message(s)`, `alarm ${STACK}-risk-events-dlq-not-empty is in ALARM`]);
    } finally {
      await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: `${STACK}-risk-events-dlq-not-empty`, StateValue: 'OK', StateReason: 'test' }));
      await drainQueue(sqs, q.risk);
      await drainQueue(sqs, q.dlq);
    }
  });
});

describe('redrive', () => {
  const dead = (eventId: string) =>
    sqs.send(
      new SendMessageCommand({ QueueUrl: q.dlq, MessageBody: JSON.stringify({ eventId, symbol: 'BTCUSDT', leverage: 5 }), MessageAttributes: { origin: { DataType: 'String', StringValue: 'risk-system' } } }),
    );

  test('refuses while paused; dry run moves nothing and leaves every message visible; --count moves that many, unchanged', async () => {
    for (const id of ['dead-1', 'dead-2', 'dead-3']) await dead(id);
    await cli(['pause', '--stage', STAGE]);
    expect(await cli(['redrive', '--stage', STAGE])).toMatchObject({ code: 1, stderr: expect.stringContaining('paused') });
    expect(await depth(q.dlq)).toBe(3);
    await cli(['resume', '--stage', STAGE]);

    const dry = await cli(['redrive', '--stage', STAGE, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`${STACK}-risk-events-dlq: 3 message(s); would move 3 to ${STACK}-risk-events`);
    expect(dry.stdout.match(/would move dead-\d/g)).toHaveLength(3);
    expect(await depth(q.risk)).toBe(0);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.dlq, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Attributes!.ApproximateNumberOfMessages).toBe('3');

    expect(await cli(['redrive', '--stage', STAGE, '--count', '2', '--dlq', `${STACK}-risk-events-dlq`])).toMatchObject({ code: 0, stdout: expect.stringContaining('moved 2 message(s)') });
    expect(await depth(q.dlq)).toBe(1);
    const moved = await drainQueue(sqs, q.risk);
    expect(moved).toHaveLength(2);
    for (const message of moved) {
      expect(JSON.parse(message.body)).toMatchObject({ symbol: 'BTCUSDT', leverage: 5 });
      expect(message.messageAttributes.origin?.StringValue).toBe('risk-system');
    }
    expect(await cli(['redrive', '--stage', STAGE])).toMatchObject({ code: 0 });
    expect(await depth(q.dlq)).toBe(0);
    expect(await drainQueue(sqs, q.risk)).toHaveLength(1);
    expect(await cli(['redrive', '--stage', STAGE, '--count', '0'])).toMatchObject({ code: 2 });
  });

  test('FIFO: back to the FIFO queue in its message group', async () => {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: q.fifoDlq, MessageBody: '{"eventId":"dead-fifo"}', MessageGroupId: 'desk-1:BTCUSDT', MessageDeduplicationId: 'dead-fifo' }),
    );
    expect(await cli(['redrive', '--stage', STAGE, '--dlq', `${STACK}-risk-events-dlq.fifo`])).toMatchObject({ code: 0 });
    const [message] = await drainQueue(sqs, q.riskFifo);
    expect(message).toMatchObject({ body: '{"eventId":"dead-fifo"}', attributes: expect.objectContaining({ MessageGroupId: 'desk-1:BTCUSDT' }) });
  });
});

describe('outcomes', () => {
  async function subscriptions(): Promise<number> {
    const { Subscriptions = [] } = await aws.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: q.topicArn }));
    return Subscriptions.length;
  }
  const tempQueues = async () => (await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${STACK}-outcomes-cli-` }))).QueueUrls ?? [];

  test('follows one eventId through a temporary subscription (full JSON and message attributes), then removes it', async () => {
    const before = await subscriptions();
    const running = cli(['outcomes', '--stage', STAGE, '--event-id', 'followed', '--count', '1', '--json', '--timeout', '30']);
    while ((await subscriptions()) === before) await new Promise((resolve) => setTimeout(resolve, 100));
    const publish = (outcome: Record<string, unknown>) =>
      aws.clients.sns.send(
        new PublishCommand({
          TopicArn: q.topicArn,
          Message: JSON.stringify(outcome),
          MessageAttributes: { status: { DataType: 'String', StringValue: String(outcome.status) }, symbol: { DataType: 'String', StringValue: 'BTCUSDT' } },
        }),
      );
    await publish({ eventId: 'other', status: 'APPLIED', trigger: 'sqs' });
    await publish({ eventId: 'followed', status: 'REJECTED', symbol: 'BTCUSDT', trigger: 'sqs', error: { code: -4028, message: 'Binance -4028', retryable: false } });
    const run = await running;
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        outcome: { eventId: 'followed', status: 'REJECTED', symbol: 'BTCUSDT', trigger: 'sqs', error: { code: -4028, message: 'Binance -4028', retryable: false } },
        messageAttributes: { status: 'REJECTED', symbol: 'BTCUSDT' },
      },
    ]);
    expect(await subscriptions()).toBe(before);
    expect(await tempQueues()).toEqual([]);
  });

  test('nothing published before the timeout: exit 1, and still cleaned up', async () => {
    expect(await cli(['outcomes', '--stage', STAGE, '--timeout', '1'])).toMatchObject({ code: 1, stderr: expect.stringContaining('0 outcome(s); temporary subscription removed') });
    expect(await tempQueues()).toEqual([]);
  });
});

describe('--local: the stack of npm start -- --serve', () => {
  test('found through the file --serve writes: send and status', async () => {
    const resources = await createLocalStack(aws.clients, { name: 'cli-local', maxReceiveCount: 3, visibilityTimeoutSeconds: 1, credentials: {} });
    const stackFile = path.join(work, 'stack.json');
    writeLocalStackFile(
      { endpoint: aws.endpoint, region: LOCAL_REGION, accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: LOCAL_SECRET_ACCESS_KEY, queueUrl: resources.queueUrl, dlqUrl: resources.dlqUrl, eventBusName: resources.eventBusName, topicArn: resources.topicArn, pauseParameterName: resources.pauseParameterName },
      stackFile,
    );
    // No AWS environment at all: everything comes from the file.
    const bare = { ...process.env };
    for (const name of Object.keys(bare)) if (name.startsWith('AWS_')) delete bare[name];
    const saved = env;
    env = bare;
    try {
      expect(await cli(['send', file('local.json', { eventId: 'local-1', symbol: 'BTCUSDT', leverage: 5 }), '--local-file', stackFile])).toMatchObject({ code: 0 });
      const status = JSON.parse((await cli(['status', '--local-file', stackFile, '--json'])).stdout);
      expect(status.queues).toEqual([{ name: 'cli-local-risk-events', visible: 1, inFlight: 0, delayed: 0 }]);
      expect(status.dlqs).toEqual([{ name: 'cli-local-risk-events-dlq', visible: 0, inFlight: 0, delayed: 0 }]);
    } finally {
      env = saved;
    }
  });
});
