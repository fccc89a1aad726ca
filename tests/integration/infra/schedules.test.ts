// infra/schedules.cjs turns the rule list in infra/config/schedules.yml into Scheduler schedules.
// Called here the way osls calls it, with a stand-in for osls' variable resolver, so each rule
// shape (and each mistake an operator can make in the list) is checked without packaging.
import { createRequire } from 'node:module';
import path from 'node:path';

type Resolve = (variable: string) => Promise<unknown>;
type Generator = (context: { resolveVariable: Resolve }) => Promise<Record<string, { Type: string; Properties: Record<string, any> }>>;

const generate = createRequire(path.join(process.cwd(), 'package.json'))('./infra/schedules.cjs') as Generator;

const WEEKLY = {
  name: 'weekly-deleverage',
  expression: 'cron(0 20 ? * FRI *)',
  timezone: 'UTC',
  event: { eventId: 'weekly-deleverage', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 10, reason: 'Friday' },
};

function run(rules: unknown, stage = 'dev') {
  const values: Record<string, unknown> = {
    'file(infra/config/schedules.yml)': { rules },
    'sls:stage': stage,
    'param:asyncMaximumEventAge': '3600',
  };
  return generate({
    resolveVariable: async (variable) => {
      if (!(variable in values)) throw new Error(`unexpected variable ${variable}`);
      return values[variable];
    },
  });
}

test('one schedule per rule, invoking the function with the rule event', async () => {
  const resources = await run([WEEKLY, { ...WEEKLY, name: 'daily-eth', expression: 'rate(1 day)', timezone: undefined }]);
  expect(Object.keys(resources)).toEqual(['ScheduleWeeklyDeleverage', 'ScheduleDailyEth']);
  const weekly = resources.ScheduleWeeklyDeleverage!;
  expect(weekly.Type).toBe('AWS::Scheduler::Schedule');
  expect(weekly.Properties).toMatchObject({
    Name: 'weekly-deleverage',
    GroupName: { Ref: 'ScheduleGroup' },
    ScheduleExpression: 'cron(0 20 ? * FRI *)',
    ScheduleExpressionTimezone: 'UTC',
    State: 'ENABLED',
  });
  expect(JSON.parse(weekly.Properties.Target.Input)).toEqual(WEEKLY.event);
  expect(weekly.Properties.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(3600);
  expect(resources.ScheduleDailyEth!.Properties.ScheduleExpressionTimezone).toBe('UTC'); // the default
});

test('enabled: false deploys the schedule disabled', async () => {
  const resources = await run([{ ...WEEKLY, enabled: false }]);
  expect(resources.ScheduleWeeklyDeleverage!.Properties.State).toBe('DISABLED');
});

test('stages limits a rule to the stages it names', async () => {
  const rules = [{ ...WEEKLY, stages: ['prod'] }];
  expect(Object.keys(await run(rules, 'prod'))).toEqual(['ScheduleWeeklyDeleverage']);
  expect(await run(rules, 'dev')).toEqual({});
});

test('no rules, no schedules', async () => {
  expect(await run([])).toEqual({});
  expect(await run(undefined)).toEqual({});
});

test.each([
  ['a name with other characters', { ...WEEKLY, name: 'weekly deleverage' }, /name must match/],
  ['a missing expression', { ...WEEKLY, expression: undefined }, /expression must be/],
  ['a bare cron string', { ...WEEKLY, expression: '0 20 * * 5' }, /expression must be/],
  ['an event without accountId', { ...WEEKLY, event: { ...WEEKLY.event, accountId: '' } }, /event lacks accountId/],
  ['a fractional leverage', { ...WEEKLY, event: { ...WEEKLY.event, leverage: 2.5 } }, /positive integer/],
  ['no event', { ...WEEKLY, event: undefined }, /event is required/],
  ['stages that are not a list', { ...WEEKLY, stages: 'prod' }, /stages must be a list/],
])('rejects %s', async (_what, rule, message) => {
  await expect(run([rule])).rejects.toThrow(message);
});

test('rejects two rules that would share a schedule (names equal up to dashes and case)', async () => {
  await expect(run([WEEKLY, { ...WEEKLY, name: 'weeklyDeleverage' }])).rejects.toThrow(/used twice/);
});
