// Generates one AWS::Scheduler::Schedule per rule in infra/config/schedules.yml, so operators add
// a scheduled leverage change by editing that list, not CloudFormation. osls calls this function
// while resolving `Resources: ${file(infra/schedules.cjs)}` in serverless.yml; the YAML is read
// through osls' own `file` source. CommonJS (.cjs) because that is what osls can require().
'use strict';

const { FUNCTION_ID } = require('./function-ids.cjs');

const RULES_FILE = 'infra/config/schedules.yml';
const NAME = /^[A-Za-z0-9-]{1,40}$/;
const EXPRESSION = /^(cron|rate|at)\(.+\)$/;

// The risk-event contract the function validates (functions/domain/risk-event.ts), checked here
// as well so a malformed scheduled event fails `npm run package` instead of ending INVALID_EVENT
// at 20:00 on a Friday.
const SYMBOL = /^[A-Z0-9]{2,32}(_[0-9]{6})?$/;
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MIN_LEVERAGE = 1;
const MAX_LEVERAGE = 125;
const MAX_EVENT_ID_LENGTH = 128;
const MAX_TARGETS = 50;
const ALL_OPEN_POSITIONS = 'ALL_OPEN_POSITIONS';
const MODES = ['set', 'reduce-only'];
const MAX_REASON_LENGTH = 512;
const EVENT_FIELDS = ['eventId', 'accountId', 'symbol', 'symbols', 'targets', 'leverage', 'mode', 'dryRun', 'issuedAt', 'reason', 'metadata'];
const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
// Scheduler replaces these in the Input at every invocation
// (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
// anything else in <aws.scheduler.…> would be sent literally. The value is a worst-case stand-in,
// for the length check.
const CONTEXT_ATTRIBUTES = {
  'schedule-arn': `arn:aws:scheduler:ap-northeast-1:123456789012:schedule/${'g'.repeat(64)}/${'n'.repeat(64)}`,
  'scheduled-time': '2026-11-27T20:00:00Z',
  'execution-id': 'd32c5kddcf5bb8c3',
  'attempt-number': '185',
};
const CONTEXT_ATTRIBUTE = /<aws\.scheduler\.([^>]*)>/g;

function fail(rule, message) {
  throw new Error(`${RULES_FILE}: rule ${JSON.stringify(rule && rule.name)}: ${message}`);
}

function isLeverage(value) {
  return Number.isInteger(value) && value >= MIN_LEVERAGE && value <= MAX_LEVERAGE;
}

function checkContextAttributes(rule, field, value) {
  for (const [, attribute] of value.matchAll(CONTEXT_ATTRIBUTE)) {
    if (!(attribute in CONTEXT_ATTRIBUTES)) {
      fail(rule, `event.${field}: <aws.scheduler.${attribute}> is not a Scheduler context attribute (${Object.keys(CONTEXT_ATTRIBUTES).join(', ')})`);
    }
  }
  return value.replace(CONTEXT_ATTRIBUTE, (_, attribute) => CONTEXT_ATTRIBUTES[attribute]);
}

/**
 * What a rule's event must look like. Exactly one way to say what to change:
 *   symbol + leverage                       one symbol
 *   symbols: ALL_OPEN_POSITIONS + leverage  every symbol with an open position on the account
 *   targets: [{symbol, leverage}, ...]      1 to 50 distinct symbols, each with its leverage
 * plus eventId, accountId (required), mode (set | reduce-only; ALL_OPEN_POSITIONS only lowers, so
 * never set), dryRun (boolean), issuedAt, reason, metadata.
 */
