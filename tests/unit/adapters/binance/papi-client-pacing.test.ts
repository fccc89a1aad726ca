/**
 * BinancePapiClient's request-weight pacing against a loopback exchange that counts weight per
 * calendar minute of its own clock and answers 429 over the limit, as Binance does. The client's
 * clock and sleep are injected; the exchange's clock is the client's plus a fixed offset.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BinancePapiClient } from '../../../../functions/adapters/binance/papi-client.ts';
import { RateLimitedError } from '../../../../functions/adapters/binance/responses.ts';
import { WINDOW_START_GUARD_MS } from '../../../../functions/adapters/binance/weight-pacer.ts';
import { RetryableError } from '../../../../functions/domain/errors.ts';
import type { ApiCredentials } from '../../../../functions/domain/ports.ts';
import { fixedDeadline, rejectionOf } from '../../../support/fakes.ts';

const MINUTE = 60_000;
const LOCAL_T0 = 1_000_000_000_000;
/** The exchange's clock runs 20 s into a calendar minute when the local clock reads LOCAL_T0. */
const OFFSET = 29_400_000 * MINUTE + 20_000 - LOCAL_T0;
const TO_NEXT_WINDOW = 40_000 + WINDOW_START_GUARD_MS;
const HMAC: ApiCredentials = { apiKey: 'api-key-1', apiSecret: 'secret' };
const TIME = '/fapi/v1/time';
const LEVERAGE = '/papi/v1/um/leverage';
const SYMBOL_CONFIG = '/papi/v1/um/symbolConfig';
const WEIGHTS: Record<string, number> = { [LEVERAGE]: 1, [SYMBOL_CONFIG]: 5 };

interface Arrival {
  path: string;
  /** The exchange's calendar minute at arrival. */
  window: number;
  status: number;
}

class Clock {
  now = LOCAL_T0;
  readonly sleeps: number[] = [];
  private readonly gated: { until: number; wake: () => void }[] = [];
  /** Gated: a sleep ends only when the test moves the clock past it (`advanceTo`). */
  constructor(private readonly gatedSleep = false) {}

  sleep = (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    if (!this.gatedSleep) {
      this.now += ms;
      return Promise.resolve();
    }
    return new Promise((wake) => this.gated.push({ until: this.now + ms, wake }));
  };

  get sleeping(): number {
    return this.gated.length;
  }

  advanceTo(time: number): void {
    this.now = Math.max(this.now, time);
    for (const sleeper of this.gated.splice(0).filter((s) => s.until <= this.now)) sleeper.wake();
  }
}

/** A loopback exchange: fapi time (its own weight pool, ignored here) and weighted papi endpoints. */
class MeteredExchange {
  readonly arrivals: Arrival[] = [];
  /** Weight per calendar minute of the exchange's clock, including what "other containers" used. */
  readonly used = new Map<number, number>();
  /** Used weight the fapi time endpoint reports (another host's pool). */
  timeEndpointWeight = 0;
  /** Hold papi answers until `answerHeld`, to keep requests in flight. */
  holding = false;
  /** Destroy the socket of the next papi request instead of answering. */
  resetNext = false;
  private held: (() => void)[] = [];
  private readonly server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => this.answer(req, res));
  });

  constructor(
    private readonly clock: Clock,
    readonly limit: number,
  ) {}

  static async start(clock: Clock, limit: number): Promise<MeteredExchange> {
    const exchange = new MeteredExchange(clock, limit);
    await new Promise<void>((resolve) => exchange.server.listen(0, '127.0.0.1', resolve));
    return exchange;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get serverTime(): number {
    return this.clock.now + OFFSET;
  }

  get window(): number {
    return Math.floor(this.serverTime / MINUTE);
  }

  /** Weight other clients of the IP already used in the current minute. */
  preload(weight: number): void {
    this.used.set(this.window, weight);
  }

  papi(): Arrival[] {
    return this.arrivals.filter((a) => a.path !== TIME);
  }

  maxUsed(): number {
    return Math.max(0, ...this.used.values());
  }

  answerHeld(): void {
    for (const answer of this.held.splice(0)) answer();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path === TIME) {
      this.arrivals.push({ path, window: this.window, status: 200 });
      res.writeHead(200, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': String(this.timeEndpointWeight) });
      res.end(JSON.stringify({ serverTime: this.serverTime }));
      return;
    }
    if (this.resetNext) {
      this.resetNext = false;
      req.socket.destroy();
      return;
    }
    const window = this.window;
    const used = this.used.get(window) ?? 0;
    const weight = WEIGHTS[path] ?? 1;
    const limited = used + weight > this.limit;
    if (!limited) this.used.set(window, used + weight);
    this.arrivals.push({ path, window, status: limited ? 429 : 200 });
    const headers = { 'content-type': 'application/json', 'x-mbx-used-weight-1m': String(this.used.get(window) ?? 0) };
    const send = () => {
      if (limited) {
        res.writeHead(429, { ...headers, 'retry-after': String(Math.ceil((MINUTE - (this.serverTime % MINUTE)) / 1000)) });
        res.end(JSON.stringify({ code: -1003, msg: 'Too many requests.' }));
        return;
      }
      res.writeHead(200, headers);
      const symbol = new URLSearchParams((req.url ?? '').split('?')[1]).get('symbol');
      res.end(
        JSON.stringify(
          path === LEVERAGE ? { symbol, leverage: 5, maxNotionalValue: '1000000' } : [{ symbol, leverage: 5, maxNotionalValue: '1000000' }],
        ),
      );
    };
    if (this.holding) this.held.push(send);
    else send();
  }
}

