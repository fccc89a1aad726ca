import type { RecordedRequest } from '../../../local/binance-simulator/index.ts';
import { cred, raw, setLeverage, signed, useSimulator } from '../../support/simulator-client.ts';

describe('control API and request log', () => {
  const sim = useSimulator();

  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${sim.url}/__sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, json: (await res.json()) as any }));

  it('injects and clears faults over HTTP', async () => {
    expect((await control('POST', 'faults', { fault: { type: 'internalError' }, path: '/papi/v1/um/leverage', times: -1 })).status).toBe(200);
    expect((await setLeverage(sim, 'BTCUSDT', 30)).status).toBe(500);
    expect((await setLeverage(sim, 'BTCUSDT', 30)).status).toBe(500);
    expect((await control('DELETE', 'faults')).status).toBe(200);
    expect((await setLeverage(sim, 'BTCUSDT', 30)).status).toBe(200);
    const bad = await control('POST', 'faults', { fault: { type: 'nope' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/unknown fault type/);
  });

  it('sets the clock skew over HTTP', async () => {
    expect((await control('POST', 'clock', { skewMs: 6000 })).status).toBe(200);
    expect((await setLeverage(sim, 'BTCUSDT', 30)).json.code).toBe(-1021);
    const { serverTime } = (await raw(sim, 'GET', '/fapi/v1/time')).json;
    expect(serverTime - Date.now()).toBeGreaterThan(5000);
    expect((await control('POST', 'clock', { skewMs: 'x' })).status).toBe(400);
  });

  it('exposes state (account → symbol → leverage) and resets to the seed', async () => {
    await setLeverage(sim, 'ETHUSDT', 12, { account: 'desk-2' });
    const state = (await control('GET', 'state')).json;
    expect(state['desk-2'].ETHUSDT).toBe(12);
    expect(state['desk-1'].BTCUSDT).toBe(10);
    expect(Object.keys(state)).toEqual(['default', 'desk-1', 'desk-2', 'desk-3']);
    await control('POST', 'faults', { fault: { type: 'internalError' } });
    await control('POST', 'clock', { skewMs: 99_999 });
    expect((await control('POST', 'reset')).status).toBe(200);
    expect(sim.leverageOf('desk-2', 'ETHUSDT')).toBe(20);
    expect(sim.requests()).toEqual([]);
    expect(sim.usedWeight()).toBe(0);
    expect((await setLeverage(sim, 'BTCUSDT', 30)).status).toBe(200); // no fault, no skew
  });

  it('sets leverage and positions over HTTP, as the programmatic API does', async () => {
    await control('POST', 'leverage', { account: 'desk-3', symbol: 'LTCUSDT', leverage: 3 });
    await control('POST', 'position', { account: 'desk-3', symbol: 'LTCUSDT', positionAmt: '-250' });
    const pos = await signed(sim, { path: '/papi/v1/um/positionRisk', params: { symbol: 'LTCUSDT' }, account: 'desk-3' });
    expect(pos.json[0]).toMatchObject({ leverage: '3', positionAmt: '-250', notional: '-25000' });
    expect((await control('POST', 'leverage', { account: 'nobody', symbol: 'LTCUSDT', leverage: 3 })).status).toBe(400);
    expect((await control('GET', 'weight')).json).toEqual({ usedWeight: 5, limit: 6000 });
  });

  it('logs every request in arrival order, rejected ones included, but not control calls', async () => {
    await raw(sim, 'GET', '/papi/v1/ping');
    await setLeverage(sim, 'BTCUSDT', 150, { account: 'desk-1' });
    await setLeverage(sim, 'BTCUSDT', 30, { apiKey: 'Q'.repeat(64) });
    await control('GET', 'state');
    await setLeverage(sim, 'SOLUSDT', 5, { account: 'desk-2' });
    const log: RecordedRequest[] = (await control('GET', 'requests')).json;
    expect(log).toEqual(sim.requests());
    expect(log.map((r) => [r.seq, r.method, r.path, r.account, r.status, r.code, r.weight])).toEqual([
      [1, 'GET', '/papi/v1/ping', undefined, 200, undefined, 1],
      [2, 'POST', '/papi/v1/um/leverage', 'desk-1', 400, -4028, 1],
      [3, 'POST', '/papi/v1/um/leverage', undefined, 401, -2015, 1],
      [4, 'POST', '/papi/v1/um/leverage', 'desk-2', 200, undefined, 1],
    ]);
    expect(log[3]?.query).toMatchObject({ symbol: 'SOLUSDT', leverage: '5' });
    expect(log[3]?.apiKey).toBe(cred('desk-2').apiKey);
    expect(log[2]?.apiKey).toBe('Q'.repeat(64));
    const times = log.map((r) => r.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('programmatic setters validate account and symbol names', () => {
    expect(() => sim.leverageOf('nobody', 'BTCUSDT')).toThrow(/unknown account/);
    expect(() => sim.setLeverage('default', 'NOPE', 3)).toThrow(/unknown symbol/);
  });
});
