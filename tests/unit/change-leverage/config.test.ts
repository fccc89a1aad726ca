import { type Config, ConfigError, loadConfig } from '../../../functions/change-leverage/config.ts';
import { thrownBy } from '../../support/fakes.ts';

const REQUIRED = { BINANCE_SECRET_ID: 'leverage-guard/{accountId}/binance', RESULT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:outcomes' };

/** What the new variables default to when unset. */
const SAFETY_DEFAULTS = { leverageCaps: undefined, maxEventAgeMs: 900_000, dryRun: false, stateTableName: undefined, pauseParameter: undefined };

const problemWith = (env: Record<string, string | undefined>) => {
  const error = thrownBy<ConfigError>(() => loadConfig({ ...REQUIRED, ...env }));
  expect(error).toBeInstanceOf(ConfigError);
  expect(error.name).toBe('ConfigError');
  return error.message;
};

describe('loadConfig', () => {
  test('defaults: only the two required variables set', () => {
    expect(loadConfig(REQUIRED)).toStrictEqual({
      secretIdTemplate: 'leverage-guard/{accountId}/binance',
      resultTopicArn: 'arn:aws:sns:eu-west-1:123456789012:outcomes',
      papiUrl: 'https://papi.binance.com',
      timeUrl: 'https://fapi.binance.com/fapi/v1/time',
      recvWindowMs: 5000,
      maxReceiveCount: 3,
      requestTimeoutMs: 5000,
      credentialsCacheTtlMs: 300_000,
      weightLimitPerMinute: 6000,
      ...SAFETY_DEFAULTS,
    });
  });

  test('every variable set, values trimmed; blank optional values fall back to defaults', () => {
    expect(
      loadConfig({
        BINANCE_SECRET_ID: '  s/{accountId}  ',
        RESULT_TOPIC_ARN: ' arn:aws-us-gov:sns:us-gov-west-1:123456789012:outcomes.fifo ',
        BINANCE_PAPI_URL: ' http://127.0.0.1:8123 ',
        BINANCE_TIME_URL: 'http://localhost:8123/fapi/v1/time',
        BINANCE_RECV_WINDOW: '60000',
        MAX_RECEIVE_COUNT: ' 5 ',
        BINANCE_REQUEST_TIMEOUT_MS: '100',
        CREDENTIALS_CACHE_TTL_SECONDS: '0',
        BINANCE_WEIGHT_LIMIT: ' 2400 ',
        LEVERAGE_CAPS: ' {"BTCUSDT": 20, "*": 10} ',
        MAX_EVENT_AGE_SECONDS: ' 60 ',
        DRY_RUN: ' TRUE ',
        STATE_TABLE_NAME: '  leverage-guard-state  ',
        PAUSE_PARAMETER: ' /leverage-guard/paused ',
      }),
    ).toStrictEqual({
      secretIdTemplate: 's/{accountId}',
      resultTopicArn: 'arn:aws-us-gov:sns:us-gov-west-1:123456789012:outcomes.fifo',
      papiUrl: 'http://127.0.0.1:8123',
      timeUrl: 'http://localhost:8123/fapi/v1/time',
      recvWindowMs: 60_000,
      maxReceiveCount: 5,
      requestTimeoutMs: 100,
      credentialsCacheTtlMs: 0,
      weightLimitPerMinute: 2400,
      leverageCaps: { BTCUSDT: 20, '*': 10 },
      maxEventAgeMs: 60_000,
      dryRun: true,
      stateTableName: 'leverage-guard-state',
      pauseParameter: '/leverage-guard/paused',
    });
    expect(loadConfig({ ...REQUIRED, BINANCE_RECV_WINDOW: '  ', BINANCE_PAPI_URL: '' })).toMatchObject({
      recvWindowMs: 5000,
      papiUrl: 'https://papi.binance.com',
    });
  });

  test.each([
    ['BINANCE_SECRET_ID', undefined],
    ['BINANCE_SECRET_ID', '   '],
    ['RESULT_TOPIC_ARN', undefined],
    ['RESULT_TOPIC_ARN', ''],
  ])('%s = %p: "is required"', (name, value) => {
    expect(problemWith({ [name]: value })).toBe(`invalid configuration: ${name} is required`);
  });

  // variable, allowed range, the Config field it sets, and the unit factor
  const ranges: [string, number, number, keyof Config, number][] = [
    ['BINANCE_RECV_WINDOW', 1, 60_000, 'recvWindowMs', 1],
    ['MAX_RECEIVE_COUNT', 1, 1000, 'maxReceiveCount', 1],
    ['BINANCE_REQUEST_TIMEOUT_MS', 100, 60_000, 'requestTimeoutMs', 1],
    ['CREDENTIALS_CACHE_TTL_SECONDS', 0, 86_400, 'credentialsCacheTtlMs', 1000],
    ['BINANCE_WEIGHT_LIMIT', 1, 1_000_000, 'weightLimitPerMinute', 1],
    ['MAX_EVENT_AGE_SECONDS', 1, 7 * 86_400, 'maxEventAgeMs', 1000],
  ];
  const badValues = (min: number, max: number) => ['abc', '1.5', '-1', '1e3', '0x10', String(max + 1), ...(min > 0 ? [String(min - 1)] : [])];
  test.each(ranges.flatMap(([name, min, max]) => badValues(min, max).map((raw) => [name, raw, min, max] as const)))(
    '%s = %p is rejected with the allowed range',
    (name, raw, min, max) => {
      expect(problemWith({ [name]: raw })).toBe(`invalid configuration: ${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    },
  );

  test.each(ranges)('%s accepts both ends of %p..%p, as %s', (name, min, max, field, factor) => {
    const read = (value: number) => loadConfig({ ...REQUIRED, [name]: String(value) })[field];
    expect([read(min), read(max)]).toEqual([min * factor, max * factor]);
  });

  const URL_VARIABLES = ['BINANCE_PAPI_URL', 'BINANCE_TIME_URL'];
  const allowed = [
    'https://papi.binance.com',
    'https://example.org:8443/base',
    'http://127.0.0.1:8080',
    'http://127.10.20.30',
    'http://localhost:9000/fapi/v1/time',
    'http://LOCALHOST:9000',
    'http://[::1]:9000',
  ];
  test.each(URL_VARIABLES.flatMap((name) => allowed.map((url) => [name, url])))('%s = %s is allowed', (name, url) => {
    const config = loadConfig({ ...REQUIRED, [name]: url });
    expect(name === 'BINANCE_PAPI_URL' ? config.papiUrl : config.timeUrl).toBe(url);
  });

  const refused: [string, string][] = [
    ['http://papi.binance.com', 'must use https (plain http only for loopback hosts)'],
    ['http://10.0.0.1:8080', 'must use https (plain http only for loopback hosts)'],
    ['http://127.0.0.1.nip.io', 'must use https (plain http only for loopback hosts)'],
    ['http://localhost.example.com', 'must use https (plain http only for loopback hosts)'],
    ['ftp://127.0.0.1', 'must use https (plain http only for loopback hosts)'],
    ['papi.binance.com', 'must be an absolute URL'],
    ['https://', 'must be an absolute URL'],
  ];
  test.each(URL_VARIABLES.flatMap((name) => refused.map(([url, why]) => [name, url, why] as const)))('%s = %s: %s', (name, url, why) => {
    expect(problemWith({ [name]: url })).toBe(`invalid configuration: ${name} ${why}, got "${url}"`);
  });
});

describe('loadConfig: safety rails', () => {
  test.each([
    ['{"BTCUSDT": 20, "*": 10}', { BTCUSDT: 20, '*': 10 }],
    ['{"BTCUSDT_261225": 1, "1000PEPEUSDT": 125}', { BTCUSDT_261225: 1, '1000PEPEUSDT': 125 }],
    ['{}', {}],
    ['  ', undefined],
  ])('LEVERAGE_CAPS = %p', (raw, caps) => {
    expect(loadConfig({ ...REQUIRED, LEVERAGE_CAPS: raw }).leverageCaps).toStrictEqual(caps);
  });

  test('the caps cannot be changed after loading', () => {
    const caps = loadConfig({ ...REQUIRED, LEVERAGE_CAPS: '{"*": 10}' }).leverageCaps as Record<string, number>;
    expect(Object.isFrozen(caps)).toBe(true);
  });

  const EXAMPLE = 'must be a JSON object such as {"BTCUSDT": 20, "*": 10}';
  const NOT_AN_OBJECT = 'must be a JSON object of symbol → maximum leverage';
  const cap = (value: string) => `cap for BTCUSDT must be a whole number from 1 to 125, got ${value}`;
  test.each([
    ['{BTCUSDT: 20}', `${EXAMPLE}, got "{BTCUSDT: 20}"`],
    ['{"BTCUSDT": 20,}', `${EXAMPLE}, got "{"BTCUSDT": 20,}"`],
    ['[20]', NOT_AN_OBJECT],
    ['20', NOT_AN_OBJECT],
    ['null', NOT_AN_OBJECT],
    ['"BTCUSDT"', NOT_AN_OBJECT],
    ['{"btcusdt": 20}', 'has an invalid symbol "btcusdt"'],
    ['{"BTC-USDT": 20}', 'has an invalid symbol "BTC-USDT"'],
    ['{"**": 20}', 'has an invalid symbol "**"'],
    ['{"BTCUSDT": 0}', cap('0')],
    ['{"BTCUSDT": 126}', cap('126')],
    ['{"BTCUSDT": 2.5}', cap('2.5')],
    ['{"BTCUSDT": -1}', cap('-1')],
    ['{"BTCUSDT": "20"}', cap('"20"')],
    ['{"BTCUSDT": null}', cap('null')],
    ['{"*": 10, "BTCUSDT": 200}', 'cap for BTCUSDT must be a whole number from 1 to 125, got 200'],
  ])('LEVERAGE_CAPS = %s is rejected, naming the variable', (raw, problem) => {
    expect(problemWith({ LEVERAGE_CAPS: raw })).toBe(`invalid configuration: LEVERAGE_CAPS ${problem}`);
  });

  test.each([
    [undefined, false],
    ['', false],
    ['false', false],
    [' False ', false],
    ['true', true],
    ['TRUE', true],
  ])('DRY_RUN = %p is %p', (raw, dryRun) => {
    expect(loadConfig({ ...REQUIRED, DRY_RUN: raw }).dryRun).toBe(dryRun);
  });

  test.each(['yes', '1', 'on', 'truee', '0'])('DRY_RUN = %p is rejected: only true or false', (raw) => {
    expect(problemWith({ DRY_RUN: raw })).toBe(`invalid configuration: DRY_RUN must be true or false, got "${raw}"`);
  });

  test.each([
    ['STATE_TABLE_NAME', 'stateTableName'],
    ['PAUSE_PARAMETER', 'pauseParameter'],
  ] as const)('%s is optional: unset or blank means none', (name, field) => {
    expect([loadConfig(REQUIRED)[field], loadConfig({ ...REQUIRED, [name]: '   ' })[field], loadConfig({ ...REQUIRED, [name]: ' x ' })[field]]).toEqual([
      undefined,
      undefined,
      'x',
    ]);
  });
});

describe('loadConfig: configuration that cannot work is refused, all of it at once', () => {
  const problemsOf = (env: Record<string, string | undefined>) => {
    const error = thrownBy<ConfigError>(() => loadConfig(env));
    expect(error).toBeInstanceOf(ConfigError);
    return error.problems;
  };

  test('every problem is reported, each naming its variable, in one error', () => {
    const env = { RESULT_TOPIC_ARN: 'outcomes', BINANCE_RECV_WINDOW: '0', LEVERAGE_CAPS: '{"btc": 0}', DRY_RUN: 'maybe', BINANCE_PAPI_URL: 'http://papi.binance.com' };
    const problems = problemsOf(env);
    expect(problems).toEqual([
      'BINANCE_SECRET_ID is required',
      'RESULT_TOPIC_ARN must be an SNS topic ARN (arn:<partition>:sns:<region>:<12-digit account>:<topic name>)',
      'BINANCE_PAPI_URL must use https (plain http only for loopback hosts), got "http://papi.binance.com"',
      'BINANCE_RECV_WINDOW must be a whole number from 1 to 60000, got "0"',
      'LEVERAGE_CAPS has an invalid symbol "btc"',
      'LEVERAGE_CAPS cap for btc must be a whole number from 1 to 125, got 0',
      'DRY_RUN must be true or false, got "maybe"',
    ]);
    expect(thrownBy<ConfigError>(() => loadConfig(env)).message).toBe(`invalid configuration: ${problems.join('; ')}`);
  });

  test.each([
    ['a topic name', 'outcomes'],
    ['an SQS queue ARN', 'arn:aws:sqs:eu-west-1:123456789012:outcomes'],
    ['a subscription ARN', 'arn:aws:sns:eu-west-1:123456789012:outcomes:3f2b0c1e-7a6d-4e5f-9a8b-1c2d3e4f5a6b'],
    ['an account id that is not 12 digits', 'arn:aws:sns:eu-west-1:1234:outcomes'],
    ['no region', 'arn:aws:sns::123456789012:outcomes'],
    ['a topic URL', 'https://sns.eu-west-1.amazonaws.com/123456789012/outcomes'],
  ])('RESULT_TOPIC_ARN as %s is refused, without echoing the value or its account', (_what, value) => {
    const message = problemWith({ RESULT_TOPIC_ARN: value });
    expect(message).toBe('invalid configuration: RESULT_TOPIC_ARN must be an SNS topic ARN (arn:<partition>:sns:<region>:<12-digit account>:<topic name>)');
    expect(message).not.toContain('123456789012');
  });

  test.each(['arn:aws:sns:ap-northeast-1:123456789012:leverage-guard-prod-results', 'arn:aws-cn:sns:cn-north-1:123456789012:r_1', 'arn:aws:sns:us-east-1:000000000000:t.fifo'])(
    'RESULT_TOPIC_ARN %s is an SNS topic ARN',
    (value) => {
      expect(loadConfig({ ...REQUIRED, RESULT_TOPIC_ARN: value }).resultTopicArn).toBe(value);
    },
  );

  const PER_ACCOUNT = 'must contain {accountId} so each account signs with its own key (or set BINANCE_SINGLE_ACCOUNT=true to use one key for every account)';
  test.each([
    ['a name without {accountId}', 'leverage-guard/prod/binance', undefined, PER_ACCOUNT],
    ['an ARN without {accountId}', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:binance', 'false', PER_ACCOUNT],
    [
      '{accountId} together with BINANCE_SINGLE_ACCOUNT=true',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:{accountId}',
      'true',
      'contains {accountId} although BINANCE_SINGLE_ACCOUNT=true says one key serves every account: choose one',
    ],
  ])('BINANCE_SECRET_ID as %s is refused, without echoing it', (_what, secretId, single, problem) => {
    const message = problemWith({ BINANCE_SECRET_ID: secretId, BINANCE_SINGLE_ACCOUNT: single });
    expect(message).toBe(`invalid configuration: BINANCE_SECRET_ID ${problem}`);
    expect(message).not.toContain('123456789012');
  });

  test('one key for every account only when BINANCE_SINGLE_ACCOUNT=true says so', () => {
    expect(loadConfig({ ...REQUIRED, BINANCE_SECRET_ID: 'leverage-guard/prod/binance', BINANCE_SINGLE_ACCOUNT: ' TRUE ' }).secretIdTemplate).toBe('leverage-guard/prod/binance');
  });

  test('BINANCE_SINGLE_ACCOUNT takes only true or false', () => {
    expect(problemWith({ BINANCE_SINGLE_ACCOUNT: 'yes' })).toBe('invalid configuration: BINANCE_SINGLE_ACCOUNT must be true or false, got "yes"');
  });
});
