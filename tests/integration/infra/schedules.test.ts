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
  event: { eventId: 'weekly-btc-<aws.scheduler.scheduled-time>', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 10, reason: 'Friday' },
};
/** What Scheduler is given for a recurring rule: each run issued at its scheduled time. */
const asRun = (event: Record<string, unknown>) => ({ issuedAt: '<aws.scheduler.scheduled-time>', ...event });
const ALL_OPEN = {
  eventId: 'weekly-deleverage-<aws.scheduler.scheduled-time>',
  accountId: 'desk-1',
  symbols: 'ALL_OPEN_POSITIONS',
  leverage: 10,
  mode: 'reduce-only',
  reason: 'Friday 20:00 UTC de-leveraging',
};
const TARGETS = {
  eventId: 'weekly-caps-<aws.scheduler.scheduled-time>',
  accountId: 'desk-1',
  targets: [
    { symbol: 'BTCUSDT', leverage: 20 },
    { symbol: 'ETHUSDT', leverage: 10 },
  ],
  mode: 'set',
  dryRun: true,
};
const targets = (count: number) => Array.from({ length: count }, (_, i) => ({ symbol: `COIN${i}USDT`, leverage: 5 }));
const withEvent = (event: Record<string, unknown>) => ({ ...WEEKLY, event });
const without = (field: string, event: Record<string, unknown>) => Object.fromEntries(Object.entries(event).filter(([key]) => key !== field));

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
  expect(JSON.parse(weekly.Properties.Target.Input)).toEqual(asRun(WEEKLY.event));
  expect(weekly.Properties.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(3600);
  expect(resources.ScheduleDailyEth!.Properties.ScheduleExpressionTimezone).toBe('UTC'); // the default
});

test.each([
  ['symbols: ALL_OPEN_POSITIONS + leverage, reduce-only', ALL_OPEN],
  ['ALL_OPEN_POSITIONS without mode (the function makes it reduce-only)', without('mode', ALL_OPEN)],
  ['targets, mode set, dryRun', TARGETS],
  ['50 targets', { ...TARGETS, targets: targets(50) }],
  ['symbol + leverage with mode reduce-only and dryRun false', { ...WEEKLY.event, mode: 'reduce-only', dryRun: false }],
  ['issuedAt = the scheduled time', { ...ALL_OPEN, issuedAt: '<aws.scheduler.scheduled-time>' }],
  ['metadata', { ...ALL_OPEN, metadata: { ticket: 'RISK-1' } }],
])('accepts an event with %s, passed through (issued at the scheduled time)', async (_what, event) => {
  const resources = await run([withEvent(event)]);
  expect(JSON.parse(resources.ScheduleWeeklyDeleverage!.Properties.Target.Input)).toEqual(asRun(event));
});

// Issue 8, case 7: a new run is never mistaken for a redelivery.
test.each([
  ['cron', 'cron(0 20 ? * FRI *)'],
  ['rate', 'rate(1 hour)'],
])('rejects a recurring (%s) schedule whose eventId is constant', async (_kind, expression) => {
  await expect(run([{ ...WEEKLY, expression, event: { ...WEEKLY.event, eventId: 'hourly-btc' } }])).rejects.toThrow(
    /eventId of a recurring schedule must contain <aws.scheduler.scheduled-time>/,
  );
});

test('rejects a recurring schedule whose eventId only has the execution id (it changes with every retry of a run)', async () => {
  await expect(run([withEvent({ ...WEEKLY.event, eventId: 'btc-<aws.scheduler.execution-id>' })])).rejects.toThrow(/must contain <aws.scheduler.scheduled-time>/);
});

test('a one-time at() schedule may keep a constant eventId, and gets no issuedAt it did not ask for', async () => {
  const event = { ...WEEKLY.event, eventId: 'year-end-btc' };
  const resources = await run([{ ...WEEKLY, expression: 'at(2026-12-31T20:00:00)', event }]);
  expect(JSON.parse(resources.ScheduleWeeklyDeleverage!.Properties.Target.Input)).toEqual(event);
});

test('Scheduler context attributes stay in the Input for Scheduler to fill in', async () => {
  const resources = await run([withEvent(ALL_OPEN)]);
  expect(resources.ScheduleWeeklyDeleverage!.Properties.Target.Input).toContain('"eventId":"weekly-deleverage-<aws.scheduler.scheduled-time>"');
});

