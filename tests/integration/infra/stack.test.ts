// The deployable stack, checked on what `npm run package` actually produces: the CloudFormation
// template in .serverless/ (packaged once, offline, with no AWS credentials) and the function zip.
// Optional parts (FIFO queue, VPC, alarm email) are CloudFormation conditions, evaluated here for
// each parameter value rather than deployed.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AwsJsonCall } from '../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../functions/adapters/dynamodb/state-store.ts';
import { FakeDynamoDb } from '../../../local/aws/in-memory-dynamodb.ts';
import { answerFromTable } from '../../support/dynamodb-table-call.ts';
import {
  asArray,
  conditionHolds,
  type Json,
  type JsonObject,
  type Packaged,
  packageStack,
  readZip,
  type Resource,
  resourcesCreated,
  resourcesOfType,
  ROOT,
  strings,
  target,
  type Template,
} from './template.ts';

jest.setTimeout(180_000);

/**
 * The IAM actions the state store's requests need, from the requests it sends through every path
 * (claim, its refusal and takeover with a recorded decision, release, decisions, history): a
 * transaction needs the action of each of its items.
 */
async function stateStoreActions(): Promise<string[]> {
  const table = new FakeDynamoDb();
  const actions = new Set<string>();
  const ITEM_ACTIONS: Record<string, string> = { ConditionCheck: 'ConditionCheckItem', Put: 'PutItem', Update: 'UpdateItem', Get: 'GetItem' };
  const call = (async (operation: string, input: object) => {
    const items = (input as { TransactItems?: Record<string, unknown>[] }).TransactItems;
    for (const action of items ? items.map((item) => ITEM_ACTIONS[Object.keys(item)[0]!]!) : [operation]) actions.add(`dynamodb:${action}`);
    return answerFromTable(table, operation, input);
  }) as AwsJsonCall;
  let now = Date.UTC(2026, 10, 30);
  const store = new DynamoDbStateStore(call, 'state', () => now);
  const ref = (eventId: string) => ({ eventId, accountId: 'desk-1', symbol: 'BTCUSDT' });
  const first = await store.claim(ref('e1'), { issuedAtMs: now, leverage: 5, leaseMs: 1000 });
  if (first.status !== 'claimed') throw new Error(first.status);
  await first.release('retrying', undefined);
  now += 2000;
  await store.claim(ref('e2'), { issuedAtMs: now, leverage: 3, leaseMs: 1000 }); // refused: e1 left it in flight
  const second = await store.claim(ref('e2'), { issuedAtMs: now, leverage: 3, leaseMs: 1000, replacing: 'e1', replacedApplied: { leverage: 5 } });
  if (second.status !== 'claimed') throw new Error(second.status);
  await second.release('applied', { published: true });
  await store.recordDecision(ref('e3'), { published: true });
  await store.earlierDecision(ref('e3'));
  await store.history(ref('e3'));
  return [...actions].sort();
}

const STAGE = 'dev';
const BINANCE_WEIGHT_PER_MINUTE = 6000;
/** Worst weight of one delivery of an event: POST um/leverage (1) + GET um/symbolConfig read-back (5). */
const WORST_WEIGHT_PER_EVENT = 6;

/** The prod stage's caps for the wiring test: a JSON --param, as an operator would pass it. */
const PROD_CAPS = { BTCUSDT: 20, '*': 10 };
/** What packaging prod requires besides: an alarm subscriber and the named producers. */
const PROD_REQUIRED = { alarmEmail: 'oncall@example.com', riskEventProducers: 'arn:aws:iam::111122223333:role/risk-engine' };
/** The alias every trigger invokes (infra/live-alias.cjs). */
const ALIAS_ID = 'ChangeDashleverageLambdaLiveAlias';

let packaged: Packaged;
let template: Template;
let resources: Record<string, Resource>;
let fn: Resource;
let fnId: string;
let env: Record<string, Json>;
/** The prod stage, packaged into a temp dir (osls empties .serverless/ on every package, so first). */
let prod: Packaged;
let prodEnv: Record<string, Json>;
/** Output of a package run with a malformed safety param (it must fail). */
let badParamFailure: string;

function functionEnv(of: Template): Record<string, Json> {
  const [[, resource]] = resourcesOfType(of, 'AWS::Lambda::Function') as [[string, Resource]];
  return (resource.Properties.Environment as JsonObject).Variables as Record<string, Json>;
}

beforeAll(() => {
  try {
    packageStack('prod', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-bad-')), params: { ...PROD_REQUIRED, dryRun: 'maybe' } });
    badParamFailure = 'packaged';
  } catch (error) {
    badParamFailure = (error as Error).message;
  }
  prod = packageStack('prod', {
    outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-prod-')),
    params: { ...PROD_REQUIRED, leverageCaps: JSON.stringify(PROD_CAPS), lambdaTracing: 'Active' },
  });
  prodEnv = functionEnv(prod.template);
  packaged = packageStack(STAGE);
  template = packaged.template;
  resources = template.Resources;
  const functions = resourcesOfType(template, 'AWS::Lambda::Function');
  expect(functions).toHaveLength(1);
  [fnId, fn] = functions[0]!;
  env = (fn.Properties.Environment as JsonObject).Variables as Record<string, Json>;
  console.log(`packaged in ${packaged.seconds.toFixed(1)} s${packaged.stubbed ? ' (stub bundle: dist/ not built yet)' : ''}`);
});

function the(id: string): Resource {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource;
}

/** Logical ids a node points at through Ref/GetAtt, anywhere inside it (Fn::If branches too). */
function pointsAt(node: Json | undefined): string[] {
  if (!node || typeof node !== 'object') return [];
  const direct = target(node);
  if (direct) return direct === 'AWS::NoValue' ? [] : [direct];
  return (Array.isArray(node) ? node : Object.values(node)).flatMap((item) => pointsAt(item));
}

function queuesWithMappings(): [string, Resource][] {
  return resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, mapping]) => {
    const queueId = target(mapping.Properties.EventSourceArn);
    return [queueId!, the(queueId!)];
  });
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Principal?: Json;
}

