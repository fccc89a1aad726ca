// The safety-rail params (infra/config/*.yml or --param) turned into the function's environment
// variables, validated while packaging (and BINANCE_REQUEST_TIMEOUT_MS checked against the
// function timeout). The function refuses to start on a malformed value, and
// a function that refuses to start de-leverages nothing: a typo in a cap must fail `npm run
// package`, naming the param, not every invocation in production.
// Used as ${file(infra/safety-params.cjs):<name>} in infra/functions.yml; osls calls the named
// function with its variable resolver. CommonJS (.cjs) because that is what osls can require().
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

function dryRunValue(raw) {
  if (raw === true || raw === 'true') return 'true';
  if (raw === false || raw === 'false') return 'false';
  fail('dryRun', `must be true or false, got ${JSON.stringify(raw)}`);
}

// Same as functions/domain/time-budget.ts: the function stops starting work this long before its
// timeout, keeping the time to publish FAILED outcomes and respond (a test checks they agree).
const WORK_RESERVE_MS = 1500;
// Same range as functions/commons/config.ts.
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

module.exports = {
  WORK_RESERVE_MS,
  binanceRequestTimeoutMs: async ({ resolveVariable }) =>
    binanceRequestTimeoutMsValue(await param(resolveVariable, 'binanceRequestTimeoutMs'), await param(resolveVariable, 'functionTimeout')),
  leverageCaps: async ({ resolveVariable }) => leverageCapsValue(await param(resolveVariable, 'leverageCaps')),
  maxEventAgeSeconds: async ({ resolveVariable }) => maxEventAgeSecondsValue(await param(resolveVariable, 'maxEventAgeSeconds')),
  dryRun: async ({ resolveVariable }) => dryRunValue(await param(resolveVariable, 'dryRun')),
};
