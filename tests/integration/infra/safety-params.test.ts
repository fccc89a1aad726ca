// infra/safety-params.cjs turns the safety-rail params into the function's LEVERAGE_CAPS,
// MAX_EVENT_AGE_SECONDS and DRY_RUN, rejecting what the function would refuse at start-up (which
// would stop every invocation). Called the way osls calls it, with a stand-in for osls' variable
// resolver, so each accepted and rejected value is checked without packaging. The wiring into the
// template is checked in stack.test.ts.
import { createRequire } from 'node:module';
import path from 'node:path';

type Resolve = (variable: string) => Promise<unknown>;
type Setting = (context: { resolveVariable: Resolve }) => Promise<string>;

const settings = createRequire(path.join(process.cwd(), 'package.json'))('./infra/safety-params.cjs') as Record<
  'leverageCaps' | 'maxEventAgeSeconds' | 'dryRun',
  Setting
>;

function resolve(name: keyof typeof settings, value: unknown): Promise<string> {
  return settings[name]({
    resolveVariable: async (variable) => {
      if (variable !== `param:${name}`) throw new Error(`unexpected variable ${variable}`);
      return value;
    },
  });
}

describe('leverageCaps -> LEVERAGE_CAPS', () => {
  test.each([
    ['a YAML mapping', { BTCUSDT: 20, '*': 10 }, { BTCUSDT: 20, '*': 10 }],
    ['a JSON string (--param)', '{"BTCUSDT": 20, "*": 10}', { BTCUSDT: 20, '*': 10 }],
    ['a dated contract and the extremes', { BTCUSDT_261225: 1, ETHUSDT: 125 }, { BTCUSDT_261225: 1, ETHUSDT: 125 }],
  ])('accepts %s, as compact JSON', async (_what, value, expected) => {
    const caps = await resolve('leverageCaps', value);
    expect(JSON.parse(caps)).toEqual(expected);
    expect(caps).not.toMatch(/\s/);
  });

  test.each([[''], ['  '], [{}], ['{}'], [null], [undefined]])('empty (%j) means no caps of our own', async (value) => {
    expect(await resolve('leverageCaps', value)).toBe('');
  });

  test.each([
    ['not JSON', '{BTCUSDT: 20}', /is not JSON/],
    ['a list', [20], /must be a mapping/],
    ['a number', 10, /must be a mapping/],
    ['a lowercase symbol', { btcusdt: 20 }, /"btcusdt" is neither "\*" nor an uppercase UM symbol/],
    ['a cap of 0', { '*': 0 }, /the cap must be a whole number from 1 to 125, got 0/],
    ['a cap above 125', { BTCUSDT: 126 }, /from 1 to 125, got 126/],
    ['a fractional cap', { BTCUSDT: 2.5 }, /got 2.5/],
    ['a cap as a string', { BTCUSDT: '20' }, /got "20"/],
  ])('rejects %s', async (_what, value, message) => {
    await expect(resolve('leverageCaps', value)).rejects.toThrow(/^param leverageCaps: /);
    await expect(resolve('leverageCaps', value)).rejects.toThrow(message);
  });
});

describe('maxEventAgeSeconds -> MAX_EVENT_AGE_SECONDS', () => {
  test.each([[900, '900'], ['900', '900'], [1, '1'], [86400, '86400']])('accepts %j as %s', async (value, expected) => {
    expect(await resolve('maxEventAgeSeconds', value)).toBe(expected);
  });

  test.each([[0], [-5], [86401], [1.5], ['15m'], [''], [undefined]])('rejects %j', async (value) => {
    await expect(resolve('maxEventAgeSeconds', value)).rejects.toThrow(/^param maxEventAgeSeconds: must be a whole number of seconds from 1 to 86400/);
  });
});

describe('dryRun -> DRY_RUN', () => {
  test.each([[true, 'true'], [false, 'false'], ['true', 'true'], ['false', 'false']])('accepts %j as %s', async (value, expected) => {
    expect(await resolve('dryRun', value)).toBe(expected);
  });

  test.each([['yes'], ['TRUE'], [1], [''], [undefined]])('rejects %j', async (value) => {
    await expect(resolve('dryRun', value)).rejects.toThrow(/^param dryRun: must be true or false/);
  });
});

describe('binanceRequestTimeoutMs -> BINANCE_REQUEST_TIMEOUT_MS, against functionTimeout', () => {
  const withTimeout = (requestTimeoutMs: unknown, functionTimeout: unknown) =>
    (settings as unknown as Record<'binanceRequestTimeoutMs', Setting>).binanceRequestTimeoutMs({
      resolveVariable: async (variable) => {
        if (variable === 'param:binanceRequestTimeoutMs') return requestTimeoutMs;
        if (variable === 'param:functionTimeout') return functionTimeout;
        throw new Error(`unexpected variable ${variable}`);
      },
    });

  test.each([
    [5000, 30, '5000'],
    ['2000', '10', '2000'],
    [28500, 30, '28500'], // exactly what fits before the reserve
  ])('accepts %j ms with a %j s function timeout', async (value, functionTimeout, expected) => {
    expect(await withTimeout(value, functionTimeout)).toBe(expected);
  });

  test.each([
    [30000, 30],
    [45000, 30],
    [28501, 30],
    [5000, 6],
  ])('refuses %j ms with a %j s function timeout: no record could ever start', async (value, functionTimeout) => {
    await expect(withTimeout(value, functionTimeout)).rejects.toThrow(/^param binanceRequestTimeoutMs: \d+ ms does not fit the function timeout .*no record could ever start/);
  });

  test.each([[99], [60001], ['5s'], [''], [undefined]])('refuses %j: not a timeout the function accepts', async (value) => {
    await expect(withTimeout(value, 30)).rejects.toThrow(/^param binanceRequestTimeoutMs: must be a whole number of milliseconds from 100 to 60000/);
  });

  test('the reserve is the function\'s own', async () => {
    const { WORK_RESERVE_MS } = await import('../../../functions/domain/time-budget.ts');
    expect((settings as unknown as { WORK_RESERVE_MS: number }).WORK_RESERVE_MS).toBe(WORK_RESERVE_MS);
  });
});