function roleStatements(roleId: string): Statement[] {
  const policies = (the(roleId).Properties.Policies ?? []) as JsonObject[];
  return policies.flatMap((policy) => (policy.PolicyDocument as JsonObject).Statement as unknown as Statement[]);
}

function functionRoleId(): string {
  const roleId = target(fn.Properties.Role);
  expect(roleId).toBeDefined();
  return roleId!;
}

describe('packaging', () => {
  test('produces the templates, state and function zip in .serverless/ from the esbuild bundle, without credentials', () => {
    for (const file of ['cloudformation-template-update-stack.json', 'cloudformation-template-create-stack.json', 'serverless-state.json', 'change-leverage.zip']) {
      expect(existsSync(path.join(ROOT, '.serverless', file))).toBe(true);
    }
    expect(packaged.output).toContain('Service packaged');
  });

  test('the function code is exactly the bundle, zipped as index.mjs', () => {
    const entries = readZip(packaged.artifact);
    expect([...entries.keys()]).toEqual(['index.mjs']);
    expect(entries.get('index.mjs')!.equals(readFileSync(path.join(packaged.bundleDir, 'index.mjs')))).toBe(true);
    const code = fn.Properties.Code as JsonObject;
    expect(String(code.S3Key)).toMatch(new RegExp(`/${path.basename(packaged.artifact).replace('.', '\\.')}$`));
  });

  test('npm run package builds first unless pointed at a bundle', () => {
    const script = readFileSync(path.join(ROOT, 'scripts/package.ts'), 'utf8');
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.package).toBe('tsx scripts/package.ts');
    expect(script).toMatch(/run\('npm', \['run', '--silent', 'build'\]\)/);
  });
});

describe('function', () => {
  test('nodejs22.x on arm64, 256 MB, ESM handler index.handler, 30 s', () => {
    expect(fn.Properties.Runtime).toBe('nodejs22.x');
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.MemorySize).toBe(256);
    expect(fn.Properties.Handler).toBe('index.handler');
    expect(fn.Properties.Timeout).toBe(packaged.params.functionTimeout);
    expect(fn.Properties.Timeout).toBe(30);
  });

  test('has every environment variable the function requires', () => {
    expect(Object.keys(env).sort()).toEqual(
      [
        'BINANCE_PAPI_URL',
        'BINANCE_RECV_WINDOW',
        'BINANCE_REQUEST_TIMEOUT_MS',
        'BINANCE_SECRET_ID',
        'BINANCE_TIME_URL',
        'CREDENTIALS_CACHE_TTL_SECONDS',
        'MAX_RECEIVE_COUNT',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'RESULT_TOPIC_ARN',
        'STATE_TABLE_NAME',
        'PAUSE_PARAMETER',
        'LEVERAGE_CAPS',
        'MAX_EVENT_AGE_SECONDS',
        'DRY_RUN',
      ].sort(),
    );
    expect(env.BINANCE_SECRET_ID).toBe(`leverage-guard/${STAGE}/{accountId}`);
    expect(env.BINANCE_PAPI_URL).toBe('https://papi.binance.com');
    expect(env.BINANCE_TIME_URL).toBe('https://fapi.binance.com/fapi/v1/time');
    expect(env.BINANCE_RECV_WINDOW).toBe('5000');
    expect(Number(env.BINANCE_REQUEST_TIMEOUT_MS)).toBeLessThan(Number(fn.Properties.Timeout) * 1000);
    expect(Number(env.CREDENTIALS_CACHE_TTL_SECONDS)).toBeGreaterThan(0);
    expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe('LeverageGuard');
    for (const value of Object.values(env)) {
      expect(typeof value === 'string' || target(value) !== undefined).toBe(true); // Lambda wants strings
    }
  });

  test('reports outcomes to the result topic, whose ARN is a stack output', () => {
    expect(the('ResultTopic').Type).toBe('AWS::SNS::Topic');
    expect(env.RESULT_TOPIC_ARN).toEqual({ Ref: 'ResultTopic' });
    expect(template.Outputs.ResultTopicArn?.Value).toEqual({ Ref: 'ResultTopic' });
  });

  test('reserved concurrency comes from the stage parameter and a burst fits Binance IP weight budget', () => {
    const reserved = fn.Properties.ReservedConcurrentExecutions as number;
    expect(reserved).toBe(packaged.params.reservedConcurrency);
    expect(Number.isInteger(reserved) && reserved >= 1).toBe(true);
    for (const [, mapping] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
      const batchSize = mapping.Properties.BatchSize as number;
      // every event in flight taking the worst path stays well inside one minute's weight
      expect(reserved * batchSize * WORST_WEIGHT_PER_EVENT).toBeLessThanOrEqual(BINANCE_WEIGHT_PER_MINUTE / 10);
      // SQS pollers must never be throttled by reserved concurrency (a throttle counts as a receive)
      const maximum = (mapping.Properties.ScalingConfig as JsonObject).MaximumConcurrency as number;
      expect(maximum).toBeGreaterThanOrEqual(2);
      expect(maximum).toBeLessThan(reserved);
    }
  });

  test('the default (prod) reserved concurrency is 5', () => {
    const defaults = readFileSync(path.join(ROOT, 'infra/config/default.yml'), 'utf8');
    expect(defaults).toMatch(/^reservedConcurrency: 5$/m);
  });
});

