// The safety-rail params (infra/config/*.yml or --param) turned into the function's environment
// variables, validated while packaging (and BINANCE_REQUEST_TIMEOUT_MS checked against the
// function timeout). The function refuses to start on a malformed value, and
// a function that refuses to start de-leverages nothing: a typo in a cap must fail `npm run
// package`, naming the param, not every invocation in production.
// Used as ${file(infra/safety-params.cjs):<name>} in infra/functions.yml; osls calls the named
// function with its variable resolver. CommonJS (.cjs) because that is what osls can require().
//
// `stageChecks` (resolved from serverless.yml custom.checkedParams) checks the params against each
// other, so an operator's --param override meets the same rules as the committed defaults. Every
// failure is one `param <name>: ...` line, which scripts/package.ts prints instead of osls' trace.
'use strict';

// Same rules as the risk-event contract (functions/domain/risk-event.ts).
const SYMBOL = /^[A-Z0-9]{2,32}(_[0-9]{6})?$/;
const MIN_LEVERAGE = 1;
const MAX_LEVERAGE = 125;
// The risk queue keeps a message at most a day; an older event cannot arrive.
const MAX_EVENT_AGE_LIMIT = 86400;

function fail(param, message) {
  throw new Error(`param ${param}: ${message}`);
}

async function param(resolveVariable, name) {
  return resolveVariable(`param:${name}`);
}

// The one stage whose state, caps and alarms are disposable (infra/config/dev.yml).
const THROWAWAY_STAGE = 'dev';

