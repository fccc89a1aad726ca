/**
 * Function configuration from environment variables, read once at cold start, as one valibot
 * schema that is also the reference of every variable, its default and its range. A missing or
 * invalid setting stops the function before it touches any event, with ONE message listing every
 * problem, each naming its variable, rather than failing record by record. Values that may be
 * ARNs (the topic, the secret id) are never echoed: errors end up in logs.
 */
import * as v from 'valibot';
import type { LeverageCaps } from '../domain/policy.ts';
import { MAX_LEVERAGE, MIN_LEVERAGE, UM_SYMBOL } from '../domain/risk-event.ts';

export interface Config {
  secretIdTemplate: string;
  resultTopicArn: string;
  papiUrl: string;
  timeUrl: string;
  recvWindowMs: number;
  maxReceiveCount: number;
  requestTimeoutMs: number;
  credentialsCacheTtlMs: number;
  /** The IP's request-weight limit per minute; requests are paced to stay below it. */
  weightLimitPerMinute: number;
  leverageCaps?: LeverageCaps;
  maxEventAgeMs: number;
  dryRun: boolean;
  /** Unset: no cross-invocation ordering or duplicate detection. */
  stateTableName?: string;
  /** Unset: no pause switch. */
  pauseParameter?: string;
}

export class ConfigError extends Error {
  /** One line per problem, each starting with the variable's name. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The placeholder BINANCE_SECRET_ID must hold, so each account signs with its own key. */
const ACCOUNT_PLACEHOLDER = '{accountId}';

/** arn:<partition>:sns:<region>:<12-digit account>:<topic name>[.fifo] */
const SNS_TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

type Env = Record<string, string | undefined>;

/** Every variable arrives as text or not at all; blank counts as not set. */
const text = v.pipe(
  v.optional(v.string(), ''),
  v.transform((raw) => raw.trim() || undefined),
);

const required = v.pipe(
  text,
  v.check((value) => value !== undefined, 'is required'),
  v.transform((value) => value!),
);

function integer(fallback: number, min: number, max: number, factor = 1) {
  return v.pipe(
    text,
    v.check(
      (raw) => raw === undefined || (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max),
      (issue) => `must be a whole number from ${min} to ${max}, got "${String(issue.input)}"`,
    ),
    v.transform((raw) => (raw === undefined ? fallback : Number(raw)) * factor),
  );
}

const flag = v.pipe(
  text,
  v.check((raw) => raw === undefined || /^(true|false)$/i.test(raw), (issue) => `must be true or false, got "${String(issue.input)}"`),
  v.transform((raw) => raw?.toLowerCase() === 'true'),
);

/** https only; plain http is allowed for loopback hosts (the simulator, tests). */
function baseUrl(fallback: string) {
  return v.pipe(
    text,
    v.transform((raw) => raw ?? fallback),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const raw = dataset.value;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return addIssue({ message: `must be an absolute URL, got "${raw}"` });
      }
      const allowed = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
      if (!allowed) addIssue({ message: `must use https (plain http only for loopback hosts), got "${raw}"` });
    }),
  );
}

/** `{"BTCUSDT": 20, "*": 10}`: symbol (or "*" for all others) → maximum leverage. Every bad entry is reported. */
const leverageCaps = v.pipe(
  text,
  v.rawTransform(({ dataset, addIssue, NEVER }): LeverageCaps | undefined => {
    const raw = dataset.value;
    if (raw === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      addIssue({ message: `must be a JSON object such as {"BTCUSDT": 20, "*": 10}, got "${raw}"` });
      return NEVER;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      addIssue({ message: 'must be a JSON object of symbol → maximum leverage' });
      return NEVER;
    }
    let valid = true;
    for (const [symbol, cap] of Object.entries(parsed)) {
      if (symbol !== '*' && !UM_SYMBOL.test(symbol)) {
        addIssue({ message: `has an invalid symbol "${symbol}"` });
        valid = false;
      }
      if (!Number.isInteger(cap) || cap < MIN_LEVERAGE || cap > MAX_LEVERAGE) {
        addIssue({ message: `cap for ${symbol} must be a whole number from ${MIN_LEVERAGE} to ${MAX_LEVERAGE}, got ${JSON.stringify(cap)}` });
        valid = false;
      }
    }
    return valid ? Object.freeze({ ...(parsed as Record<string, number>) }) : NEVER;
  }),
);