describe('risk-event queues', () => {
  test('MAX_RECEIVE_COUNT equals the redrive maxReceiveCount of every queue feeding the function, from one parameter', () => {
    const redriven = resourcesOfType(template, 'AWS::SQS::Queue').filter(([, queue]) => queue.Properties.RedrivePolicy);
    expect(redriven.map(([id]) => id).sort()).toEqual(['AsyncFailureQueue', 'RiskFifoQueue', 'RiskQueue']);
    for (const [, queue] of redriven) {
      const redrive = queue.Properties.RedrivePolicy as JsonObject;
      expect(String(redrive.maxReceiveCount)).toBe(env.MAX_RECEIVE_COUNT);
      expect(redrive.maxReceiveCount).toBe(packaged.params.maxReceiveCount);
      expect(the(target(redrive.deadLetterTargetArn)!).Type).toBe('AWS::SQS::Queue');
    }
  });

  test('visibility timeout is at least 6x the function timeout on every queue feeding it', () => {
    const mapped = queuesWithMappings();
    expect(mapped.length).toBeGreaterThan(0);
    for (const [, queue] of mapped) {
      expect(queue.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (fn.Properties.Timeout as number));
    }
  });

  test('mappings report batch item failures, with small batches and no batching delay', () => {
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    expect(mappings.map(([id]) => id).sort()).toEqual(['AsyncFailureQueueEventSourceMapping', 'RiskFifoQueueEventSourceMapping', 'RiskQueueEventSourceMapping']);
    for (const [, mapping] of mappings) {
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(target(mapping.Properties.FunctionName)).toBe(ALIAS_ID); // the alias, never $LATEST
      expect(mapping.Properties.BatchSize as number).toBeLessThanOrEqual(10);
    }
    const standard = the('RiskQueueEventSourceMapping').Properties;
    expect(standard.MaximumBatchingWindowInSeconds as number).toBeLessThanOrEqual(1);
    // FIFO event sources do not support a batching window at all
    expect(the('RiskFifoQueueEventSourceMapping').Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  test('the FIFO variant is a .fifo queue with a .fifo DLQ', () => {
    const fifo = the('RiskFifoQueue').Properties;
    const dlq = the(target((fifo.RedrivePolicy as JsonObject).deadLetterTargetArn)!).Properties;
    expect(fifo.FifoQueue).toBe(true);
    expect(String(fifo.QueueName)).toMatch(/\.fifo$/);
    expect(dlq.FifoQueue).toBe(true);
    expect(String(dlq.QueueName)).toMatch(/\.fifo$/);
    expect(fifo.ContentBasedDeduplication).toBe(true);
  });

  test.each([
    ['standard', ['RiskQueue', 'RiskDlq', 'RiskQueueEventSourceMapping', 'RiskDlqAlarm'], ['RiskFifoQueue', 'RiskFifoDlq', 'RiskFifoQueueEventSourceMapping', 'RiskFifoDlqAlarm']],
    ['fifo', ['RiskFifoQueue', 'RiskFifoDlq', 'RiskFifoQueueEventSourceMapping', 'RiskFifoDlqAlarm'], ['RiskQueue', 'RiskDlq', 'RiskQueueEventSourceMapping', 'RiskDlqAlarm']],
    ['both', ['RiskQueue', 'RiskDlq', 'RiskQueueEventSourceMapping', 'RiskFifoQueue', 'RiskFifoDlq', 'RiskFifoQueueEventSourceMapping'], []],
  ])('RiskQueueMode=%s creates exactly its queues and mappings', (mode, present, absent) => {
    const created = resourcesCreated(template, { RiskQueueMode: mode });
    for (const id of present) expect(created).toContain(id);
    for (const id of absent) expect(created).not.toContain(id);
    for (const [id, output] of Object.entries(template.Outputs)) {
      if (output.Condition) expect([id, conditionHolds(template, output.Condition, { RiskQueueMode: mode })]).toEqual([id, created.has(target(output.Value)!)]);
    }
  });

  test('the stage default is the standard queue only', () => {
    expect(template.Parameters.RiskQueueMode?.Default).toBe('standard');
    expect(template.Parameters.RiskQueueMode?.AllowedValues).toEqual(['standard', 'fifo', 'both']);
  });
});

describe('EventBridge rule', () => {
  const pattern = JSON.parse(readFileSync(path.join(ROOT, 'infra/risk-event-pattern.json'), 'utf8'));

  test('matches the shared risk-event pattern on the stage bus and targets the alias with retries and a DLQ', () => {
    expect(pattern).toEqual({ source: ['leverage-guard.risk'], 'detail-type': ['RiskLimitBreached', 'DeleverageRequested'] });
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventPattern).toEqual(pattern);
    expect(rule.Properties.EventBusName).toEqual({ 'Fn::GetAtt': ['RiskEventBus', 'Name'] }); // the stage's own bus
    expect(the('RiskEventBus').Properties.Name).toBe(`leverage-guard-${STAGE}-risk`);
    const targets = rule.Properties.Targets as JsonObject[];
    expect(targets).toHaveLength(1);
    const ruleTarget = targets[0]!;
    expect(target(ruleTarget.Arn)).toBe(ALIAS_ID);
    const retry = ruleTarget.RetryPolicy as JsonObject;
    expect(retry.MaximumRetryAttempts as number).toBeGreaterThan(0);
    expect(retry.MaximumEventAgeInSeconds as number).toBeGreaterThanOrEqual(60);
    const dlqId = target((ruleTarget.DeadLetterConfig as JsonObject).Arn);
    expect(the(dlqId!).Type).toBe('AWS::SQS::Queue');
  });

  test('EventBridge may invoke the function, and send to its DLQ only for this rule', () => {
    const [, rule] = resourcesOfType(template, 'AWS::Events::Rule')[0]!;
    const dlqId = target(((rule.Properties.Targets as JsonObject[])[0]!.DeadLetterConfig as JsonObject).Arn)!;
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(
      ([, permission]) => permission.Properties.Principal === 'events.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    expect(target(permissions[0]![1].Properties.FunctionName)).toBe(ALIAS_ID);
    expect(strings(permissions[0]![1].Properties.SourceArn).join('/')).toContain(`rule/RiskEventBus/Name/${rule.Properties.Name}`);
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(([, policy]) =>
      pointsAt(policy.Properties.Queues).includes(dlqId),
    );
    expect(policies).toHaveLength(1);
    const statements = (policies[0]![1].Properties.PolicyDocument as JsonObject).Statement as unknown as (Statement & { Condition: JsonObject })[];
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(statements[0]!.Action).toBe('sqs:SendMessage');
    const sourceArn = strings((statements[0]!.Condition.ArnEquals as JsonObject)['aws:SourceArn']).join('');
    expect(sourceArn).toMatch(new RegExp(`:rule/leverage-guard-${STAGE}-risk/${rule.Properties.Name}$`));
  });
});

describe('scheduled rules', () => {
  test('no stage ships a schedule: only rules an operator writes are deployed', () => {
    for (const packagedTemplate of [template, prod.template]) {
      expect(resourcesOfType(packagedTemplate, 'AWS::Scheduler::Schedule')).toEqual([]);
    }
    // the example lives in comments, under names no real desk or secret has
    const rules = readFileSync(path.join(ROOT, 'infra/config/schedules.yml'), 'utf8');
    expect(rules).toMatch(/^rules: \[\]$/m);
    expect(rules).toContain('accountId: EXAMPLE-ACCOUNT');
  });

  test('the Scheduler role may only invoke the alias live and write to the Scheduler DLQ', () => {
    const role = the('SchedulerRole').Properties;
    const trust = (role.AssumeRolePolicyDocument as JsonObject).Statement as unknown as Statement[];
    expect(trust.map((statement) => statement.Principal)).toEqual([{ Service: 'scheduler.amazonaws.com' }]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    const grants = roleStatements('SchedulerRole').map((statement) => [statement.Effect, asArray(statement.Action), pointsAt(statement.Resource)]);
    expect(grants).toEqual([
      ['Allow', ['lambda:InvokeFunction'], [ALIAS_ID]],
      ['Allow', ['sqs:SendMessage'], ['SchedulerDlq']],
    ]);
  });
});

/** The on-failure destination of the function's async invocations. */
function onFailureDestination(): string {
  const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig');
  expect(configs).toHaveLength(1);
  return target(((configs[0]![1].Properties.DestinationConfig as JsonObject).OnFailure as JsonObject).Destination)!;
}

/** The queues subscribed to a topic, by logical id, with their subscription's properties. */
function subscribedQueues(topicId: string): [string, JsonObject][] {
  return resourcesOfType(template, 'AWS::SNS::Subscription')
    .filter(([, subscription]) => target(subscription.Properties.TopicArn) === topicId)
    .map(([, subscription]) => [target(subscription.Properties.Endpoint)!, subscription.Properties]);
}

describe('asynchronous invocations', () => {
  test('two retries, then the invocation record goes to an on-failure topic the function may publish to', () => {
    const [, config] = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')[0]!;
    expect(target(config.Properties.FunctionName)).toBe(fnId);
    expect(config.Properties.Qualifier).toBe('live'); // retries and destination are per qualifier: the one triggers invoke
    expect(config.Properties.MaximumRetryAttempts).toBe(2);
    const topicId = onFailureDestination();
    expect([topicId, the(topicId).Type]).toEqual(['AsyncFailureTopic', 'AWS::SNS::Topic']);
    const publishes = roleStatements(functionRoleId()).filter((statement) => asArray(statement.Action).includes('sns:Publish'));
    expect(publishes.flatMap((statement) => pointsAt(statement.Resource)).sort()).toEqual(['AsyncFailureTopic', 'ResultTopic']);
    expect(roleStatements(functionRoleId()).filter((statement) => asArray(statement.Action).includes('sqs:SendMessage'))).toEqual([]);
  });

  test('the topic fans each record out, unwrapped, to a queue feeding the function and to an archive kept for redrive', () => {
    const subscribed = subscribedQueues(onFailureDestination());
    expect(subscribed.map(([id]) => id).sort()).toEqual(['AsyncFailureDlq', 'AsyncFailureQueue']);
    for (const [id, subscription] of subscribed) {
      expect([id, subscription.Protocol, subscription.RawMessageDelivery]).toEqual([id, 'sqs', true]);
    }
    const mapped = queuesWithMappings().map(([id]) => id);
    expect(mapped).toContain('AsyncFailureQueue');
    expect(mapped).not.toContain('AsyncFailureDlq');
    expect(the('AsyncFailureDlq').Properties.MessageRetentionPeriod).toBe(1209600);
    expect(target((the('AsyncFailureQueue').Properties.RedrivePolicy as JsonObject).deadLetterTargetArn)).toBe('AsyncFailureQueueDlq');
  });

  test('only the on-failure topic may send to those two queues', () => {
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').filter(([, policy]) => pointsAt(policy.Properties.Queues).includes('AsyncFailureQueue'));
    expect(policies).toHaveLength(1);
    const [, policy] = policies[0]!;
    expect(pointsAt(policy.Properties.Queues).sort()).toEqual(['AsyncFailureDlq', 'AsyncFailureQueue']);
    const statements = (policy.Properties.PolicyDocument as JsonObject).Statement as unknown as (Statement & { Condition: JsonObject })[];
    expect(statements).toHaveLength(1);
    expect([statements[0]!.Effect, statements[0]!.Principal, statements[0]!.Action]).toEqual(['Allow', { Service: 'sns.amazonaws.com' }, 'sqs:SendMessage']);
    expect((statements[0]!.Condition.ArnEquals as JsonObject)['aws:SourceArn']).toEqual({ Ref: 'AsyncFailureTopic' });
  });

  test('the EventBridge rule\'s and the Scheduler\'s DLQs are not fed to the function: they hold the only copy of events it never received', () => {
    const mapped = queuesWithMappings().map(([id]) => id);
    expect(mapped).not.toContain('EventBridgeDlq');
    expect(mapped).not.toContain('SchedulerDlq');
  });

  test('docs/deploy.md has a redrive step for every queue that keeps failed events, by its name', () => {
    const runbook = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8').split('### Redrive the DLQs')[1]!;
    for (const id of ['RiskDlq', 'AsyncFailureDlq', 'AsyncFailureQueueDlq', 'EventBridgeDlq', 'SchedulerDlq']) {
      const name = (the(id).Properties.QueueName as string).replace(`leverage-guard-${STAGE}-`, 'leverage-guard-<stage>-');
      expect([id, runbook.includes(`--queue-name ${name}`)]).toEqual([id, true]);
    }
  });
});

describe('function role (least privilege)', () => {
  const statements = () => roleStatements(functionRoleId());
  const byService = (service: string) =>
    statements().filter((statement) => asArray(statement.Action).some((action) => action.startsWith(`${service}:`)));

  test('reads only the stage secrets, by name prefix, and nothing else in Secrets Manager', () => {
    const secrets = byService('secretsmanager');
    expect(secrets).toHaveLength(1);
    expect(asArray(secrets[0]!.Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secrets[0]!.Resource).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:leverage-guard/${STAGE}/*`,
    });
    // the secret id template the function uses sits under that prefix
    const prefix = (env.BINANCE_SECRET_ID as string).split('{accountId}')[0];
    expect(strings(secrets[0]!.Resource)[0]).toContain(`:secret:${prefix}*`);
  });

  test('publishes only to the result topic and (as Lambda, for its on-failure records) the on-failure topic', () => {
    const sns = byService('sns');
    expect(sns).toHaveLength(2);
    for (const statement of sns) expect(asArray(statement.Action)).toEqual(['sns:Publish']);
    expect(sns.map((statement) => statement.Resource)).toEqual([{ Ref: 'ResultTopic' }, { Ref: 'AsyncFailureTopic' }]);
  });

  test('touches only the queues of this stack', () => {
    const sqs = byService('sqs');
    expect(sqs.length).toBeGreaterThan(0);
    for (const statement of sqs) {
      const queues = pointsAt(statement.Resource);
      expect(queues.length).toBeGreaterThan(0);
      for (const id of queues) expect(the(id).Type).toBe('AWS::SQS::Queue');
    }
    const polling = sqs.find((statement) => asArray(statement.Action).includes('sqs:ReceiveMessage'));
    expect(pointsAt(polling?.Resource).sort()).toEqual(queuesWithMappings().map(([id]) => id).sort());
  });

  test('reads and conditionally writes single items of the state table: exactly what the state store sends, nothing else in DynamoDB', async () => {
    const dynamodb = byService('dynamodb');
    expect(dynamodb).toHaveLength(1);
    expect(dynamodb[0]!.Effect).toBe('Allow');
    expect(asArray(dynamodb[0]!.Action).sort()).toEqual(await stateStoreActions());
    // the table itself: no index ARNs, no `*`
    expect(dynamodb[0]!.Resource).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
  });

  test('reads the pause parameter and no other SSM parameter', () => {
    const ssm = byService('ssm');
    expect(ssm).toHaveLength(1);
    expect(ssm[0]!.Effect).toBe('Allow');
    expect(asArray(ssm[0]!.Action)).toEqual(['ssm:GetParameter']);
    expect(ssm[0]!.Resource).toEqual({
      'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${env.PAUSE_PARAMETER}`,
    });
    expect(env.PAUSE_PARAMETER).toMatch(/^\/leverage-guard\/[a-z0-9-]+\/paused$/); // a name starting with "/" joins the ARN without another
  });

  test('every statement is an Allow from the expected services', () => {
    const services = new Set(statements().flatMap((statement) => asArray(statement.Action).map((action) => action.split(':')[0])));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'secretsmanager', 'sns', 'sqs', 'ssm']);
    for (const statement of statements()) expect(statement.Effect).toBe('Allow');
  });

  test('no wildcard action, no `*` resource, and no wildcard in ARNs but the secret suffix', () => {
    for (const statement of statements()) {
      expect(asArray(statement.Action).filter((action) => action.includes('*'))).toEqual([]);
      for (const value of strings(statement.Resource)) {
        expect(value).not.toBe('*');
        if (/:(secretsmanager|sns|sqs|ssm|dynamodb):/.test(value)) expect(value.replace(/:secret:[^*]*\/\*$/, '')).not.toContain('*');
      }
    }
  });
});

describe('safety rails: state table', () => {
  const table = () => the('StateTable');

  test('is an on-demand table keyed by pk (S) alone, with TTL on expiresAt and point-in-time recovery', () => {
    expect(resourcesOfType(template, 'AWS::DynamoDB::Table').map(([id]) => id)).toEqual(['StateTable']);
    const properties = table().Properties;
    expect(properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(properties.ProvisionedThroughput).toBeUndefined();
    expect(properties.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(properties.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
    expect(properties.GlobalSecondaryIndexes).toBeUndefined();
    expect(properties.LocalSecondaryIndexes).toBeUndefined();
    expect(properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(properties.TableName).toBe(`leverage-guard-${STAGE}-state`);
    expect(template.Outputs.StateTableName?.Value).toEqual({ Ref: 'StateTable' });
  });

  test('prod (the default for every stage) retains the table and protects it from deletion', () => {
    const prodTable = prod.template.Resources.StateTable!;
    expect(prodTable.DeletionPolicy).toBe('Retain');
    expect(prodTable.UpdateReplacePolicy).toBe('Retain');
    expect(prodTable.Properties.DeletionProtectionEnabled).toBe(true);
    expect(prodTable.Properties.TableName).toBe('leverage-guard-prod-state');
    const defaults = readFileSync(path.join(ROOT, 'infra/config/default.yml'), 'utf8');
    expect(defaults).toMatch(/^stateTableDeletionPolicy: Retain\b/m);
    expect(defaults).toMatch(/^stateTableDeletionProtection: true$/m);
  });

  test('dev, a throwaway stage, lets `osls remove` delete it', () => {
    expect(table().DeletionPolicy).toBe('Delete');
    expect(table().UpdateReplacePolicy).toBe('Delete');
    expect(table().Properties.DeletionProtectionEnabled).toBe(false);
  });

  test('the function gets its name as STATE_TABLE_NAME', () => {
    expect(env.STATE_TABLE_NAME).toEqual({ Ref: 'StateTable' });
    expect(prodEnv.STATE_TABLE_NAME).toEqual({ Ref: 'StateTable' });
  });
});

describe('safety rails: pause switch', () => {
  const PARAMETER = `/leverage-guard/${STAGE}/paused`;

  test('the function reads the stage pause parameter, named in PAUSE_PARAMETER and a stack output', () => {
    expect(env.PAUSE_PARAMETER).toBe(PARAMETER);
    expect(prodEnv.PAUSE_PARAMETER).toBe('/leverage-guard/prod/paused');
    expect(template.Outputs.PauseParameterName?.Value).toBe(PARAMETER);
  });

  test('the stack does not own the parameter, so no deploy can write `false` over an operator\'s `true`', () => {
    // A stack-owned AWS::SSM::Parameter gets its template Value written back whenever CloudFormation
    // updates it (description or stack tags changed, stack re-created): an incident-time deploy
    // would silently un-pause. The function treats a missing parameter as "not paused".
    for (const packagedTemplate of [template, prod.template]) {
      expect(resourcesOfType(packagedTemplate, 'AWS::SSM::Parameter')).toEqual([]);
      expect(packagedTemplate.Resources.PauseParameter).toBeUndefined();
    }
  });

  test('docs/deploy.md has the pause, check and resume commands for that exact name', () => {
    const docs = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
    const runbook = docs.slice(docs.indexOf('## Runbook'));
    expect(docs).toContain('## Runbook');
    expect(runbook).toMatch(/aws ssm put-parameter --name \/leverage-guard\/<stage>\/paused --type String --value true --overwrite/);
    expect(runbook).toMatch(/aws ssm put-parameter --name \/leverage-guard\/<stage>\/paused --type String --value false --overwrite/);
    expect(runbook).toContain('aws ssm get-parameter --name /leverage-guard/<stage>/paused');
    expect(runbook).toContain('aws sqs start-message-move-task --source-arn');
    expect(runbook).toContain('aws lambda update-event-source-mapping --uuid');
    expect(runbook).toContain('--no-enabled');
    expect(runbook).toContain('PAUSED');
  });
});

describe('safety rails: function settings from stage params', () => {
  test('LEVERAGE_CAPS, MAX_EVENT_AGE_SECONDS and DRY_RUN carry the stage params, as strings', () => {
    expect(env.LEVERAGE_CAPS).toBe(''); // no caps of our own by default: Binance limits only
    expect(packaged.params.leverageCaps).toBe('');
    expect(env.MAX_EVENT_AGE_SECONDS).toBe(String(packaged.params.maxEventAgeSeconds));
    expect(env.MAX_EVENT_AGE_SECONDS).toBe('900');
    expect(env.DRY_RUN).toBe(String(packaged.params.dryRun));
    expect(env.DRY_RUN).toBe('false');
  });

  test('prod ships caps with a "*" entry (infra/config/default.yml); only dev runs uncapped', () => {
    expect(prod.params.leverageCaps).toEqual({ BTCUSDT: 20, ETHUSDT: 20, '*': 10 });
    expect(packaged.params.leverageCaps).toBe('');
  });

  test('a --param override reaches the function (caps as a JSON map with a "*" default)', () => {
    expect(JSON.parse(prodEnv.LEVERAGE_CAPS as string)).toEqual(PROD_CAPS);
    expect(prodEnv.DRY_RUN).toBe('false');
    expect(prodEnv.MAX_EVENT_AGE_SECONDS).toBe('900');
  });

  test('a malformed safety param fails packaging, naming the param', () => {
    expect(badParamFailure).toMatch(/npm run package failed/);
    expect(badParamFailure).toMatch(/param dryRun: must be true or false, got "maybe"/);
  });

  test('a BINANCE_REQUEST_TIMEOUT_MS at the function timeout fails packaging, naming both params', () => {
    expect(env.BINANCE_REQUEST_TIMEOUT_MS).toBe(String(packaged.params.binanceRequestTimeoutMs));
    let failure = 'packaged';
    try {
      packageStack('prod', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-bad-')), params: { binanceRequestTimeoutMs: String(Number(packaged.params.functionTimeout) * 1000) } });
    } catch (error) {
      failure = (error as Error).message;
    }
    expect(failure).toMatch(/npm run package failed/);
    expect(failure).toMatch(/param binanceRequestTimeoutMs: 30000 ms does not fit the function timeout \(functionTimeout 30 s/);
  }, 120_000);

  test('MAX_EVENT_AGE_SECONDS outlives the SQS retries (else a record\'s last deliveries always arrive stale)', () => {
    const maxEventAge = Number(env.MAX_EVENT_AGE_SECONDS);
    const retrySpan = ((packaged.params.maxReceiveCount as number) - 1) * (packaged.params.visibilityTimeout as number);
    expect(maxEventAge).toBeGreaterThanOrEqual(retrySpan);
  });
});

describe('optional VPC placement', () => {
  test('VpcConfig and the ENI policy apply only when subnets are given', () => {
    expect(fn.Properties.VpcConfig).toEqual({
      'Fn::If': [
        'UseVpc',
        { SubnetIds: { Ref: 'VpcSubnetIds' }, SecurityGroupIds: { Ref: 'VpcSecurityGroupIds' } },
        { Ref: 'AWS::NoValue' },
      ],
    });
    const managed = the(functionRoleId()).Properties.ManagedPolicyArns as Json[];
    expect(managed).toHaveLength(1);
    expect((managed[0] as JsonObject)['Fn::If']).toEqual([
      'UseVpc',
      { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' },
      { Ref: 'AWS::NoValue' },
    ]);
    expect(conditionHolds(template, 'UseVpc')).toBe(false);
    expect(conditionHolds(template, 'UseVpc', { VpcSubnetIds: 'subnet-0a,subnet-0b', VpcSecurityGroupIds: 'sg-01' })).toBe(true);
  });
});

describe('tracing', () => {
  const roleActions = (of: Template) =>
    resourcesOfType(of, 'AWS::IAM::Role').flatMap(([, role]) =>
      ((role.Properties.Policies as JsonObject[] | undefined) ?? []).flatMap((policy) =>
        ((policy.PolicyDocument as JsonObject).Statement as JsonObject[]).flatMap((statement) => asArray(statement.Action as string | string[])),
      ),
    );

  test('off by default; --param lambdaTracing=Active turns X-Ray on with its permissions', () => {
    expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(roleActions(template).filter((action) => action.startsWith('xray:'))).toEqual([]);
    const [[, prodFn]] = resourcesOfType(prod.template, 'AWS::Lambda::Function') as [[string, Resource]];
    expect(prodFn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(roleActions(prod.template)).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
  });
});

describe('alarms', () => {
  const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm');
  const dimension = (alarm: Resource, name: string) =>
    ((alarm.Properties.Dimensions ?? []) as JsonObject[]).find((entry) => entry.Name === name)?.Value;

  test('every DLQ has a "not empty" alarm, created exactly when the DLQ is', () => {
    const dlqs = new Set<string>();
    for (const [, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
      const redrive = queue.Properties.RedrivePolicy as JsonObject | undefined;
      if (redrive) dlqs.add(target(redrive.deadLetterTargetArn)!);
    }
    for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
      for (const ruleTarget of rule.Properties.Targets as JsonObject[]) dlqs.add(target((ruleTarget.DeadLetterConfig as JsonObject).Arn)!);
    }
    for (const [, schedule] of resourcesOfType(template, 'AWS::Scheduler::Schedule')) {
      dlqs.add(target(((schedule.Properties.Target as JsonObject).DeadLetterConfig as JsonObject).Arn)!);
    }
    // No schedule ships, but every one infra/schedules.cjs generates uses this DLQ (live-alias.test.ts).
    dlqs.add('SchedulerDlq');
    // The on-failure topic's archive: the queue subscribed to it that nothing reads.
    const mapped = queuesWithMappings().map(([id]) => id);
    for (const [queueId] of subscribedQueues(onFailureDestination())) if (!mapped.includes(queueId)) dlqs.add(queueId);
    expect([...dlqs].sort()).toEqual(['AsyncFailureDlq', 'AsyncFailureQueueDlq', 'EventBridgeDlq', 'RiskDlq', 'RiskFifoDlq', 'SchedulerDlq']);
    for (const dlq of dlqs) {
      const watching = alarms().filter(
        ([, alarm]) => target(dimension(alarm, 'QueueName')) === dlq && alarm.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
      );
      expect([dlq, watching.length]).toEqual([dlq, 1]);
      const [, alarm] = watching[0]!;
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expect(alarm.Condition).toBe(the(dlq).Condition);
    }
  });

  test('FAILED outcomes alarm on the function EMF metric', () => {
    const failed = alarms().filter(([, alarm]) => alarm.Properties.MetricName === 'Outcomes' && dimension(alarm, 'status') === 'FAILED');
    expect(failed).toHaveLength(1);
    const [, alarm] = failed[0]!;
    expect(alarm.Properties.Namespace).toBe('LeverageGuard');
    expect(alarm.Properties.Namespace).toBe(env.POWERTOOLS_METRICS_NAMESPACE); // where the function emits
    // CloudWatch matches the exact dimension set the EMF record carries: status + Powertools' service
    expect(((alarm.Properties.Dimensions ?? []) as JsonObject[]).map((entry) => entry.Name).sort()).toEqual(['service', 'status']);
    expect(dimension(alarm, 'status')).toBe('FAILED');
    expect(dimension(alarm, 'service')).toBe(env.POWERTOOLS_SERVICE_NAME); // Powertools adds it to every metric
    expect(alarm.Properties.Statistic).toBe('Sum');
    expect(alarm.Properties.Threshold).toBe(0);
    expect(alarm.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
  });

  test.each(['Errors', 'Throttles', 'DestinationDeliveryFailures'])('function %s alarm', (metric) => {
    const matching = alarms().filter(([, alarm]) => alarm.Properties.Namespace === 'AWS/Lambda' && alarm.Properties.MetricName === metric);
    expect(matching).toHaveLength(1);
    expect(target(dimension(matching[0]![1], 'FunctionName'))).toBe(fnId);
  });

  test('all alarms notify the alarm topic; the email subscription is optional', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const [, alarm] of alarms()) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
    expect(the('AlarmTopic').Type).toBe('AWS::SNS::Topic');
    const subscription = the('AlarmEmailSubscription');
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: 'AlarmTopic' } });
    expect(resourcesCreated(template)).not.toContain('AlarmEmailSubscription');
    expect(resourcesCreated(template, { AlarmEmail: 'oncall@example.com' })).toContain('AlarmEmailSubscription');
  });
});

describe('security', () => {
  test('the result topic is encrypted at rest with the AWS-managed SNS key', () => {
    expect(the('ResultTopic').Properties.KmsMasterKeyId).toBe('alias/aws/sns');
  });

  test('the deployment bucket blocks public access, keeps versions and denies plain HTTP, from the first deploy on', () => {
    for (const file of ['cloudformation-template-create-stack.json', 'cloudformation-template-update-stack.json']) {
      const bucketTemplate = JSON.parse(readFileSync(path.join(ROOT, '.serverless', file), 'utf8')) as Template;
      const bucket = bucketTemplate.Resources.ServerlessDeploymentBucket!.Properties;
      expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const policy = bucketTemplate.Resources.ServerlessDeploymentBucketPolicy!.Properties.PolicyDocument as JsonObject;
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":false');
    }
  });

  test('code signing is a stage parameter: off when empty, enforced on the function when set', () => {
    expect(fn.Properties.CodeSigningConfigArn).toEqual({ 'Fn::If': ['HasCodeSigning', { Ref: 'CodeSigningConfigArn' }, { Ref: 'AWS::NoValue' }] });
    expect(template.Parameters.CodeSigningConfigArn?.Default).toBe('');
    expect(conditionHolds(template, 'HasCodeSigning')).toBe(false);
    const arn = 'arn:aws:lambda:ap-northeast-1:111122223333:code-signing-config:csc-0123456789abcdef0';
    expect(conditionHolds(template, 'HasCodeSigning', { CodeSigningConfigArn: arn })).toBe(true);
    const pattern = new RegExp((template.Parameters.CodeSigningConfigArn as { AllowedPattern?: string }).AllowedPattern!);
    expect(pattern.test(arn)).toBe(true);
    expect(pattern.test('csc-0123456789abcdef0')).toBe(false);
  });

  test('who may send is explicit: the rule listens on the stage bus only; prod names producers on the bus and the queues', () => {
    expect(the('RiskEventBus').Properties.Policy).toBeUndefined(); // dev without producers: account IAM only
    const prodResources = prod.template.Resources;
    const busStatements = ((prodResources.RiskEventBus!.Properties.Policy as JsonObject).Statement as JsonObject[]).map((s) => [s.Effect, s.Action]);
    expect(busStatements).toEqual([['Allow', 'events:PutEvents'], ['Deny', 'events:PutEvents']]);
    for (const [policyId, queueId, condition] of [['RiskQueuePolicy', 'RiskQueue', 'UseStandardQueue'], ['RiskFifoQueuePolicy', 'RiskFifoQueue', 'UseFifoQueue']]) {
      const policy = prodResources[policyId!]!;
      expect(policy.Condition).toBe(condition);
      expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
      const statements = (policy.Properties.PolicyDocument as JsonObject).Statement as JsonObject[];
      expect(statements.map((s) => [s.Effect, s.Action, s.Principal])).toEqual([
        ['Allow', 'sqs:SendMessage', { AWS: [PROD_REQUIRED.riskEventProducers] }],
        ['Deny', 'sqs:SendMessage', '*'],
      ]);
      expect(statements[1]!.Condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': [PROD_REQUIRED.riskEventProducers] } });
    }
  });
});
