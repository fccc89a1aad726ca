import { cred, encode, raw, setLeverage, sign, signed, type SignedCall, useSimulator } from '../../support/simulator-client.ts';

const T0 = 1_800_000_000_000;
const OUTSIDE = { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' };
const AHEAD = { code: -1021, msg: "Timestamp for this request was 1000ms ahead of the server's time." };

describe('API key and timing checks', () => {
  let clock = T0;
  const sim = useSimulator({ now: () => clock }, () => {
    clock = T0;
  });

  const symbolConfig = (extra: Partial<SignedCall>) =>
    signed(sim, { path: '/papi/v1/um/symbolConfig', params: { symbol: 'BTCUSDT' }, now: clock, ...extra });

  it('rejects a missing or unknown API key with -2015 (401) and a malformed one with -2014', async () => {
    const invalid = { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' };
    const missing = await symbolConfig({ apiKey: null });
    expect([missing.status, missing.json]).toEqual([401, invalid]);
    const unknown = await symbolConfig({ apiKey: 'Z'.repeat(64) });
    expect([unknown.status, unknown.json]).toEqual([401, invalid]);
    const malformed = await symbolConfig({ apiKey: 'short-key!' });
    expect([malformed.status, malformed.json]).toEqual([401, { code: -2014, msg: 'API-key format invalid.' }]);
  });

  it('requires an integer timestamp (-1102)', async () => {
    const c = cred('default');
    const msg = "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.";
    for (const query of [encode({ symbol: 'BTCUSDT' }), encode({ symbol: 'BTCUSDT', timestamp: 'soon' })]) {
      const res = await raw(sim, 'GET', `/papi/v1/um/symbolConfig?${query}&signature=${sign(c, query)}`, { apiKey: c.apiKey });
      expect([res.status, res.json]).toEqual([400, { code: -1102, msg }]);
    }
  });

  it('rejects recvWindow above 60000 (-1131) and accepts 60000', async () => {
    const big = await symbolConfig({ recvWindow: 60001 });
    expect([big.status, big.json]).toEqual([400, { code: -1131, msg: 'recvWindow must be less than 60000.' }]);
    const max = await symbolConfig({ recvWindow: 60000, timestamp: clock - 60000 });
    expect(max.status).toBe(200);
  });

  it('accepts iff timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow', async () => {
    expect((await symbolConfig({ timestamp: clock + 999 })).status).toBe(200);
    expect((await symbolConfig({ timestamp: clock + 1000 })).json).toEqual(AHEAD);
    expect((await symbolConfig({ timestamp: clock - 5000 })).status).toBe(200);
    expect((await symbolConfig({ timestamp: clock - 5001 })).json).toEqual(OUTSIDE);
    expect((await symbolConfig({ timestamp: clock - 9000, recvWindow: 10000 })).status).toBe(200);
    expect((await symbolConfig({ timestamp: clock - 10001, recvWindow: 10000 })).json).toEqual(OUTSIDE);
  });

  it('checks the timing window before the signature', async () => {
    const c = cred('default');
    const query = encode({ symbol: 'BTCUSDT', timestamp: clock - 60_000 });
    const res = await raw(sim, 'GET', `/papi/v1/um/symbolConfig?${query}&signature=${'0'.repeat(64)}`, { apiKey: c.apiKey });
    expect(res.json).toEqual(OUTSIDE);
  });

  it('applies clock skew to server time: a client without offset correction gets -1021', async () => {
    sim.setClockSkewMs(-3000); // server is 3 s behind the client
    expect((await setLeverage(sim, 'BTCUSDT', 30, { now: clock })).json).toEqual(AHEAD);
    const time = await raw(sim, 'GET', '/fapi/v1/time');
    expect(time.json).toEqual({ serverTime: clock - 3000 });
    // A client that corrects its clock with the measured offset is accepted.
    const offset = time.json.serverTime - clock;
    expect((await setLeverage(sim, 'BTCUSDT', 30, { now: clock + offset })).status).toBe(200);
    sim.setClockSkewMs(10_000); // server 10 s ahead
    expect((await setLeverage(sim, 'BTCUSDT', 31, { now: clock })).json).toEqual(OUTSIDE);
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(30);
  });

  it('serves unsigned ping and time without an API key', async () => {
    const ping = await raw(sim, 'GET', '/papi/v1/ping');
    expect([ping.status, ping.json]).toEqual([200, {}]);
    expect(ping.headers.get('content-type')).toBe('application/json');
    expect((await raw(sim, 'GET', '/fapi/v1/time')).json).toEqual({ serverTime: T0 });
  });

  it('answers unknown paths and wrong methods with a plain 404', async () => {
    for (const [method, path] of [['GET', '/papi/v1/nope'], ['GET', '/papi/v1/um/leverage'], ['POST', '/fapi/v1/time']] as const) {
      const res = await raw(sim, method, path);
      expect(res.status).toBe(404);
      expect(res.json).toBeUndefined();
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    }
  });

  it('rejects duplicated parameters (-1101) and malformed percent-encoding (-1100)', async () => {
    const c = cred('default');
    const dup = encode({ symbol: 'BTCUSDT', timestamp: clock }) + '&symbol=ETHUSDT';
    const res = await raw(sim, 'GET', `/papi/v1/um/symbolConfig?${dup}&signature=${sign(c, dup)}`, { apiKey: c.apiKey });
    expect(res.json.code).toBe(-1101);
    const bad = `symbol=%E0%A4%A&timestamp=${clock}`;
    const res2 = await raw(sim, 'GET', `/papi/v1/um/symbolConfig?${bad}&signature=${sign(c, bad)}`, { apiKey: c.apiKey });
    expect(res2.json.code).toBe(-1100);
  });
});