/** A whole number from a YAML number or a --param string, else a failure naming the param. */
function wholeNumber(name, raw, min = 0) {
  const text = String(raw ?? '').trim();
  if (!/^\d+$/.test(text) || Number(text) < min) fail(name, `must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  return Number(text);
}

/** A YAML list or a comma-separated --param string, without empty entries. */
function list(raw) {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? raw : String(raw).split(',');
  return items.map((item) => String(item).trim()).filter(Boolean);
}

/**
 * LEVERAGE_CAPS: JSON object symbol -> max leverage, "*" for every other symbol; '' = no caps of
 * our own (Binance's per-symbol limits only). The param may be a YAML mapping or a JSON string.
 */
function leverageCapsValue(raw) {
  let caps = raw;
  if (caps === undefined || caps === null) return '';
  if (typeof caps === 'string') {
    if (caps.trim() === '') return '';
    try {
      caps = JSON.parse(caps);
    } catch (error) {
      fail('leverageCaps', `is not JSON (${error.message}): ${raw}`);
    }
  }
  if (!caps || typeof caps !== 'object' || Array.isArray(caps)) {
    fail('leverageCaps', 'must be a mapping of symbol (or "*") to a maximum leverage');
  }
  const entries = Object.entries(caps);
  if (entries.length === 0) return '';
  for (const [symbol, cap] of entries) {
    if (symbol !== '*' && !SYMBOL.test(symbol)) {
      fail('leverageCaps', `key ${JSON.stringify(symbol)} is neither "*" nor an uppercase UM symbol such as BTCUSDT`);
    }
    if (!Number.isInteger(cap) || cap < MIN_LEVERAGE || cap > MAX_LEVERAGE) {
      fail('leverageCaps', `${symbol}: the cap must be a whole number from ${MIN_LEVERAGE} to ${MAX_LEVERAGE}, got ${JSON.stringify(cap)}`);
    }
  }
  return JSON.stringify(caps);
}

function maxEventAgeSecondsValue(raw) {
  const text = String(raw ?? '').trim();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_EVENT_AGE_LIMIT) {
    fail('maxEventAgeSeconds', `must be a whole number of seconds from 1 to ${MAX_EVENT_AGE_LIMIT}, got ${JSON.stringify(raw)}`);
  }
  return String(Number(text));
}

function booleanValue(raw, name) {
  if (raw === true || raw === 'true') return 'true';
  if (raw === false || raw === 'false') return 'false';
  fail(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

// Same as functions/domain/time-budget.ts: the function stops starting work this long before its
// timeout, keeping the time to publish FAILED outcomes and respond (a test checks they agree).
const WORK_RESERVE_MS = 1500;
// Same range as functions/change-leverage/config.ts.
const REQUEST_TIMEOUT_RANGE = [100, 60000];

/**
 * BINANCE_REQUEST_TIMEOUT_MS: a record starts only if one request fits in the time left before the
 * work reserve, so a timeout at or near the function timeout processes NOTHING (every record is
 * handed back as out of time, then ends FAILED). Refused here, naming both params.
 */
function binanceRequestTimeoutMsValue(raw, functionTimeoutRaw) {
  const text = String(raw ?? '').trim();
  const [min, max] = REQUEST_TIMEOUT_RANGE;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail('binanceRequestTimeoutMs', `must be a whole number of milliseconds from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  const functionTimeoutMs = Number(functionTimeoutRaw) * 1000;
  if (!(functionTimeoutMs > 0)) fail('functionTimeout', `must be a number of seconds, got ${JSON.stringify(functionTimeoutRaw)}`);
  const latest = functionTimeoutMs - WORK_RESERVE_MS;
  if (Number(text) > latest) {
    fail(
      'binanceRequestTimeoutMs',
      `${text} ms does not fit the function timeout (functionTimeout ${functionTimeoutRaw} s, of which the last ${WORK_RESERVE_MS} ms are kept to ` +
        `publish outcomes): no record could ever start; use at most ${latest} ms or raise functionTimeout`,
    );
  }
  return String(Number(text));
}

/**
 * The rules the stack's settings must keep with each other, whatever the source of each value.
 * `params` are the resolved osls params of the stage being packaged.
 */
function checkStage(stage, params) {
  const functionTimeout = wholeNumber('functionTimeout', params.functionTimeout, 1);
  const visibilityTimeout = wholeNumber('visibilityTimeout', params.visibilityTimeout, 0);
  // AWS's rule for SQS event sources: a batch still running must not become visible again.
  if (visibilityTimeout < 6 * functionTimeout) {
    fail('visibilityTimeout', `must be at least 6 x functionTimeout (6 x ${functionTimeout} = ${6 * functionTimeout} s), got ${visibilityTimeout}`);
  }
  const maxReceiveCount = wholeNumber('maxReceiveCount', params.maxReceiveCount, 1);
  const maxEventAge = Number(maxEventAgeSecondsValue(params.maxEventAgeSeconds));
  const retrySpan = (maxReceiveCount - 1) * visibilityTimeout;
  // Else a record's last deliveries always arrive stale: retries that can never apply anything.
  if (maxEventAge < retrySpan) {
    fail('maxEventAgeSeconds', `must be at least (maxReceiveCount - 1) x visibilityTimeout = ${retrySpan} s, got ${maxEventAge}`);
  }
  const sqsMaximumConcurrency = wholeNumber('sqsMaximumConcurrency', params.sqsMaximumConcurrency, 0);
  // Lambda's minimum for an SQS mapping's MaximumConcurrency.
  if (sqsMaximumConcurrency < 2) fail('sqsMaximumConcurrency', `must be at least 2 (Lambda's minimum), got ${sqsMaximumConcurrency}`);
  const reservedConcurrency = wholeNumber('reservedConcurrency', params.reservedConcurrency, 0);
  // A poller throttled by reserved concurrency still counts the receive: healthy messages drift to the DLQ.
  if (reservedConcurrency <= sqsMaximumConcurrency) {
    fail('reservedConcurrency', `must be above sqsMaximumConcurrency (${sqsMaximumConcurrency}), got ${reservedConcurrency}`);
  }
  binanceRequestTimeoutMsValue(params.binanceRequestTimeoutMs, functionTimeout);
  const caps = leverageCapsValue(params.leverageCaps);
  if (stage !== THROWAWAY_STAGE) {
    if (caps === '' || !('*' in JSON.parse(caps))) {
      fail('leverageCaps', `stage ${stage} needs caps with a "*" entry (only ${THROWAWAY_STAGE} may run uncapped): set leverageCaps in infra/config/${stage}.yml or --param='leverageCaps={"BTCUSDT":20,"*":10}'`);
    }
    if (String(params.alarmEmail ?? '').trim() === '' && booleanValue(params.alarmSubscriberOptOut ?? false, 'alarmSubscriberOptOut') !== 'true') {
      fail('alarmEmail', `stage ${stage} has no alarm subscriber: set alarmEmail in infra/config/${stage}.yml or --param="alarmEmail=oncall@example.com", or --param="alarmSubscriberOptOut=true" if on-call subscribes to the AlarmTopicArn output another way`);
    }
    if (list(params.riskEventProducers).length === 0) {
      fail('riskEventProducers', `stage ${stage} names no producers: set riskEventProducers in infra/config/${stage}.yml (a list) or --param="riskEventProducers=arn:aws:iam::<account>:role/<producer>,..." (docs/deploy.md, Who may send risk events)`);
    }
  }
  wholeNumber('rejectedOutcomesPer15Minutes', params.rejectedOutcomesPer15Minutes, 1);
  wholeNumber('riskQueueOldestMessageAlarmSeconds', params.riskQueueOldestMessageAlarmSeconds, 60);
  return 'checked';
}

const PARAMS_CHECKED = [
  'functionTimeout', 'visibilityTimeout', 'maxReceiveCount', 'maxEventAgeSeconds', 'sqsMaximumConcurrency',
  'reservedConcurrency', 'binanceRequestTimeoutMs', 'leverageCaps', 'alarmEmail', 'alarmSubscriberOptOut',
  'riskEventProducers', 'rejectedOutcomesPer15Minutes', 'riskQueueOldestMessageAlarmSeconds',
];

module.exports = {
  WORK_RESERVE_MS,
  binanceRequestTimeoutMs: async ({ resolveVariable }) =>
    binanceRequestTimeoutMsValue(await param(resolveVariable, 'binanceRequestTimeoutMs'), await param(resolveVariable, 'functionTimeout')),
  checkStage,
  list,
  stageChecks: async ({ resolveVariable }) => {
    const params = {};
    for (const name of PARAMS_CHECKED) params[name] = await param(resolveVariable, name);
    return checkStage(await resolveVariable('sls:stage'), params);
  },
  // Duration p99 alarm threshold: 80 % of the function timeout, in ms (the alarm fires before
  // invocations start timing out, not after).
  durationAlarmThresholdMs: async ({ resolveVariable }) =>
    Math.round(wholeNumber('functionTimeout', await param(resolveVariable, 'functionTimeout'), 1) * 1000 * 0.8),
  leverageCaps: async ({ resolveVariable }) => leverageCapsValue(await param(resolveVariable, 'leverageCaps')),
  maxEventAgeSeconds: async ({ resolveVariable }) => maxEventAgeSecondsValue(await param(resolveVariable, 'maxEventAgeSeconds')),
  dryRun: async ({ resolveVariable }) => booleanValue(await param(resolveVariable, 'dryRun'), 'dryRun'),
};