const EnvSchema = v.pipe(
  v.object({
    /** Secrets Manager id or ARN; {accountId} is replaced by the event's account. */
    BINANCE_SECRET_ID: required,
    /** Explicitly allows a BINANCE_SECRET_ID without {accountId}: one key for every account. */
    BINANCE_SINGLE_ACCOUNT: flag,
    RESULT_TOPIC_ARN: v.pipe(
      required,
      v.regex(SNS_TOPIC_ARN, 'must be an SNS topic ARN (arn:<partition>:sns:<region>:<12-digit account>:<topic name>)'),
    ),
    BINANCE_PAPI_URL: baseUrl('https://papi.binance.com'),
    BINANCE_TIME_URL: baseUrl('https://fapi.binance.com/fapi/v1/time'),
    BINANCE_RECV_WINDOW: integer(5000, 1, 60_000),
    MAX_RECEIVE_COUNT: integer(3, 1, 1000),
    /** Must stay below the function timeout (checked at package time and per invocation). */
    BINANCE_REQUEST_TIMEOUT_MS: integer(5000, 100, 60_000),
    CREDENTIALS_CACHE_TTL_SECONDS: integer(300, 0, 86_400, 1000),
    BINANCE_WEIGHT_LIMIT: integer(6000, 1, 1_000_000),
    LEVERAGE_CAPS: leverageCaps,
    MAX_EVENT_AGE_SECONDS: integer(900, 1, 7 * 86_400, 1000),
    DRY_RUN: flag,
    /** Unset: no cross-invocation ordering or duplicate detection. */
    STATE_TABLE_NAME: text,
    /** Unset: no pause switch. */
    PAUSE_PARAMETER: text,
  }),
  // Accounts must never silently share one key: a template without {accountId} would sign every
  // account's change with the same secret.
  v.forward(
    v.partialCheck(
      [['BINANCE_SECRET_ID'], ['BINANCE_SINGLE_ACCOUNT']],
      (env) => env.BINANCE_SECRET_ID.includes(ACCOUNT_PLACEHOLDER) !== env.BINANCE_SINGLE_ACCOUNT,
      (issue) =>
        issue.input.BINANCE_SINGLE_ACCOUNT
          ? `contains ${ACCOUNT_PLACEHOLDER} although BINANCE_SINGLE_ACCOUNT=true says one key serves every account: choose one`
          : `must contain ${ACCOUNT_PLACEHOLDER} so each account signs with its own key (or set BINANCE_SINGLE_ACCOUNT=true to use one key for every account)`,
    ),
    ['BINANCE_SECRET_ID'],
  ),
);

export function loadConfig(env: Env): Config {
  const result = v.safeParse(EnvSchema, env);
  if (!result.success) {
    throw new ConfigError(result.issues.map((issue) => `${v.getDotPath(issue) ?? 'environment'} ${issue.message}`));
  }
  const e = result.output;
  return {
    secretIdTemplate: e.BINANCE_SECRET_ID,
    resultTopicArn: e.RESULT_TOPIC_ARN,
    papiUrl: e.BINANCE_PAPI_URL,
    timeUrl: e.BINANCE_TIME_URL,
    recvWindowMs: e.BINANCE_RECV_WINDOW,
    maxReceiveCount: e.MAX_RECEIVE_COUNT,
    requestTimeoutMs: e.BINANCE_REQUEST_TIMEOUT_MS,
    credentialsCacheTtlMs: e.CREDENTIALS_CACHE_TTL_SECONDS,
    weightLimitPerMinute: e.BINANCE_WEIGHT_LIMIT,
    leverageCaps: e.LEVERAGE_CAPS,
    maxEventAgeMs: e.MAX_EVENT_AGE_SECONDS,
    dryRun: e.DRY_RUN,
    stateTableName: e.STATE_TABLE_NAME,
    pauseParameter: e.PAUSE_PARAMETER,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
