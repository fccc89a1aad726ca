import { defaultSeed } from '../../../local/binance-simulator/index.ts';
import { WeightLimiter } from '../../../local/binance-simulator/rate-limit.ts';
import { raw, signed, useSimulator } from '../../support/simulator-client.ts';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000; // a minute boundary

describe('IP weight limit', () => {
  let clock = T0;
  const sim = useSimulator({ seed: { ...defaultSeed(), weightLimitPerMinute: 20 }, now: () => clock }, () => {
    clock = T0;
  });

  const used = (res: { headers: Headers }) => Number(res.headers.get('x-mbx-used-weight-1m'));

  it('reports the weight used in the current minute on every response, errors included', async () => {
    expect(used(await raw(sim, 'GET', '/papi/v1/ping'))).toBe(1);
    expect(used(await signed(sim, { path: '/papi/v1/um/positionRisk', now: clock }))).toBe(6);
    expect(used(await signed(sim, { path: '/papi/v1/um/symbolConfig', now: clock, apiKey: null }))).toBe(11); // 401
    expect(used(await raw(sim, 'GET', '/nowhere'))).toBe(12); // 404
    expect(sim.usedWeight()).toBe(12);
  });

  it('answers 429 -1003 with Retry-After when the limit would be exceeded, then resets each minute', async () => {
    for (let i = 1; i <= 17; i++) expect(used(await raw(sim, 'GET', '/papi/v1/ping'))).toBe(i);
    clock = T0 + 45_500;
    const heavy = await signed(sim, { path: '/papi/v1/um/symbolConfig', now: clock }); // weight 5: 22 > 20
    expect(heavy.status).toBe(429);
    expect(heavy.json).toEqual({
      code: -1003,
      msg: 'Too many requests; current limit of IP is 20 requests per minute. Please use the websocket for live updates to avoid polling the API.',
    });
    expect(heavy.headers.get('retry-after')).toBe('15');
    expect(used(heavy)).toBe(17); // a rejected request adds no weight
    for (let i = 18; i <= 20; i++) expect((await raw(sim, 'GET', '/papi/v1/ping')).status).toBe(200);
    const over = await raw(sim, 'GET', '/papi/v1/ping');
    expect([over.status, used(over)]).toEqual([429, 20]);
    expect(sim.requests().at(-1)).toMatchObject({ status: 429, code: -1003, weight: 0 });
    clock = T0 + MINUTE;
    const fresh = await raw(sim, 'GET', '/papi/v1/ping');
    expect([fresh.status, used(fresh)]).toEqual([200, 1]);
  });

  it('defaults to 6000 per minute', () => {
    const limiter = new WeightLimiter(() => T0);
    expect(limiter.limit).toBe(6000);
    expect(limiter.consume(6000)).toEqual({ ok: true, used: 6000 });
    expect(limiter.consume(1)).toEqual({ ok: false, used: 6000, retryAfterSeconds: 60 });
  });
});