function validateEvent(rule) {
  const event = rule.event;
  if (!event || typeof event !== 'object' || Array.isArray(event)) fail(rule, 'event is required');
  const unknown = Object.keys(event).filter((field) => !EVENT_FIELDS.includes(field));
  if (unknown.length) fail(rule, `event has unknown field(s) ${unknown.join(', ')} (allowed: ${EVENT_FIELDS.join(', ')})`);
  const missing = ['eventId', 'accountId'].filter((field) => event[field] === undefined || event[field] === '');
  if (missing.length) fail(rule, `event lacks ${missing.join(', ')}`);

  if (typeof event.eventId !== 'string') fail(rule, 'event.eventId must be a string');
  const eventId = checkContextAttributes(rule, 'eventId', event.eventId);
  // Every run of a recurring schedule is a new command: with a constant eventId the second run
  // would be taken for a redelivery of the first (already decided) and silently acknowledged.
  // The scheduled time is the same for Scheduler's and Lambda's retries of one run, so retries
  // still deduplicate; <aws.scheduler.execution-id> changes with every attempt and would not.
  if (isRecurring(rule) && !event.eventId.includes(SCHEDULED_TIME)) {
    fail(rule, `event.eventId of a recurring schedule must contain ${SCHEDULED_TIME} (e.g. "${rule.name}-${SCHEDULED_TIME}"), so every run is a new event`);
  }
  if (eventId.length > MAX_EVENT_ID_LENGTH) {
    fail(rule, `event.eventId must be at most ${MAX_EVENT_ID_LENGTH} characters once Scheduler has filled in its context attributes`);
  }
  if (typeof event.accountId !== 'string' || !ACCOUNT_ID.test(event.accountId)) {
    fail(rule, 'event.accountId must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"');
  }

  const shapes = ['symbol', 'symbols', 'targets'].filter((field) => event[field] !== undefined);
  if (shapes.length !== 1) {
    fail(rule, `event needs exactly one of symbol, symbols: ${ALL_OPEN_POSITIONS} or targets (has ${shapes.length ? shapes.join(', ') : 'none'})`);
  }
  if (event.symbol !== undefined) {
    if (typeof event.symbol !== 'string' || !SYMBOL.test(event.symbol)) fail(rule, 'event.symbol must be an uppercase UM symbol such as BTCUSDT');
  }
  if (event.symbols !== undefined && event.symbols !== ALL_OPEN_POSITIONS) {
    fail(rule, `event.symbols can only be ${ALL_OPEN_POSITIONS} (use targets for a list of symbols)`);
  }
  if (event.targets !== undefined) {
    if (event.leverage !== undefined) fail(rule, 'event.leverage goes inside each of event.targets, not next to them');
    if (!Array.isArray(event.targets) || event.targets.length < 1 || event.targets.length > MAX_TARGETS) {
      fail(rule, `event.targets must be a list of 1 to ${MAX_TARGETS} {symbol, leverage} entries`);
    }
    const seen = new Set();
    event.targets.forEach((entry, index) => {
      const at = `event.targets[${index}]`;
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) fail(rule, `${at} must be a {symbol, leverage} mapping`);
      const extra = Object.keys(entry).filter((field) => field !== 'symbol' && field !== 'leverage');
      if (extra.length) fail(rule, `${at} has unknown field(s) ${extra.join(', ')}`);
      if (typeof entry.symbol !== 'string' || !SYMBOL.test(entry.symbol)) fail(rule, `${at}.symbol must be an uppercase UM symbol such as BTCUSDT`);
      if (seen.has(entry.symbol)) fail(rule, `${at}.symbol ${entry.symbol} is listed twice`);
      seen.add(entry.symbol);
      if (!isLeverage(entry.leverage)) fail(rule, `${at}.leverage must be a positive integer from ${MIN_LEVERAGE} to ${MAX_LEVERAGE}`);
    });
  } else if (!isLeverage(event.leverage)) {
    fail(rule, `event.leverage must be a positive integer from ${MIN_LEVERAGE} to ${MAX_LEVERAGE}`);
  }

  if (event.mode !== undefined && !MODES.includes(event.mode)) fail(rule, `event.mode must be one of ${MODES.join(', ')}`);
  if (event.symbols !== undefined && event.mode === 'set') {
    fail(rule, `event.mode must be reduce-only with symbols: ${ALL_OPEN_POSITIONS}, which only ever lowers leverage`);
  }
  if (event.dryRun !== undefined && typeof event.dryRun !== 'boolean') fail(rule, 'event.dryRun must be true or false');
  if (event.reason !== undefined && (typeof event.reason !== 'string' || event.reason.length > MAX_REASON_LENGTH)) {
    fail(rule, `event.reason must be a string of at most ${MAX_REASON_LENGTH} characters`);
  }
  // A recurring schedule sends the same Input every time: a fixed issuedAt would make every run
  // after the first one stale (MAX_EVENT_AGE_SECONDS), and older than the last applied change.
  if (event.issuedAt !== undefined && event.issuedAt !== SCHEDULED_TIME) {
    if (typeof event.issuedAt !== 'string' || !ISO_TIMESTAMP.test(event.issuedAt)) {
      fail(rule, `event.issuedAt must be ${SCHEDULED_TIME} or an ISO 8601 timestamp`);
    }
    if (isRecurring(rule)) fail(rule, `event.issuedAt of a recurring schedule must be ${SCHEDULED_TIME}`);
  }
  if (event.metadata !== undefined && (!event.metadata || typeof event.metadata !== 'object' || Array.isArray(event.metadata))) {
    fail(rule, 'event.metadata must be a mapping');
  }
}

/** cron() and rate() run again and again; at() runs once. */
function isRecurring(rule) {
  return !rule.expression.startsWith('at(');
}

/** A recurring run is issued at its scheduled time unless the rule says otherwise (only that is allowed). */
function inputOf(rule) {
  return isRecurring(rule) && rule.event.issuedAt === undefined ? { ...rule.event, issuedAt: SCHEDULED_TIME } : rule.event;
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
  if (!rule.event || typeof rule.event !== 'object' || Array.isArray(rule.event)) fail(rule, 'event is required');
  validateEvent(rule);
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
        Arn: { 'Fn::GetAtt': [FUNCTION_ID, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
        // The function receives exactly this risk event (a direct invocation), with Scheduler's
        // context attributes (<aws.scheduler.scheduled-time>, ...) filled in at each run.
        Input: JSON.stringify(inputOf(rule)),
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
