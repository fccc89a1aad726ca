// Generates one AWS::Scheduler::Schedule per rule in infra/config/schedules.yml, so operators add
// a scheduled leverage change by editing that list, not CloudFormation. osls calls this function
// while resolving `Resources: ${file(infra/schedules.cjs)}` in serverless.yml; the YAML is read
// through osls' own `file` source. CommonJS (.cjs) because that is what osls can require().
'use strict';

const RULES_FILE = 'infra/config/schedules.yml';
const NAME = /^[A-Za-z0-9-]{1,40}$/;
const EXPRESSION = /^(cron|rate|at)\(.+\)$/;
const REQUIRED_EVENT_FIELDS = ['eventId', 'accountId', 'symbol', 'leverage'];

function fail(rule, message) {
  throw new Error(`${RULES_FILE}: rule ${JSON.stringify(rule && rule.name)}: ${message}`);
}

function validate(rule, seen) {
  if (!rule || typeof rule !== 'object') fail(rule, 'must be a mapping');
  if (typeof rule.name !== 'string' || !NAME.test(rule.name)) fail(rule, 'name must match [A-Za-z0-9-]{1,40}');
  // Names differing only in dashes or case would map to the same logical id.
  if (seen.has(logicalId(rule.name))) fail(rule, 'name is used twice');
  seen.add(logicalId(rule.name));
  if (typeof rule.expression !== 'string' || !EXPRESSION.test(rule.expression)) {
    fail(rule, 'expression must be cron(...), rate(...) or at(...)');
  }
  const event = rule.event;
  if (!event || typeof event !== 'object') fail(rule, 'event is required');
  const missing = REQUIRED_EVENT_FIELDS.filter((field) => event[field] === undefined || event[field] === '');
  if (missing.length) fail(rule, `event lacks ${missing.join(', ')}`);
  if (!Number.isInteger(event.leverage) || event.leverage < 1) fail(rule, 'event.leverage must be a positive integer');
  if (rule.stages !== undefined && !Array.isArray(rule.stages)) fail(rule, 'stages must be a list');
}

function logicalId(name) {
  const pascal = name
    .split('-')
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
  return `Schedule${pascal}`;
}

function scheduleResource(rule, maximumEventAge) {
  return {
    Type: 'AWS::Scheduler::Schedule',
    Properties: {
      Name: rule.name,
      GroupName: { Ref: 'ScheduleGroup' },
      Description: rule.description || `leverage-guard scheduled rule ${rule.name}`,
      ScheduleExpression: rule.expression,
      ScheduleExpressionTimezone: rule.timezone || 'UTC',
      // A leverage change is due at its time, not somewhere in a window around it.
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: rule.enabled === false ? 'DISABLED' : 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': ['ChangeDashleverageLambdaFunction', 'Arn'] },
        RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
        // The function receives exactly this risk event (a direct invocation).
        Input: JSON.stringify(rule.event),
        RetryPolicy: { MaximumEventAgeInSeconds: maximumEventAge, MaximumRetryAttempts: 10 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['SchedulerDlq', 'Arn'] } },
      },
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const config = await resolveVariable(`file(${RULES_FILE})`);
  const stage = await resolveVariable('sls:stage');
  const maximumEventAge = Number(await resolveVariable('param:asyncMaximumEventAge'));
  const rules = (config && config.rules) || [];
  if (!Array.isArray(rules)) throw new Error(`${RULES_FILE}: rules must be a list`);

  const seen = new Set();
  const resources = {};
  for (const rule of rules) {
    validate(rule, seen);
    if (rule.stages && !rule.stages.includes(stage)) continue;
    resources[logicalId(rule.name)] = scheduleResource(rule, maximumEventAge);
  }
  return resources;
};