test('a fixed issuedAt is accepted on a one-time at() schedule', async () => {
  const event = { ...WEEKLY.event, issuedAt: '2026-12-31T20:00:00Z' };
  const resources = await run([{ ...WEEKLY, expression: 'at(2026-12-31T20:00:00)', event }]);
  expect(JSON.parse(resources.ScheduleWeeklyDeleverage!.Properties.Target.Input).issuedAt).toBe('2026-12-31T20:00:00Z');
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
  // leverage
  ['a leverage of 0', withEvent({ ...WEEKLY.event, leverage: 0 }), /event.leverage must be a positive integer from 1 to 125/],
  ['a leverage above 125', withEvent({ ...WEEKLY.event, leverage: 126 }), /from 1 to 125/],
  ['a leverage as a string', withEvent({ ...WEEKLY.event, leverage: '10' }), /event.leverage must be a positive integer/],
  ['symbol without leverage', withEvent(without('leverage', WEEKLY.event)), /event.leverage must be/],
  // which symbols: exactly one shape
  ['no symbol, symbols or targets', withEvent(without('symbol', WEEKLY.event)), /exactly one of symbol, symbols: ALL_OPEN_POSITIONS or targets \(has none\)/],
  ['symbol and symbols', withEvent({ ...ALL_OPEN, symbol: 'BTCUSDT' }), /exactly one of .* \(has symbol, symbols\)/],
  ['symbols and targets', withEvent({ ...TARGETS, symbols: 'ALL_OPEN_POSITIONS' }), /exactly one of .* \(has symbols, targets\)/],
  ['a lowercase symbol', withEvent({ ...WEEKLY.event, symbol: 'btcusdt' }), /event.symbol must be an uppercase UM symbol/],
  ['symbols other than ALL_OPEN_POSITIONS', withEvent({ ...ALL_OPEN, symbols: ['BTCUSDT'] }), /event.symbols can only be ALL_OPEN_POSITIONS/],
  ['ALL_OPEN_POSITIONS without leverage', withEvent(without('leverage', ALL_OPEN)), /event.leverage must be/],
  ['ALL_OPEN_POSITIONS with mode set', withEvent({ ...ALL_OPEN, mode: 'set' }), /mode must be reduce-only with symbols: ALL_OPEN_POSITIONS/],
  ['targets with a leverage next to them', withEvent({ ...TARGETS, leverage: 10 }), /event.leverage goes inside each of event.targets/],
  ['empty targets', withEvent({ ...TARGETS, targets: [] }), /event.targets must be a list of 1 to 50/],
  ['51 targets', withEvent({ ...TARGETS, targets: targets(51) }), /event.targets must be a list of 1 to 50/],
  ['targets that are not a list', withEvent({ ...TARGETS, targets: { symbol: 'BTCUSDT', leverage: 5 } }), /event.targets must be a list/],
  ['a target without leverage', withEvent({ ...TARGETS, targets: [{ symbol: 'BTCUSDT' }] }), /event.targets\[0\].leverage must be a positive integer/],
  ['a target with a bad symbol', withEvent({ ...TARGETS, targets: [{ symbol: 'BTC/USDT', leverage: 5 }] }), /event.targets\[0\].symbol must be an uppercase/],
  ['a target with an extra field', withEvent({ ...TARGETS, targets: [{ symbol: 'BTCUSDT', leverage: 5, mode: 'set' }] }), /event.targets\[0\] has unknown field\(s\) mode/],
  ['a symbol targeted twice', withEvent({ ...TARGETS, targets: [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'BTCUSDT', leverage: 3 }] }), /event.targets\[1\].symbol BTCUSDT is listed twice/],
  // mode, dryRun and the rest
  ['an unknown mode', withEvent({ ...WEEKLY.event, mode: 'reduce' }), /event.mode must be one of set, reduce-only/],
  ['dryRun as a string', withEvent({ ...WEEKLY.event, dryRun: 'true' }), /event.dryRun must be true or false/],
  ['an unknown field (a typo of dryRun)', withEvent({ ...WEEKLY.event, dryrun: true }), /event has unknown field\(s\) dryrun/],
  ['a bad accountId', withEvent({ ...WEEKLY.event, accountId: 'desk 1' }), /event.accountId must be 1 to 64 characters/],
  ['an eventId too long once filled in', withEvent({ ...ALL_OPEN, eventId: `${'x'.repeat(110)}-<aws.scheduler.scheduled-time>` }), /at most 128 characters once Scheduler/],
  ['a misspelt context attribute', withEvent({ ...ALL_OPEN, eventId: 'weekly-<aws.scheduler.scheduled_time>' }), /<aws.scheduler.scheduled_time> is not a Scheduler context attribute/],
  ['a fixed issuedAt on a recurring schedule', withEvent({ ...ALL_OPEN, issuedAt: '2026-11-27T20:00:00Z' }), /issuedAt of a recurring schedule must be <aws.scheduler.scheduled-time>/],
  ['an issuedAt that is not a timestamp', withEvent({ ...ALL_OPEN, issuedAt: 'friday' }), /event.issuedAt must be <aws.scheduler.scheduled-time> or an ISO 8601 timestamp/],
  ['an event that is a list', withEvent([WEEKLY.event] as unknown as Record<string, unknown>), /event is required/],
])('rejects %s', async (_what, rule, message) => {
  await expect(run([rule])).rejects.toThrow(message);
});

test('rejects two rules that would share a schedule (names equal up to dashes and case)', async () => {
  await expect(run([WEEKLY, { ...WEEKLY, name: 'weeklyDeleverage' }])).rejects.toThrow(/used twice/);
});
