// The packaged stack, deployed the way an operator deploys it (`osls deploy --package <dir>`) into
// the AWS emulator (moto), read back through the AWS APIs, then removed with `osls remove`.
// The package directory is deployed after the zip it was built from is deleted: it must carry
// everything itself. moto's CloudFormation skips a few resource types; read_deployed_stack.py
// applies those from the template through the services' APIs and says which (appliedByTest).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../../local/aws/moto-server.ts';
import { ensurePythonTools, type Packaged, packageStack, ROOT } from './template.ts';

jest.setTimeout(240_000);

const REGION = 'ap-northeast-1';
const STAGE = 'dev';
const STACK = `leverage-guard-${STAGE}`;
const ACCOUNT = '123456789012'; // moto's
const PRODUCER = `arn:aws:iam::${ACCOUNT}:role/risk-engine`;
const PARAMS = { riskEventProducers: PRODUCER };
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${STACK}-change-leverage`;
const PYTHON = path.join(ROOT, '.venv/bin/python');

let moto: ChildProcess;
let endpoint: string;
let packaged: Packaged;
let deployed: Record<string, any>;
let removed: Record<string, string[]>;
const seconds: Record<string, number> = {};

function osls(command: string, args: string[]): string {
  const started = Date.now();
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin/osls'), [command, '--stage', STAGE, '--region', REGION, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: REGION,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    },
  });
  seconds[command] = (Date.now() - started) / 1000;
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`osls ${command} failed (${result.status}):\n${output}`);
  return output;
}

function read(...args: string[]): any {
  const result = spawnSync(PYTHON, [path.join(__dirname, 'read_deployed_stack.py'), endpoint, REGION, STACK, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
  });
  if (result.status !== 0) throw new Error(`read_deployed_stack.py failed:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

