import type { Fault } from '../../../local/binance-simulator/index.ts';
import { raw, setLeverage, useSimulator } from '../../support/simulator-client.ts';

const LEVERAGE = '/papi/v1/um/leverage';
const UNKNOWN = 'Unknown error, please check your request or try again later.';

describe('fault injection', () => {
  let advance = 0; // simulated time travel, on top of the real clock
  const sim = useSimulator({ now: () => Date.now() + advance }, () => {
    advance = 0;
  });

  const inject = (fault: Fault, extra: { symbol?: string; path?: string; method?: string; times?: number } = {}) =>
    sim.injectFault({ fault, ...extra });
  const change = (leverage: number, symbol = 'BTCUSDT', timeoutMs?: number) =>
    setLeverage(sim, symbol, leverage, { now: Date.now() + advance, timeoutMs });

  it('rateLimit: 429 -1003 with Retry-After, not executed, then normal again', async () => {
    inject({ type: 'rateLimit', retryAfterSeconds: 7 });
    const res = await change(30);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.json.code).toBe(-1003);
    expect(res.headers.get('x-mbx-used-weight-1m')).not.toBeNull();
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(20);
    expect((await change(30)).status).toBe(200);
  });

  it('ban: 418 with Retry-After, and every request gets 418 until the ban ends', async () => {
    inject({ type: 'ban', seconds: 120 }, { path: LEVERAGE });
    const res = await change(30);
    expect(res.status).toBe(418);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(res.json.code).toBe(-1003);
    expect(res.json.msg).toMatch(/banned until \d+/);
    advance = 60_000;
    const ping = await raw(sim, 'GET', '/papi/v1/ping');
    expect(ping.status).toBe(418);
    expect(Number(ping.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(20);
    advance = 121_000;
    expect((await raw(sim, 'GET', '/papi/v1/ping')).status).toBe(200);
    expect((await change(30)).status).toBe(200);
  });

  it.each<[Fault, number, string]>([
    [{ type: 'internalError' }, 500, '{"code":-1001,"msg":"Internal error; unable to process your request. Please try again."}'],
    [{ type: 'serviceUnavailable' }, 503, 'Service Unavailable.'],
    [{ type: 'throttled' }, 503, '{"code":-1008,"msg":"Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again."}'],
    [{ type: 'unknownStatus', apply: false }, 503, `{"code":-1007,"msg":"${UNKNOWN}"}`],
    [{ type: 'unknownStatus', apply: false, code: -1006 }, 503, `{"code":-1006,"msg":"${UNKNOWN}"}`],
  ])('%j answers %i without executing', async (fault, status, body) => {
    inject(fault);
    const res = await change(30);
    expect([res.status, res.text]).toEqual([status, body]);
    expect(res.headers.get('x-mbx-used-weight-1m')).toBe('1');
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(20);
  });

  it('unknownStatus with apply=true executes the change, then answers 503', async () => {
    inject({ type: 'unknownStatus', apply: true });
    const res = await change(33);
    expect([res.status, res.json]).toEqual([503, { code: -1007, msg: UNKNOWN }]);
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(33);
  });

  it('nonJson: an HTML gateway page with the given status', async () => {
    inject({ type: 'nonJson', status: 502 });
    const res = await change(30);
    expect(res.status).toBe(502);
    expect(res.json).toBeUndefined();
    expect(res.text).toContain('502 Bad Gateway');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it.each([false, true])('timeout (apply=%s): never answers; the change happens only if apply', async (apply) => {
    inject({ type: 'timeout', apply });
    await expect(change(40, 'BTCUSDT', 250)).rejects.toThrow(/aborted|timeout/i);
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(apply ? 40 : 20);
    expect(sim.requests().at(-1)).toMatchObject({ status: 0, fault: 'timeout' });
    expect((await change(41)).status).toBe(200);
  });

  it.each([false, true])('reset (apply=%s): socket destroyed without a response', async (apply) => {
    inject({ type: 'reset', apply });
    await expect(change(45)).rejects.toThrow();
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(apply ? 45 : 20);
    expect(sim.requests().at(-1)).toMatchObject({ status: 0, fault: 'reset' });
  });

  it('latency delays the normal response', async () => {
    inject({ type: 'latency', ms: 200 });
    const started = Date.now();
    const res = await change(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(50);
  });

  it('matches by symbol, path and method; consumes rules in injection order; counts times down', async () => {
    inject({ type: 'internalError' }, { symbol: 'ETHUSDT' });
    inject({ type: 'throttled' }, { path: LEVERAGE, method: 'post', times: 2 });
    inject({ type: 'serviceUnavailable' }, { path: '/papi/v1/ping' });
    expect((await raw(sim, 'GET', '/fapi/v1/time')).status).toBe(200); // no rule matches
    expect((await change(30)).json.code).toBe(-1008); // BTCUSDT skips the ETHUSDT rule
    expect((await change(30, 'ETHUSDT')).json.code).toBe(-1001); // first matching rule wins
    expect((await change(30, 'ETHUSDT')).json.code).toBe(-1008); // second use of times: 2
    expect((await change(30, 'ETHUSDT')).status).toBe(200);
    expect((await raw(sim, 'GET', '/papi/v1/ping')).text).toBe('Service Unavailable.');
    expect((await raw(sim, 'GET', '/papi/v1/ping')).status).toBe(200);
  });

  it('times: -1 repeats until clearFaults()', async () => {
    inject({ type: 'internalError' }, { times: -1 });
    for (let i = 0; i < 3; i++) expect((await change(30)).status).toBe(500);
    sim.clearFaults();
    expect((await change(30)).status).toBe(200);
  });

  it('records faulted requests with their status and fault', async () => {
    inject({ type: 'throttled' });
    await change(30);
    await change(31);
    expect(sim.requests().map((r) => [r.seq, r.status, r.code, r.fault, r.account])).toEqual([
      [1, 503, -1008, 'throttled', 'default'],
      [2, 200, undefined, undefined, 'default'],
    ]);
  });

  it('rejects malformed rules', () => {
    expect(() => sim.injectFault({ fault: { type: 'explode' } } as never)).toThrow(/unknown fault type/);
    expect(() => sim.injectFault({ fault: { type: 'internalError' }, times: 0 })).toThrow(/times/);
  });
});