/** The X-MBX-USED-WEIGHT-1M of the latest response, as the client reports it to its observer. */
let lastUsedWeight: number | undefined;
const observer = { request: (_path: string, _latencyMs: number, weight: number | undefined) => { lastUsedWeight = weight ?? lastUsedWeight; }, clockOffset() {}, retry() {} };

function clientFor(exchange: MeteredExchange, clock: Clock, weightLimitPerMinute = exchange.limit) {
  return new BinancePapiClient({
    observer,
    papiUrl: exchange.url,
    timeUrl: `${exchange.url}${TIME}`,
    recvWindowMs: 5000,
    requestTimeoutMs: 1000,
    weightLimitPerMinute,
    now: () => clock.now,
    sleep: clock.sleep,
  });
}

/** Polls (in real time) until `condition` holds; the HTTP round trips need the event loop. */
async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const roomy = fixedDeadline(120_000);
let exchange: MeteredExchange | undefined;
afterEach(() => exchange?.close());

test('under budget: the request is sent at once', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5000);
  const papi = clientFor(exchange, clock);

  await expect(papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy)).resolves.toEqual({ leverage: 5, maxNotionalValue: '1000000' });
  await papi.changeLeverage(HMAC, 'ETHUSDT', 5, roomy);
  expect(clock.sleeps).toEqual([]);
  expect(exchange.papi().map((a) => a.status)).toEqual([200, 200]);
});

test('at the budget: waits for the next minute of server time, then sends', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5399); // other containers; our first change brings the minute to 5400 = 90 %
  const papi = clientFor(exchange, clock);
  const firstWindow = exchange.window;

  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy);
  expect(clock.sleeps).toEqual([]);
  await papi.changeLeverage(HMAC, 'ETHUSDT', 5, roomy);

  // 20 s into the server's minute: 40 s to its end (plus the guard), measured on the server clock.
  expect(clock.sleeps).toEqual([TO_NEXT_WINDOW]);
  expect(exchange.papi()).toEqual([
    { path: LEVERAGE, window: firstWindow, status: 200 },
    { path: LEVERAGE, window: firstWindow + 1, status: 200 },
  ]);
  expect(lastUsedWeight).toBe(1); // the fresh minute's reading
});

test('a 5-weight read waits while a 1-weight change still fits', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5396);
  const papi = clientFor(exchange, clock);

  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy); // 5397
  await papi.readLeverage(HMAC, 'BTCUSDT', roomy); // 5397 + 5 > 5400: next minute
  expect(clock.sleeps).toEqual([TO_NEXT_WINDOW]);
  expect(exchange.papi().map((a) => [a.path, a.status])).toEqual([
    [LEVERAGE, 200],
    [SYMBOL_CONFIG, 200],
  ]);
});

