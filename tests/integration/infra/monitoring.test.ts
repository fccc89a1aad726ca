// What operators are paged for and what they look at, checked on the packaged dev template:
// an alarm for every way an event can go wrong (issue "Ready for production"), each description
// pointing at a runbook section that exists, and a dashboard showing every signal the function
// emits and every queue, from the names the function really emits (functions/change-leverage/metrics.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type JsonObject, packageStack, type Resource, resourcesOfType, ROOT, target, type Template } from './template.ts';

jest.setTimeout(120_000);

const STAGE = 'dev';
let template: Template;
let alarms: [string, Resource][];
const runbook = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
const metricsSource = readFileSync(path.join(ROOT, 'functions/change-leverage/metrics.ts'), 'utf8');

beforeAll(() => {
  template = packageStack(STAGE, { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-monitoring-')) }).template;
  alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
});

const dimensionsOf = (alarm: Resource) => Object.fromEntries(((alarm.Properties.Dimensions ?? []) as JsonObject[]).map((d) => [d.Name, d.Value]));
const find = (metric: string, namespace: string) =>
  alarms.filter(([, alarm]) => alarm.Properties.MetricName === metric && alarm.Properties.Namespace === namespace).map(([, alarm]) => alarm);
const one = (metric: string, namespace: string) => {
  const found = find(metric, namespace);
  expect([metric, found.length]).toEqual([metric, 1]);
  return found[0]!;
};

/** GitHub's anchor for a markdown heading. */
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');

describe('alarms', () => {
  test('every alarm says what happened and links a runbook section of docs/deploy.md that exists', () => {
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((match) => anchor(match[1]!)));
    for (const [id, alarm] of alarms) {
      const description = String(alarm.Properties.AlarmDescription);
      const link = description.match(/Runbook docs\/deploy\.md#([a-z0-9-]+)$/)?.[1];
      // the section is named after the alarm: what the page says is what the runbook is titled
      expect([id, link]).toEqual([id, String(alarm.Properties.AlarmName).replace(`leverage-guard-${STAGE}-`, '')]);
      expect([id, anchors.has(link!)]).toEqual([id, true]);
      expect([id, description.length > 60]).toEqual([id, true]);
    }
  });

  test('authentication refusals (-2014, -2015, -1022; FAILED, never REJECTED) page at the first one', () => {
    const [, alarm] = alarms.find(([, a]) => Array.isArray(a.Properties.Metrics))!;
    const metrics = alarm.Properties.Metrics as JsonObject[];
    const codes = metrics
      .filter((m) => m.MetricStat)
      .map((m) => ((m.MetricStat as JsonObject).Metric as JsonObject))
      .map((metric) => {
        expect(metric.MetricName).toBe('OutcomesByCode');
        expect(metric.Namespace).toBe('LeverageGuard');
        const dimensions = Object.fromEntries((metric.Dimensions as JsonObject[]).map((d) => [d.Name, d.Value]));
        expect(dimensions).toMatchObject({ status: 'FAILED', service: `leverage-guard-${STAGE}` });
        return dimensions.code;
      });
    expect(codes.sort()).toEqual(['-1022', '-2014', '-2015']);
    const expression = metrics.find((m) => m.ReturnData !== false)!;
    for (const id of metrics.filter((m) => m.MetricStat).map((m) => m.Id)) expect(expression.Expression).toContain(String(id));
    expect(alarm.Properties).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
  });

  test('business rejections alarm by rate: more than the stage threshold in 15 minutes', () => {
    const rejected = find('Outcomes', 'LeverageGuard').filter((alarm) => dimensionsOf(alarm).status === 'REJECTED');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.Properties).toMatchObject({ Statistic: 'Sum', Period: 900, Threshold: 3, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('the oldest message of each risk queue: the latency signal', () => {
    const ages = find('ApproximateAgeOfOldestMessage', 'AWS/SQS').filter((alarm) => ['RiskQueue', 'RiskFifoQueue'].includes(target(dimensionsOf(alarm).QueueName)!));
    expect(ages.map((alarm) => target(dimensionsOf(alarm).QueueName)).sort()).toEqual(['RiskFifoQueue', 'RiskQueue']);
    for (const alarm of ages) expect(alarm.Properties.Threshold).toBe(300);
  });

  test('every DLQ alarms before SQS deletes its messages (10 of 14 days)', () => {
    const expiring = find('ApproximateAgeOfOldestMessage', 'AWS/SQS').filter((alarm) => String(alarm.Properties.AlarmName).endsWith('-expiring'));
    expect(expiring.map((alarm) => target(dimensionsOf(alarm).QueueName)).sort()).toEqual(['AsyncFailureDlq', 'EventBridgeDlq', 'RiskDlq', 'RiskFifoDlq', 'SchedulerDlq']);
    for (const alarm of expiring) {
      const dlq = template.Resources[target(dimensionsOf(alarm).QueueName)!]!;
      expect(alarm.Properties.Threshold as number).toBeLessThan(dlq.Properties.MessageRetentionPeriod as number);
      expect(alarm.Properties.Threshold).toBe(10 * 86400);
    }
  });

  test.each([
    ['DestinationDeliveryFailures', 'AWS/Lambda'],
    ['AsyncEventsDropped', 'AWS/Lambda'],
    ['Errors', 'AWS/Lambda'],
    ['Throttles', 'AWS/Lambda'],
  ])('Lambda %s on the function (all versions)', (metric, namespace) => {
    const alarm = one(metric, namespace);
    expect(dimensionsOf(alarm)).toEqual({ FunctionName: { Ref: 'ChangeDashleverageLambdaFunction' } });
    expect(alarm.Properties.Threshold).toBe(0);
  });

  test.each(['FailedInvocations', 'InvocationsFailedToBeSentToDlq'])('EventBridge %s on the risk rule of the stage bus', (metric) => {
    const alarm = one(metric, 'AWS/Events');
    const [, rule] = resourcesOfType(template, 'AWS::Events::Rule')[0]!;
    expect(dimensionsOf(alarm)).toEqual({ EventBusName: `leverage-guard-${STAGE}-risk`, RuleName: rule.Properties.Name });
    expect(template.Resources.RiskEventBus!.Properties.Name).toBe(`leverage-guard-${STAGE}-risk`);
  });

  test.each(['TargetErrorCount', 'InvocationDroppedCount', 'InvocationsFailedToBeSentToDeadLetterCount'])('Scheduler %s on the stage schedule group', (metric) => {
    expect(dimensionsOf(one(metric, 'AWS/Scheduler'))).toEqual({ ScheduleGroup: { Ref: 'ScheduleGroup' } });
  });

  test('p99 duration above 80 % of the function timeout', () => {
    const alarm = one('Duration', 'AWS/Lambda');
    expect(alarm.Properties.ExtendedStatistic).toBe('p99');
    expect(alarm.Properties.Statistic).toEqual({ Ref: 'AWS::NoValue' }); // not both
    const [, fn] = resourcesOfType(template, 'AWS::Lambda::Function')[0]!;
    expect(alarm.Properties.Threshold).toBe((fn.Properties.Timeout as number) * 1000 * 0.8);
  });

  test('SNS deliveries of outcomes that failed on the result topic', () => {
    expect(dimensionsOf(one('NumberOfNotificationsFailed', 'AWS/SNS'))).toEqual({ TopicName: { 'Fn::GetAtt': ['ResultTopic', 'TopicName'] } });
  });
});

describe('dashboard', () => {
  let body: any;
  beforeAll(() => {
    const [[, dashboard]] = resourcesOfType(template, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
    body = JSON.parse(((dashboard.Properties.DashboardBody as JsonObject)['Fn::Sub'] as string).replaceAll('${AWS::Region}', 'ap-northeast-1'));
  });
  const metricNames = () =>
    body.widgets.flatMap((widget: any) =>
      widget.properties.metrics.flatMap((line: any[]) => line.filter((item) => typeof item === 'string' || item.expression).map((item) => item.expression ?? item)),
    ) as string[];

  test('shows every metric the function emits', () => {
    // addMetric('Name', ...) directly, or count('Name', dimensions) for the per-dimension counts
    const emitted = [...new Set([...metricsSource.matchAll(/(?:addMetric|count)\('([A-Za-z]+)'/g)].map((match) => match[1]!))];
    expect(emitted.sort()).toEqual(expect.arrayContaining(['ClockOffset', 'ExchangeLatency', 'HandedBack', 'Outcomes', 'OutcomesByCode', 'UsedWeight']));
    const shown = metricNames().join(' ');
    for (const metric of emitted) expect([metric, shown.includes(metric)]).toEqual([metric, true]);
  });

  test('outcomes by status (each status) and by code, latency p50/p99, weight against the limit', () => {
    const titles = body.widgets.map((widget: any) => widget.properties.title);
    expect(titles).toEqual(expect.arrayContaining(['Outcomes by status', 'Exchange latency (ms)', 'Used weight (1 min) vs Binance limit']));
    const byStatus = body.widgets.find((widget: any) => widget.properties.title === 'Outcomes by status');
    expect(byStatus.properties.metrics.map((line: any[]) => line[5])).toEqual(['APPLIED', 'DRY_RUN', 'SKIPPED', 'REJECTED', 'FAILED']);
    const latency = body.widgets.find((widget: any) => widget.properties.title === 'Exchange latency (ms)');
    expect(latency.properties.metrics.map((line: any[]) => line.at(-1).stat)).toEqual(['p50', 'p99']);
    const weight = body.widgets.find((widget: any) => widget.properties.title.startsWith('Used weight'));
    expect(weight.properties.annotations.horizontal[0].value).toBe(6000);
  });

  test('queue depth and oldest age of each risk queue, every DLQ depth, errors, throttles and duration', () => {
    const lines = body.widgets.flatMap((widget: any) => widget.properties.metrics);
    const queueMetric = (metric: string) => lines.filter((line: any[]) => line[1] === metric).map((line: any[]) => line[3]);
    const queueNames = resourcesOfType(template, 'AWS::SQS::Queue').map(([, queue]) => queue.Properties.QueueName);
    const dlqNames = queueNames.filter((name) => String(name).includes('dlq'));
    expect(queueMetric('ApproximateNumberOfMessagesVisible').sort()).toEqual([...queueNames].sort());
    expect(queueMetric('ApproximateAgeOfOldestMessage').sort()).toEqual(queueNames.filter((name) => !dlqNames.includes(name)).sort());
    expect(dlqNames).toHaveLength(6);
    for (const metric of ['Errors', 'Throttles', 'Duration']) expect(lines.some((line: any[]) => line[0] === 'AWS/Lambda' && line[1] === metric)).toBe(true);
  });

  test('the stack and the README picture come from the same definition (infra/dashboard.cjs)', () => {
    const { dashboardBody } = createRequire(path.join(ROOT, 'package.json'))('./infra/dashboard.cjs');
    const regenerated = dashboardBody({
      service: 'leverage-guard',
      stage: STAGE,
      namespace: 'LeverageGuard',
      metricsService: `leverage-guard-${STAGE}`,
      busName: `leverage-guard-${STAGE}-risk`,
      ruleName: `leverage-guard-${STAGE}-risk-events`,
      functionTimeoutSeconds: 30,
      region: 'ap-northeast-1',
    });
    expect(regenerated).toEqual(body);
  });
});

describe('runbook', () => {
  test('rollback is one command that moves the alias every trigger invokes', () => {
    const rollback = runbook.slice(runbook.indexOf('### Rollback'), runbook.indexOf('### Alarms'));
    expect(rollback).toMatch(/aws lambda update-alias --function-name \$F --name live --function-version \d+/);
    expect(rollback).toContain('aws lambda list-versions-by-function');
  });

  test('re-invocations go through the alias and re-sent events onto the stage bus', () => {
    const redrive = runbook.slice(runbook.indexOf('### Redrive the DLQs'), runbook.indexOf('### Rollback'));
    const invokes = redrive.match(/aws lambda invoke [^\n]+/g) ?? [];
    expect(invokes.length).toBeGreaterThan(0);
    for (const invoke of invokes) expect(invoke).toContain('--qualifier live');
    expect(redrive).toContain('EventBusName: "leverage-guard-<stage>-risk"');
  });
});