async function startMotoWithAlias(): Promise<void> {
  const port = await findFreePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn(PYTHON, [path.join(__dirname, 'moto_server_with_alias.py'), '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`moto did not answer at ${endpoint}`);
}

beforeAll(async () => {
  ensurePythonTools();
  packaged = packageStack(STAGE, { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-deploy-')), params: PARAMS });
  rmSync(packaged.artifact); // the build-time zip: the package directory must not need it
  await startMotoWithAlias();
  osls('deploy', ['--package', packaged.outDir, `--param=riskEventProducers=${PRODUCER}`]);
  deployed = read(path.join(packaged.outDir, 'cloudformation-template-update-stack.json'));
  osls('remove', [`--param=riskEventProducers=${PRODUCER}`]);
  removed = read('--removed');
  console.log(`osls deploy ${seconds.deploy?.toFixed(1)} s, osls remove ${seconds.remove?.toFixed(1)} s (moto)`);
});

afterAll(() => {
  moto?.kill('SIGTERM');
});

test('the stack deploys from the package directory alone', () => {
  expect(deployed.stackStatus).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
  // the function code is the zip inside the package directory
  const zip = readFileSync(path.join(packaged.outDir, 'change-leverage.zip'));
  expect(deployed.function.CodeSha256).toBe(createHash('sha256').update(zip).digest('base64'));
});

test('function configuration as packaged', () => {
  expect(deployed.function).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 256, Timeout: 30 });
  expect(deployed.function.Environment.Variables).toMatchObject({
    BINANCE_SECRET_ID: `leverage-guard/${STAGE}/{accountId}`,
    RESULT_TOPIC_ARN: `arn:aws:sns:${REGION}:${ACCOUNT}:${STACK}-results`,
    STATE_TABLE_NAME: `${STACK}-state`,
    PAUSE_PARAMETER: `/leverage-guard/${STAGE}/paused`,
  });
  expect(deployed.concurrency).toBe(3);
});

test('a published version and the alias live pointing at it', () => {
  expect(deployed.alias.AliasArn).toBe(`${FUNCTION_ARN}:live`);
  expect(deployed.versions).toContain(deployed.alias.FunctionVersion);
  expect(deployed.alias.FunctionVersion).not.toBe('$LATEST');
});

test('the SQS mappings (risk events, async failures) invoke the alias and report batch item failures', () => {
  const mappings = deployed.eventSourceMappings as any[];
  expect(mappings.map((m) => m.EventSourceArn).sort()).toEqual([
    `arn:aws:sqs:${REGION}:${ACCOUNT}:${STACK}-async-failures`,
    `arn:aws:sqs:${REGION}:${ACCOUNT}:${STACK}-risk-events`,
  ]);
  for (const mapping of mappings) {
    // moto reports the mapping's function by the version the alias resolved to
    expect([`${FUNCTION_ARN}:live`, `${FUNCTION_ARN}:${deployed.alias.FunctionVersion}`]).toContain(mapping.FunctionArn);
    expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(mapping.BatchSize).toBe(5);
    expect(mapping.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  }
});

test('the rule on the stage bus targets the alias, with retries and its DLQ; the bus names the producer', () => {
  expect(deployed.rules).toHaveLength(1);
  const [rule] = deployed.rules;
  expect(rule.EventBusName).toBe(`${STACK}-risk`);
  expect(JSON.parse(rule.EventPattern)).toEqual(JSON.parse(readFileSync(path.join(ROOT, 'infra/risk-event-pattern.json'), 'utf8')));
  expect(rule.Targets).toHaveLength(1);
  expect(rule.Targets[0]).toMatchObject({
    Arn: `${FUNCTION_ARN}:live`,
    DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${STACK}-eventbridge-dlq` },
    RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
  });
  const policy = JSON.parse(deployed.bus.Policy);
  const allow = policy.Statement.find((statement: any) => statement.Effect === 'Allow');
  const deny = policy.Statement.find((statement: any) => statement.Effect === 'Deny');
  expect(allow).toMatchObject({ Action: 'events:PutEvents', Principal: { AWS: [PRODUCER] } });
  expect(deny).toMatchObject({ Action: 'events:PutEvents', Principal: '*', Condition: { ArnNotLike: { 'aws:PrincipalArn': [PRODUCER] } } });
});

test('the risk queue policy allows the named producer and denies everyone else', () => {
  const policy = JSON.parse(deployed.queues[`${STACK}-risk-events`].Policy);
  expect(policy.Statement.map((statement: any) => [statement.Effect, statement.Action])).toEqual([
    ['Allow', 'sqs:SendMessage'],
    ['Deny', 'sqs:SendMessage'],
  ]);
  expect(policy.Statement[0].Principal).toEqual({ AWS: [PRODUCER] });
  expect(policy.Statement[1].Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [PRODUCER] } });
});

test('IAM: the function role and the Scheduler role as packaged (Scheduler may invoke only the alias)', () => {
  const functionStatements = Object.values(deployed.functionRole).flat() as any[];
  const actions = functionStatements.flatMap((statement) => [statement.Action].flat());
  expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'sns:Publish', 'ssm:GetParameter', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']));
  expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  const scheduler = Object.values(deployed.schedulerRole).flat() as any[];
  expect(scheduler.map((statement) => [statement.Action, [statement.Resource].flat()])).toEqual([
    ['lambda:InvokeFunction', [`${FUNCTION_ARN}:live`]],
    ['sqs:SendMessage', [`arn:aws:sqs:${REGION}:${ACCOUNT}:${STACK}-scheduler-dlq`]],
  ]);
});

test('alarms, async config, result topic encryption, deployment bucket: accepted by the APIs and read back', () => {
  const template = JSON.parse(readFileSync(path.join(packaged.outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  const standardAlarms = Object.entries(template.Resources as Record<string, any>)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm' && resource.Condition !== 'UseFifoQueue')
    .map(([, resource]) => resource.Properties.AlarmName);
  expect(deployed.alarms.map((alarm: any) => alarm.AlarmName).sort()).toEqual(standardAlarms.sort());
  for (const alarm of deployed.alarms) {
    expect(alarm.AlarmActions).toEqual([`arn:aws:sns:${REGION}:${ACCOUNT}:${STACK}-alarms`]);
    expect(alarm.AlarmDescription).toMatch(/Runbook docs\/deploy\.md#[a-z-]+$/);
  }
  expect(deployed.eventInvokeConfigs).toHaveLength(1);
  expect(deployed.eventInvokeConfigs[0]).toMatchObject({
    MaximumRetryAttempts: 2,
    DestinationConfig: { OnFailure: { Destination: `arn:aws:sns:${REGION}:${ACCOUNT}:${STACK}-async-failures` } },
  });
  expect(deployed.resultTopic.KmsMasterKeyId).toBe('alias/aws/sns');
  expect(deployed.dashboards).toEqual([STACK]);
  expect(deployed.bucketVersioning).toBe('Enabled');
  expect(deployed.bucketPublicAccessBlock).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  // What moto's CloudFormation skipped and the test applied through the APIs, named explicitly
  expect(deployed.appliedByTest).toEqual(expect.arrayContaining(['ChangeDashleverageLambdaEvConf', 'RiskQueuePolicy', 'RiskEventBus', 'ServerlessDeploymentBucket']));
});

test('osls remove deletes the stack and, in dev, the state table', () => {
  expect(removed.stacks).not.toContain(STACK);
  expect(removed.functions).toEqual([]);
  expect(removed.tables).not.toContain(`${STACK}-state`);
});