test('a wait the invocation cannot afford: RateLimitedError WEIGHT_BUDGET, nothing sent', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5399);
  const papi = clientFor(exchange, clock);
  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy);

  // 30 s left < 40.25 s wait + 1 s request timeout + 0.5 s reserve.
  const error = await rejectionOf<RateLimitedError>(papi.changeLeverage(HMAC, 'ETHUSDT', 5, fixedDeadline(30_000)));
  expect(error).toBeInstanceOf(RateLimitedError);
  expect(error).toBeInstanceOf(RetryableError);
  expect({ code: error.code, retryAfterMs: error.retryAfterMs, banned: error.banned, retryable: error.retryable }).toEqual({
    code: 'WEIGHT_BUDGET',
    retryAfterMs: TO_NEXT_WINDOW,
    banned: false,
    retryable: true,
  });
  expect(error.message).toMatch(/weight budget of 5400 \(of 6000 per minute\) is used up; the next window starts in 41 s/);
  expect(clock.sleeps).toEqual([]);
  expect(exchange.papi()).toHaveLength(1);

  // Just enough time for the wait: it waits instead.
  await papi.changeLeverage(HMAC, 'ETHUSDT', 5, fixedDeadline(TO_NEXT_WINDOW + 1500));
  expect(clock.sleeps).toEqual([TO_NEXT_WINDOW]);
  expect(exchange.papi().map((a) => a.status)).toEqual([200, 200]);
});

test('20 concurrent calls: requests in flight are reserved, so the minute never overshoots the budget', async () => {
  const clock = new Clock(true);
  exchange = await MeteredExchange.start(clock, 12); // budget 10
  const papi = clientFor(exchange, clock);
  const firstWindow = exchange.window;
  exchange.holding = true;

  const calls = Array.from({ length: 20 }, (_, i) => papi.changeLeverage(HMAC, `SYM${i}USDT`, 5, roomy));
  // Nothing has answered yet, so no reading says the minute is full: only the reservations do.
  await until(() => exchange!.papi().length === 10 && clock.sleeping === 10);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(exchange.papi()).toHaveLength(10);
  expect(clock.sleeps).toEqual(Array(10).fill(TO_NEXT_WINDOW));

  exchange.holding = false;
  exchange.answerHeld();
  await until(() => lastUsedWeight === 10);
  clock.advanceTo(LOCAL_T0 + TO_NEXT_WINDOW);
  await expect(Promise.all(calls)).resolves.toHaveLength(20);

  const arrivals = exchange.papi();
  expect(arrivals.every((a) => a.status === 200)).toBe(true);
  expect(arrivals.filter((a) => a.window === firstWindow)).toHaveLength(10);
  expect(arrivals.filter((a) => a.window === firstWindow + 1)).toHaveLength(10);
  expect(exchange.maxUsed()).toBeLessThanOrEqual(10);
});

test('window rollover: a full minute does not hold back requests in the next one', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5399);
  const papi = clientFor(exchange, clock);
  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy);
  expect(lastUsedWeight).toBe(5400);

  clock.now += TO_NEXT_WINDOW; // time passes on its own (another record, a quiet spell)
  await papi.changeLeverage(HMAC, 'ETHUSDT', 5, roomy);
  await papi.readLeverage(HMAC, 'ETHUSDT', roomy);
  expect(clock.sleeps).toEqual([]);
  expect(exchange.papi().map((a) => a.status)).toEqual([200, 200, 200]);
});

test('the fapi time endpoint reports another pool: its used weight does not pace papi requests', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.timeEndpointWeight = 5999;
  const papi = clientFor(exchange, clock);

  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy);
  expect(clock.sleeps).toEqual([]);
  expect(exchange.arrivals.map((a) => a.path)).toEqual([TIME, LEVERAGE]);
});

test('a request lost in transport gives its reserved weight back', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6); // budget 5: one symbolConfig read at a time
  const papi = clientFor(exchange, clock);
  exchange.resetNext = true;

  await expect(papi.readLeverage(HMAC, 'BTCUSDT', roomy)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  await expect(papi.readLeverage(HMAC, 'BTCUSDT', roomy)).resolves.toEqual({ leverage: 5, maxNotionalValue: '1000000' });
  expect(clock.sleeps).toEqual([]);
});

test('the default limit is Binance\'s 6000 per minute', async () => {
  const clock = new Clock();
  exchange = await MeteredExchange.start(clock, 6000);
  exchange.preload(5399);
  const papi = new BinancePapiClient({
    papiUrl: exchange.url,
    timeUrl: `${exchange.url}${TIME}`,
    recvWindowMs: 5000,
    requestTimeoutMs: 1000,
    now: () => clock.now,
    sleep: clock.sleep,
  });
  await papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy);
  await papi.changeLeverage(HMAC, 'ETHUSDT', 5, roomy);
  expect(clock.sleeps).toEqual([TO_NEXT_WINDOW]);
});
