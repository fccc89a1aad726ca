import { defaultSeed } from '../../../local/binance-simulator/index.ts';
import { creds, setLeverage, signed, useSimulator } from '../../support/simulator-client.ts';

describe('leverage and read endpoints', () => {
  const sim = useSimulator();

  it('changes leverage and answers like Binance', async () => {
    const res = await setLeverage(sim, 'BTCUSDT', 21);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.text).toBe('{"leverage":21,"maxNotionalValue":"70000000","symbol":"BTCUSDT"}');
    expect(sim.leverageOf('default', 'BTCUSDT')).toBe(21);
    expect(sim.leverageOf('desk-1', 'BTCUSDT')).toBe(10); // other accounts untouched
    expect((await setLeverage(sim, 'BTCUSDT', 125)).json).toEqual({ leverage: 125, maxNotionalValue: '50000', symbol: 'BTCUSDT' });
    expect((await setLeverage(sim, 'BTCUSDT_261225', 1)).json).toEqual({ leverage: 1, maxNotionalValue: '200000000', symbol: 'BTCUSDT_261225' });
  });

  it.each([
    [{ leverage: 5 }, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."],
    [{ symbol: 'BTCUSDT' }, "Mandatory parameter 'leverage' was not sent, was empty/null, or malformed."],
    [{ symbol: 'BTCUSDT', leverage: '' }, "Mandatory parameter 'leverage' was not sent, was empty/null, or malformed."],
  ])('rejects missing parameters %j with -1102', async (params, msg) => {
    const res = await signed(sim, { method: 'POST', path: '/papi/v1/um/leverage', params });
    expect([res.status, res.json]).toEqual([400, { code: -1102, msg }]);
  });

  it.each(['21.0', 'abc', '-5', '2e1', ' 21'])('rejects leverage %j with -1130', async (leverage) => {
    const res = await setLeverage(sim, 'BTCUSDT', leverage);
    expect([res.status, res.json]).toEqual([400, { code: -1130, msg: "Data sent for parameter 'leverage' is not valid." }]);
  });

  it('rejects an unknown symbol with -1121', async () => {
    const res = await setLeverage(sim, 'FOOUSDT', 5);
    expect([res.status, res.json]).toEqual([400, { code: -1121, msg: 'Invalid symbol.' }]);
  });

  it.each([
    ['BTCUSDT', 150],
    ['BTCUSDT', 126],
    ['ETHUSDT', 101],
    ['SOLUSDT', 76],
    ['BTCUSDT', 0],
  ])('rejects %s leverage %i above the symbol maximum (or below 1) with -4028', async (symbol, leverage) => {
    const res = await setLeverage(sim, symbol, leverage);
    expect([res.status, res.json]).toEqual([400, { code: -4028, msg: `Leverage ${leverage} is not valid` }]);
    expect(sim.leverageOf('default', symbol)).toBe(20);
  });

  it('rejects raising leverage when the position exceeds the cap at that leverage (-2027)', async () => {
    // desk-1 holds 20 BTC at mark 95000 = 1.9M notional; 100x allows 600k, 75x allows 3M.
    const over = await setLeverage(sim, 'BTCUSDT', 100, { account: 'desk-1' });
    expect([over.status, over.json]).toEqual([
      400,
      { code: -2027, msg: 'Exceeded the maximum allowable position at current leverage.' },
    ]);
    expect(sim.leverageOf('desk-1', 'BTCUSDT')).toBe(10);
    expect((await setLeverage(sim, 'BTCUSDT', 75, { account: 'desk-1' })).json.maxNotionalValue).toBe('3000000');
    sim.setPosition('desk-1', 'BTCUSDT', '0');
    expect((await setLeverage(sim, 'BTCUSDT', 125, { account: 'desk-1' })).status).toBe(200);
  });

  it('serves symbolConfig for one symbol (leverage as a number) and for all symbols', async () => {
    sim.setLeverage('default', 'ETHUSDT', 7);
    const one = await signed(sim, { path: '/papi/v1/um/symbolConfig', params: { symbol: 'ETHUSDT' } });
    expect(one.json).toEqual([
      { symbol: 'ETHUSDT', marginType: 'CROSSED', isAutoAddMargin: 'false', leverage: 7, maxNotionalValue: '5000000' },
    ]);
    const all = await signed(sim, { path: '/papi/v1/um/symbolConfig' });
    expect(all.json.length).toBeGreaterThanOrEqual(11);
    expect(all.headers.get('x-mbx-used-weight-1m')).toBe('10');
    const unknown = await signed(sim, { path: '/papi/v1/um/symbolConfig', params: { symbol: 'NOPE' } });
    expect(unknown.json.code).toBe(-1121);
  });

  it('serves positionRisk with string leverage and non-zero positions only when unfiltered', async () => {
    const all = await signed(sim, { path: '/papi/v1/um/positionRisk', account: 'desk-1' });
    expect(all.json.map((p: { symbol: string }) => p.symbol).sort()).toEqual(['BTCUSDT', 'SOLUSDT']);
    const btc = all.json.find((p: { symbol: string }) => p.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({
      symbol: 'BTCUSDT',
      positionAmt: '20.000',
      entryPrice: '92000.00',
      markPrice: '95000.00',
      unRealizedProfit: '60000',
      leverage: '10',
      positionSide: 'BOTH',
      notional: '1900000',
      maxNotionalValue: '230000000',
    });
    expect(typeof btc.liquidationPrice).toBe('string');
    const flat = await signed(sim, { path: '/papi/v1/um/positionRisk', params: { symbol: 'LTCUSDT' } });
    expect(flat.json).toMatchObject([{ symbol: 'LTCUSDT', positionAmt: '0', leverage: '20', notional: '0' }]);
    const short = await signed(sim, { path: '/papi/v1/um/positionRisk', params: { symbol: 'ETHUSDT' } });
    expect(short.json[0]).toMatchObject({ positionAmt: '-10.000', notional: '-33000', unRealizedProfit: '1000' });
  });

  it('serves leverageBracket (signed, weight 1)', async () => {
    const res = await signed(sim, { path: '/papi/v1/um/leverageBracket', params: { symbol: 'ETHUSDT' } });
    expect(res.json).toHaveLength(1);
    expect(res.json[0].symbol).toBe('ETHUSDT');
    expect(res.json[0].brackets[0]).toEqual({
      bracket: 1,
      initialLeverage: 100,
      notionalCap: 10000,
      notionalFloor: 0,
      maintMarginRatio: 0.005,
      cum: 0,
    });
    expect(res.headers.get('x-mbx-used-weight-1m')).toBe('1');
  });

  it('seeds >= 10 symbols with consistent brackets (caps rise as leverage falls, cum continuous)', async () => {
    const res = await signed(sim, { path: '/papi/v1/um/leverageBracket' });
    expect(res.json.length).toBeGreaterThanOrEqual(11);
    for (const { brackets } of res.json as { brackets: { initialLeverage: number; notionalCap: number; notionalFloor: number; maintMarginRatio: number; cum: number }[] }[]) {
      brackets.forEach((b, i) => {
        const prev = brackets[i - 1];
        if (prev === undefined) return expect(b.notionalFloor).toBe(0);
        expect(b.notionalFloor).toBe(prev.notionalCap);
        expect(b.initialLeverage).toBeLessThan(prev.initialLeverage);
        // Maintenance margin is continuous at the bracket floor.
        expect(b.notionalFloor * b.maintMarginRatio - b.cum).toBeCloseTo(b.notionalFloor * prev.maintMarginRatio - prev.cum, 2);
      });
    }
  });

  it('serves um/account positions with string leverage and maxNotional', async () => {
    const res = await signed(sim, { path: '/papi/v1/um/account', account: 'desk-2' });
    expect(res.headers.get('x-mbx-used-weight-1m')).toBe('5');
    const eth = res.json.positions.find((p: { symbol: string }) => p.symbol === 'ETHUSDT');
    expect(eth).toMatchObject({ leverage: '20', maxNotional: '2000000', positionAmt: '400.000', positionSide: 'BOTH' });
  });
});

describe('default seed', () => {
  const seed = defaultSeed();

  it('has the four documented accounts, one key type each, matching test-credentials.json', () => {
    expect(seed.accounts.map((a) => a.name)).toEqual(['default', 'desk-1', 'desk-2', 'desk-3']);
    for (const account of seed.accounts) {
      expect(account.apiKey).toMatch(/^LocalSimTestOnly[A-Za-z0-9]{48}$/);
      expect(creds[account.name]?.apiKey).toBe(account.apiKey);
    }
    expect(seed.accounts.filter((a) => a.apiSecret !== undefined).map((a) => a.name)).toEqual(['default', 'desk-1']);
    expect(Object.keys(creds).sort()).toEqual(['default', 'desk-1', 'desk-2', 'desk-3']);
  });

  it('has >= 10 symbols including a dated delivery contract, default leverage 20 and open positions', () => {
    expect(seed.symbols.length).toBeGreaterThanOrEqual(11);
    expect(seed.symbols.map((s) => s.symbol)).toContain('BTCUSDT_261225');
    expect(seed.defaultLeverage).toBe(20);
    expect(seed.weightLimitPerMinute).toBe(6000);
    expect(seed.accounts.every((a) => Object.keys(a.positions ?? {}).length > 0)).toBe(true);
  });

  it('returns a fresh copy each time', () => {
    const copy = defaultSeed();
    copy.accounts.pop();
    expect(defaultSeed().accounts).toHaveLength(4);
  });
});
