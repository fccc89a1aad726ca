/**
 * BinancePapiClient against a scripted loopback server: what goes on the wire, and how each
 * answer (or silence) of the exchange is handled. The client's clock and sleep are injected, so
 * no test waits for real except the two timeout cases (200 ms each).
 */
import crypto from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BinancePapiClient, CLOCK_SYNC_BACKOFF_MS, type PapiClientOptions } from '../../../../functions/adapters/binance/papi-client.ts';
import { ClockSkewError, RateLimitedError } from '../../../../functions/adapters/binance/responses.ts';
import { AuthenticationError, ExecutionUnknownError, type GuardError, RetryableError } from '../../../../functions/domain/errors.ts';
import type { ApiCredentials } from '../../../../functions/domain/ports.ts';
import { fixedDeadline, rejectionOf, settleUntil } from '../../../support/fakes.ts';

const LOCAL_T0 = 1_000_000_000_000; // 2001: the local clock is 24 years behind the exchange
const SERVER_TIME = 1_764_064_800_000;
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const HMAC: ApiCredentials = { apiKey: 'api-key-1', apiSecret: SECRET };
const TIME = '/fapi/v1/time';
const LEVERAGE = '/papi/v1/um/leverage';
const SYMBOL_CONFIG = '/papi/v1/um/symbolConfig';

interface Seen {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Reply = { status?: number; body?: unknown; headers?: Record<string, string> } | 'hang';

const binanceError = (status: number, code: number, msg: string, headers: Record<string, string> = {}): Reply => ({
  status,
  body: { code, msg },
  headers,
});

/** A loopback stand-in for papi + fapi time, answering from per-path scripts, then defaults. */
class ScriptedBinance {
  readonly requests: Seen[] = [];
  connections = 0;
  serverTime = SERVER_TIME;
  /** Runs while the time request is being answered (to move the client's clock mid-flight). */
  duringTimeRequest = () => {};
  private readonly scripts = new Map<string, Reply[]>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const [path = '', query = ''] = (req.url ?? '').split('?');
      this.requests.push({ method: req.method ?? '', path, query, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = this.scripts.get(path)?.shift() ?? this.defaultReply(path, new URLSearchParams(query));
      if (reply === 'hang') return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });

  static async start(): Promise<ScriptedBinance> {
    const scripted = new ScriptedBinance();
    scripted.server.on('connection', () => scripted.connections++);
    await new Promise<void>((resolve) => scripted.server.listen(0, '127.0.0.1', resolve));
    return scripted;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, ...replies: Reply[]): this {
    this.scripts.set(path, [...(this.scripts.get(path) ?? []), ...replies]);
    return this;
  }

  /** [method path] of every request, in order. */
  log(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  posts(): Seen[] {
    return this.requests.filter((r) => r.path === LEVERAGE);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private defaultReply(path: string, params: URLSearchParams): Reply {
    if (path === TIME) {
      this.duringTimeRequest();
      return { body: { serverTime: this.serverTime } };
    }
    const symbol = params.get('symbol');
    if (path === LEVERAGE) return { body: { symbol, leverage: Number(params.get('leverage')), maxNotionalValue: '1000000' } };
    if (path === SYMBOL_CONFIG) {
      return { body: [{ symbol, marginType: 'CROSSED', isAutoAddMargin: 'false', leverage: 21, maxNotionalValue: '1000000' }] };
    }
    return { status: 404, body: { code: -5000, msg: 'Path not found' } };
  }
}

let server: ScriptedBinance;
beforeEach(async () => {
  server = await ScriptedBinance.start();
});
afterEach(() => server.close());

function clientFor(target: { url: string }, options: Partial<PapiClientOptions> = {}) {
  const clock = { now: LOCAL_T0 };
  const sleeps: number[] = [];
  const papi = new BinancePapiClient({
    papiUrl: target.url,
    timeUrl: `${target.url}${TIME}`,
    recvWindowMs: 5000,
    requestTimeoutMs: 1000,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    ...options,
  });
  return { papi, clock, sleeps };
}

const roomy = fixedDeadline(60_000);

const describeError = (error: GuardError) => ({
  type: error.constructor.name,
  code: error.code,
  message: error.message,
});

function paramsOf(seen: Seen): [string, string][] {
  return [...new URLSearchParams(seen.query)];
}

describe('the signed leverage request', () => {
  test('POST with symbol, leverage, recvWindow, timestamp, then the signature over exactly that query', async () => {
    const { papi } = clientFor(server);
    await expect(papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });

    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`]);
    const [post] = server.posts();
    const unsigned = `symbol=BTCUSDT&leverage=21&recvWindow=5000&timestamp=${SERVER_TIME}`;
    const signature = crypto.createHmac('sha256', SECRET).update(unsigned).digest('hex');
    expect(post?.query).toBe(`${unsigned}&signature=${signature}`);
    expect(post?.headers['x-mbx-apikey']).toBe('api-key-1');
    expect(post?.body).toBe('');
    expect(server.requests[0]?.headers['x-mbx-apikey']).toBeUndefined(); // the time call is unsigned
  });

  test('an Ed25519 key signs the same query; the percent-encoded signature verifies', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const { papi } = clientFor(server);
    await papi.changeLeverage({ apiKey: 'ed-key', privateKey }, '1000PEPEUSDT', 3, roomy);

    const query = server.posts()[0]?.query ?? '';
    const [unsigned = '', encoded = ''] = query.split('&signature=');
    expect(unsigned).toBe(`symbol=1000PEPEUSDT&leverage=3&recvWindow=5000&timestamp=${SERVER_TIME}`);
    expect(encoded).not.toMatch(/[+/=]/);
    expect(crypto.verify(null, Buffer.from(unsigned), publicKey, Buffer.from(decodeURIComponent(encoded), 'base64'))).toBe(true);
  });

  test('the clock offset includes half the round trip, and the timestamp stays an integer', async () => {
    const { papi, clock } = clientFor(server);
    server.serverTime = SERVER_TIME + 0.4;
    server.duringTimeRequest = () => {
      clock.now += 100; // sent at LOCAL_T0, answered at LOCAL_T0 + 100
    };
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    // offset = serverTime - (sent + received) / 2; signed at LOCAL_T0 + 100
    expect(new URLSearchParams(server.posts()[0]?.query).get('timestamp')).toBe(String(SERVER_TIME + 50));
  });

  test('the offset is measured once and reused by later requests', async () => {
    const { papi, clock } = clientFor(server);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    clock.now += 7000;
    await papi.readLeverage(HMAC, 'BTCUSDT', roomy);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`, `GET ${SYMBOL_CONFIG}`]);
    expect(new URLSearchParams(server.requests[2]?.query).get('timestamp')).toBe(String(SERVER_TIME + 7000));
  });

  test('concurrent first requests share one clock measurement', async () => {
    const { papi } = clientFor(server);
    await Promise.all([papi.changeLeverage(HMAC, 'BTCUSDT', 5, roomy), papi.changeLeverage(HMAC, 'ETHUSDT', 6, roomy)]);
    expect(server.log().filter((line) => line === `GET ${TIME}`)).toHaveLength(1);
    expect(server.posts()).toHaveLength(2);
  });

  test('when the time endpoint fails, the request is signed with the local clock', async () => {
    server.script(TIME, { status: 500, body: 'oops' });
    const { papi } = clientFor(server);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    expect(new URLSearchParams(server.posts()[0]?.query).get('timestamp')).toBe(String(LOCAL_T0));
  });

  test('the observer hears each request with its latency and used weight, and the measured clock offset', async () => {
    server.script(LEVERAGE, { body: { leverage: 21, maxNotionalValue: 1000000 }, headers: { 'x-mbx-used-weight-1m': '42' } });
    const heard: unknown[][] = [];
    const observer = {
      request: (...args: unknown[]) => heard.push(['request', ...args]),
      clockOffset: (...args: unknown[]) => heard.push(['clockOffset', ...args]),
      retry: (...args: unknown[]) => heard.push(['retry', ...args]),
    };
    const { papi } = clientFor(server, { observer });
    await expect(papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(heard).toEqual([
      ['request', TIME, 0, undefined],
      ['clockOffset', expect.any(Number)],
      ['request', LEVERAGE, 0, 42],
    ]);
  });
});

describe('the time endpoint down or hanging: one failed measurement per back-off period', () => {
  const timeRequests = () => server.log().filter((line) => line === `GET ${TIME}`).length;
  const timestamps = () => server.posts().map((p) => Number(new URLSearchParams(p.query).get('timestamp')));

  test('hanging: one timeout, then every change of the next 30 s signs with the local clock at once', async () => {
    server.script(TIME, 'hang');
    const { papi, clock } = clientFor(server, { requestTimeoutMs: 200 });
    for (let change = 0; change < 5; change++) {
      await papi.changeLeverage(HMAC, 'BTCUSDT', 10 + change, roomy);
      clock.now += 5000;
    }
    expect(timeRequests()).toBe(1);
    expect(timestamps()).toEqual([0, 1, 2, 3, 4].map((n) => LOCAL_T0 + n * 5000));
  });

  test('down: measured again once per back-off period, and the measurement is used once it answers', async () => {
    server.script(TIME, { status: 503, body: 'down' }, { status: 503, body: 'down' });
    const { papi, clock } = clientFor(server);
    const changeAt = async (offsetMs: number) => {
      clock.now = LOCAL_T0 + offsetMs;
      await papi.changeLeverage(HMAC, 'BTCUSDT', 7, roomy);
    };
    // First period: one failed measurement for three changes.
    await changeAt(0);
    await changeAt(10_000);
    await changeAt(CLOCK_SYNC_BACKOFF_MS - 1);
    expect(timeRequests()).toBe(1);
    // Second period: measured again, still down.
    await changeAt(CLOCK_SYNC_BACKOFF_MS);
    await changeAt(CLOCK_SYNC_BACKOFF_MS + 20_000);
    expect(timeRequests()).toBe(2);
    // Third period: it answers, and from then on the exchange's clock signs.
    await changeAt(2 * CLOCK_SYNC_BACKOFF_MS);
    await changeAt(2 * CLOCK_SYNC_BACKOFF_MS + 1);
    expect(timeRequests()).toBe(3);
    expect(timestamps().slice(-2)).toEqual([SERVER_TIME, SERVER_TIME + 1]);
    expect(timestamps().slice(0, 5)).toEqual([0, 10_000, CLOCK_SYNC_BACKOFF_MS - 1, CLOCK_SYNC_BACKOFF_MS, CLOCK_SYNC_BACKOFF_MS + 20_000].map((t) => LOCAL_T0 + t));
  });

  test('a -1021 within the back-off period does not measure again: the request is handed back', async () => {
    server.script(TIME, { status: 503, body: 'down' });
    server.script(LEVERAGE, { status: 200, body: { leverage: 3, maxNotionalValue: '1' } }, binanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'));
    const { papi, clock } = clientFor(server);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 3, roomy);
    clock.now += 1000;
    const error = await rejectionOf<GuardError>(papi.changeLeverage(HMAC, 'BTCUSDT', 4, roomy));
    expect([error.constructor.name, error.code]).toEqual(['ClockSkewError', -1021]);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`, `POST ${LEVERAGE}`]);
  });

  test('a failed re-measurement after -1021 keeps the last known offset; the next -1021 re-measures only after the back-off', async () => {
    const skew = () => binanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    server.script(TIME, { body: { serverTime: SERVER_TIME } }, { status: 503, body: 'down' });
    server.script(LEVERAGE, { body: { leverage: 3, maxNotionalValue: '1' } }, skew(), skew(), skew());
    const { papi, clock } = clientFor(server);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 3, roomy); // offset measured
    clock.now += 1000;
    await rejectionOf(papi.changeLeverage(HMAC, 'BTCUSDT', 4, roomy)); // -1021, re-measurement fails
    clock.now += 1000;
    const error = await rejectionOf<GuardError>(papi.changeLeverage(HMAC, 'BTCUSDT', 4, roomy)); // -1021 within the back-off
    expect([error.constructor.name, error.code]).toEqual(['ClockSkewError', -1021]);
    clock.now += CLOCK_SYNC_BACKOFF_MS;
    await papi.changeLeverage(HMAC, 'BTCUSDT', 4, roomy); // -1021 after it: re-measured, retried
    expect(server.log()).toEqual([
      `GET ${TIME}`, `POST ${LEVERAGE}`,
      `POST ${LEVERAGE}`, `GET ${TIME}`,
      `POST ${LEVERAGE}`,
      `POST ${LEVERAGE}`, `GET ${TIME}`, `POST ${LEVERAGE}`,
    ]);
    // Signed with the last measured offset all along.
    expect(timestamps().slice(0, 3)).toEqual([SERVER_TIME, SERVER_TIME + 1000, SERVER_TIME + 2000]);
  });

  test('too little time to measure is not a failed endpoint: no back-off', async () => {
    const { papi } = clientFor(server);
    await rejectionOf(papi.changeLeverage(HMAC, 'BTCUSDT', 3, fixedDeadline(600)));
    await papi.changeLeverage(HMAC, 'BTCUSDT', 3, roomy);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`]);
  });

  test('prepare() starts the measurement before any request, and the first request uses it', async () => {
    const { papi } = clientFor(server);
    papi.prepare(roomy);
    await settleUntil(() => server.requests.length === 1);
    expect(server.log()).toEqual([`GET ${TIME}`]);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`]);
    expect(timestamps()).toEqual([SERVER_TIME]);
    papi.prepare(roomy); // known: nothing to do
    await papi.changeLeverage(HMAC, 'BTCUSDT', 22, roomy);
    expect(timeRequests()).toBe(1);
  });

  test('prepare() against a dead endpoint neither throws nor rejects, and starts the back-off', async () => {
    server.script(TIME, { status: 503, body: 'down' });
    const { papi } = clientFor(server);
    expect(() => papi.prepare(roomy)).not.toThrow();
    await settleUntil(() => server.requests.length === 1);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`]);
  });
});

describe('-1021 (timestamp outside recvWindow)', () => {
  const skew = () => binanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');

  test('re-measures the clock and retries once', async () => {
    server.script(LEVERAGE, skew());
    const { papi } = clientFor(server);
    let measurements = 0;
    server.duringTimeRequest = () => {
      measurements++;
      server.serverTime = SERVER_TIME + measurements * 3000;
    };
    await expect(papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`, `GET ${TIME}`, `POST ${LEVERAGE}`]);
    expect(server.posts().map((p) => new URLSearchParams(p.query).get('timestamp'))).toEqual([
      String(SERVER_TIME + 3000),
      String(SERVER_TIME + 6000),
    ]);
  });

  test('a second -1021 is thrown as ClockSkewError, with no third attempt', async () => {
    server.script(LEVERAGE, skew(), skew());
    const { papi } = clientFor(server);
    const error = await rejectionOf<GuardError>(papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect(error).toBeInstanceOf(ClockSkewError);
    expect(describeError(error)).toEqual({
      type: 'ClockSkewError',
      code: -1021,
      message: 'Binance -1021: Timestamp for this request is outside of the recvWindow.',
    });
    expect(server.posts()).toHaveLength(2);
  });
});

describe('429 (rate limited)', () => {
  const tooMany = (retryAfter?: string) =>
    binanceError(429, -1003, 'Too many requests.', retryAfter === undefined ? {} : { 'retry-after': retryAfter });

  test.each([
    ['0', []],
    ['1', [1000]],
  ])('Retry-After %s s is waited out within the deadline, then the request is resent', async (retryAfter, sleeps) => {
    server.script(LEVERAGE, tooMany(retryAfter));
    const client = clientFor(server);
    await expect(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(client.sleeps).toEqual(sleeps);
    expect(server.posts()).toHaveLength(2);
  });

  test('a second 429 for the same request is handed back', async () => {
    server.script(LEVERAGE, tooMany('1'), tooMany('2'));
    const client = clientFor(server);
    const error = await rejectionOf<RateLimitedError>(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect([error.constructor.name, error.code, error.retryAfterMs, error.banned]).toEqual(['RateLimitedError', -1003, 2000, false]);
    expect(server.posts()).toHaveLength(2);
  });

  test('when the deadline cannot hold the wait, it is handed back and nothing more is sent', async () => {
    server.script(LEVERAGE, tooMany('1'));
    const client = clientFor(server);
    const short = fixedDeadline(2000); // 2000 - 1000 wait - 1000 request timeout - 500 reserve < 0
    const error = await rejectionOf<RateLimitedError>(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, short));
    expect([error.code, error.message, error.retryAfterMs, error.banned]).toEqual([-1003, 'Binance -1003: Too many requests.', 1000, false]);
    expect(client.sleeps).toEqual([]);
    expect(server.posts()).toHaveLength(1);

    // The quiet period holds for the next request too, when it cannot be waited out either.
    const next = await rejectionOf<RateLimitedError>(client.papi.readLeverage(HMAC, 'BTCUSDT', short));
    expect([next.code, next.message, next.banned]).toEqual([-1003, 'rate limited by Binance for another 1 s', false]);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`]);
  });

  test('a later request with time to spare waits out the rest of the quiet period', async () => {
    server.script(LEVERAGE, tooMany('10'));
    const client = clientFor(server);
    await rejectionOf<GuardError>(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, fixedDeadline(5000)));
    client.clock.now += 4000;
    await expect(client.papi.readLeverage(HMAC, 'BTCUSDT', roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(client.sleeps).toEqual([6000]);
  });

  test('a 429 after a -1021 resync is still waited out once', async () => {
    server.script(LEVERAGE, binanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'), tooMany('1'));
    const client = clientFor(server);
    await expect(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(client.sleeps).toEqual([1000]);
    expect(server.posts()).toHaveLength(3);
  });
});

describe('418 (IP banned)', () => {
  test('the ban is reported, then nothing is sent until it ends', async () => {
    server.script(LEVERAGE, binanceError(418, -1003, 'Way too many requests; IP banned until 1764064920000.', { 'retry-after': '120' }));
    const client = clientFor(server);
    const banned = await rejectionOf<RateLimitedError>(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect([banned.constructor.name, banned.code, banned.retryAfterMs, banned.banned]).toEqual(['RateLimitedError', -1003, 120_000, true]);
    const sent = server.requests.length;

    for (const call of [() => client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy), () => client.papi.readLeverage(HMAC, 'BTCUSDT', roomy)]) {
      const next = await rejectionOf<RateLimitedError>(call());
      expect([next.constructor.name, next.code, next.message, next.banned]).toEqual([
        'RateLimitedError',
        'IP_BANNED',
        'IP banned by Binance for another 120 s; nothing is sent until the ban ends',
        true,
      ]);
    }
    expect(server.requests).toHaveLength(sent);
    expect(client.sleeps).toEqual([]);

    client.clock.now += 120_000;
    await expect(client.papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy)).resolves.toEqual({ leverage: 21, maxNotionalValue: '1000000' });
    expect(server.posts()).toHaveLength(2);
  });
});

describe('what the exchange answered, by request', () => {
  test.each([
    ['a 200 that is not JSON', { body: 'OK' }, 'HTTP 200 with a body that is not JSON'],
    ['a 200 without leverage', { body: {} }, 'leverage change answered without leverage and maxNotionalValue'],
    ['a 200 with a fractional leverage', { body: { leverage: 2.5, maxNotionalValue: '1' } }, 'leverage change answered without leverage and maxNotionalValue'],
    ['a 200 without maxNotionalValue', { body: { leverage: 21 } }, 'leverage change answered without leverage and maxNotionalValue'],
  ])('POST answered with %s: ExecutionUnknownError MALFORMED_RESPONSE', async (_name, reply, message) => {
    server.script(LEVERAGE, reply);
    const error = await rejectionOf<GuardError>(clientFor(server).papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect(error).toBeInstanceOf(ExecutionUnknownError);
    expect(describeError(error)).toEqual({ type: 'ExecutionUnknownError', code: 'MALFORMED_RESPONSE', message });
    expect(server.posts()).toHaveLength(1);
  });

  test.each([
    ['503 Unknown error', 'ExecutionUnknownError', -1000, binanceError(503, -1000, 'Unknown error, please check your request or try again later.')],
    ['-1121', 'PermanentError', -1121, binanceError(400, -1121, 'Invalid symbol.')],
    ['503 Service Unavailable.', 'RetryableError', 'HTTP_503', { status: 503, body: 'Service Unavailable.' }],
    ['401 -2015 (key, IP or permissions refused)', 'AuthenticationError', -2015, binanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.')],
    ['401 -2014 (key format invalid)', 'AuthenticationError', -2014, binanceError(401, -2014, 'API-key format invalid.')],
    ['400 -1022 (signature invalid)', 'AuthenticationError', -1022, binanceError(400, -1022, 'Signature for this request is not valid.')],
  ])('POST answered with %s is thrown as %s, never resent', async (_name, type, code, reply) => {
    server.script(LEVERAGE, reply);
    const error = await rejectionOf<GuardError>(clientFor(server).papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect([error.constructor.name, error.code]).toEqual([type, code]);
    expect(server.posts()).toHaveLength(1);
  });

  test.each([
    ['-2015', binanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.')],
    ['-2014', binanceError(401, -2014, 'API-key format invalid.')],
    ['-1022', binanceError(400, -1022, 'Signature for this request is not valid.')],
  ])('readLeverage answered with %s: AuthenticationError, retryable, sent once', async (code, reply) => {
    server.script(SYMBOL_CONFIG, reply);
    const error = await rejectionOf<GuardError>(clientFor(server).papi.readLeverage(HMAC, 'BTCUSDT', roomy));
    expect([error instanceof AuthenticationError, error.retryable, error.code]).toEqual([true, true, Number(code)]);
    expect(server.requests.filter((r) => r.path === SYMBOL_CONFIG)).toHaveLength(1);
  });

  test('readLeverage sends a signed GET symbolConfig and picks its symbol', async () => {
    server.script(SYMBOL_CONFIG, {
      body: [
        { symbol: 'ETHUSDT', marginType: 'CROSSED', isAutoAddMargin: 'false', leverage: 3, maxNotionalValue: '5' },
        { symbol: 'BTCUSDT', marginType: 'CROSSED', isAutoAddMargin: 'false', leverage: 20, maxNotionalValue: '25000000' },
      ],
    });
    const { papi } = clientFor(server);
    await expect(papi.readLeverage(HMAC, 'BTCUSDT', roomy)).resolves.toEqual({ leverage: 20, maxNotionalValue: '25000000' });
    const [get] = server.requests.filter((r) => r.path === SYMBOL_CONFIG);
    expect(get?.method).toBe('GET');
    expect(paramsOf(get!).map(([name]) => name)).toEqual(['symbol', 'recvWindow', 'timestamp', 'signature']);
    expect(get?.headers['x-mbx-apikey']).toBe('api-key-1');
  });

  test.each([
    ['an empty list', []],
    ['only another symbol', [{ symbol: 'ETHUSDT', leverage: 3, maxNotionalValue: '5' }]],
    ['leverage as a string', [{ symbol: 'BTCUSDT', leverage: '20', maxNotionalValue: '5' }]],
    ['an object, not a list', { symbol: 'BTCUSDT', leverage: 20, maxNotionalValue: '5' }],
  ])('readLeverage answered with %s: RetryableError MALFORMED_RESPONSE', async (_name, body) => {
    server.script(SYMBOL_CONFIG, { body });
    const error = await rejectionOf<GuardError>(clientFor(server).papi.readLeverage(HMAC, 'BTCUSDT', roomy));
    expect(describeError(error)).toEqual({
      type: 'RetryableError',
      code: 'MALFORMED_RESPONSE',
      message: 'symbolConfig did not report leverage for BTCUSDT',
    });
  });
});

describe('transport failures', () => {
  test('no answer to the POST: ExecutionUnknownError TIMEOUT (it may have executed)', async () => {
    server.script(LEVERAGE, 'hang');
    const error = await rejectionOf<GuardError>(clientFor(server, { requestTimeoutMs: 200 }).papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect(error).toBeInstanceOf(ExecutionUnknownError);
    expect(describeError(error)).toEqual({ type: 'ExecutionUnknownError', code: 'TIMEOUT', message: 'no response within 200 ms' });
  });

  test('no answer to the GET: a plain RetryableError TIMEOUT (nothing changed)', async () => {
    server.script(SYMBOL_CONFIG, 'hang');
    const error = await rejectionOf<GuardError>(clientFor(server, { requestTimeoutMs: 200 }).papi.readLeverage(HMAC, 'BTCUSDT', roomy));
    expect(describeError(error)).toEqual({ type: 'RetryableError', code: 'TIMEOUT', message: 'no response within 200 ms' });
  });

  test('connection refused: RetryableError NETWORK_ERROR, not unknown (it never arrived)', async () => {
    const gone = await ScriptedBinance.start();
    const address = { url: gone.url };
    await gone.close();
    const error = await rejectionOf<GuardError>(clientFor(address).papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy));
    expect(error).not.toBeInstanceOf(ExecutionUnknownError);
    expect([error.constructor.name, error.code]).toEqual(['RetryableError', 'NETWORK_ERROR']);
    expect(error.message).toMatch(/^ECONNREFUSED: /);
  });

  test('a deadline too short for a request: TIME_BUDGET_EXHAUSTED, nothing sent', async () => {
    const error = await rejectionOf<GuardError>(clientFor(server).papi.changeLeverage(HMAC, 'BTCUSDT', 21, fixedDeadline(699)));
    expect(describeError(error)).toEqual({
      type: 'RetryableError',
      code: 'TIME_BUDGET_EXHAUSTED',
      message: 'not enough invocation time left for an exchange request',
    });
    expect(server.requests).toEqual([]);
  });

  test('a deadline that leaves exactly the minimum request budget still sends', async () => {
    await expect(clientFor(server).papi.changeLeverage(HMAC, 'BTCUSDT', 21, fixedDeadline(700))).resolves.toEqual({
      leverage: 21,
      maxNotionalValue: '1000000',
    });
  });

  test('keep-alive: sequential calls reuse one connection', async () => {
    const { papi } = clientFor(server);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 21, roomy);
    await papi.changeLeverage(HMAC, 'BTCUSDT', 20, roomy);
    expect(server.log()).toEqual([`GET ${TIME}`, `POST ${LEVERAGE}`, `POST ${LEVERAGE}`]);
    expect(server.connections).toBe(1);
  });
});

test('RetryableError is the base of every transient failure here', () => {
  expect(new RateLimitedError(-1003, 'x', 1, false)).toBeInstanceOf(RetryableError);
  expect(new ClockSkewError(-1021, 'x')).toBeInstanceOf(RetryableError);
});

describe('readOpenPositions (positionRisk)', () => {
  const POSITION_RISK = '/papi/v1/um/positionRisk';
  const position = (symbol: string, positionAmt: string, leverage: unknown, positionSide = 'BOTH') => ({
    symbol,
    positionAmt,
    leverage,
    positionSide,
    entryPrice: '1',
    notional: '0',
    maxNotionalValue: '1000000',
  });

  test('a signed GET without symbol; only non-zero positions, hedge-mode sides merged, leverage as a number', async () => {
    server.script(POSITION_RISK, {
      body: [
        position('BTCUSDT', '0.5', '20', 'LONG'),
        position('BTCUSDT', '-0.2', '20', 'SHORT'),
        position('ETHUSDT', '0', '50'),
        position('ETHUSDT', '0.000', '50'),
        position('SOLUSDT', '-3', '10'),
      ],
    });
    const { papi } = clientFor(server);
    await expect(papi.readOpenPositions(HMAC, roomy)).resolves.toEqual([
      { symbol: 'BTCUSDT', leverage: 20 },
      { symbol: 'SOLUSDT', leverage: 10 },
    ]);
    const [request] = server.requests.filter((r) => r.path === POSITION_RISK);
    expect([request?.method, paramsOf(request!).map(([name]) => name)]).toEqual(['GET', ['recvWindow', 'timestamp', 'signature']]);
    expect(request?.headers['x-mbx-apikey']).toBe('api-key-1');
  });

  test('no positions at all: an empty list', async () => {
    server.script(POSITION_RISK, { body: [] });
    await expect(clientFor(server).papi.readOpenPositions(HMAC, roomy)).resolves.toEqual([]);
  });

  test.each([
    ['not a list', { symbol: 'BTCUSDT' }, 'positionRisk did not answer a list'],
    ['an entry without symbol', [{ positionAmt: '1', leverage: '20' }], 'positionRisk entry without symbol, leverage or positionAmt'],
    ['an entry without leverage', [{ symbol: 'BTCUSDT', positionAmt: '1' }], 'positionRisk entry without symbol, leverage or positionAmt'],
    ['a fractional leverage', [position('BTCUSDT', '1', '2.5')], 'positionRisk entry without symbol, leverage or positionAmt'],
  ])('%s: RetryableError MALFORMED_RESPONSE', async (_name, body, message) => {
    server.script(POSITION_RISK, { body });
    const error = await rejectionOf<GuardError>(clientFor(server).papi.readOpenPositions(HMAC, roomy));
    expect(describeError(error)).toEqual({ type: 'RetryableError', code: 'MALFORMED_RESPONSE', message });
  });

  test.each([
    ['null', null],
    ['an empty string', ''],
  ])('an open position with leverage %s: MALFORMED_RESPONSE', async (_name, leverage) => {
    server.script(POSITION_RISK, { body: [position('BTCUSDT', '1', leverage)] });
    const error = await rejectionOf<GuardError>(clientFor(server).papi.readOpenPositions(HMAC, roomy));
    expect(describeError(error)).toEqual({ type: 'RetryableError', code: 'MALFORMED_RESPONSE', message: 'positionRisk entry without symbol, leverage or positionAmt' });
  });

  test('a Binance error is classified like any other request (a refused key here: retryable, not the event\'s fault)', async () => {
    server.script(POSITION_RISK, binanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'));
    const error = await rejectionOf<GuardError>(clientFor(server).papi.readOpenPositions(HMAC, roomy));
    expect([error instanceof AuthenticationError, error.retryable, error.code]).toEqual([true, true, -2015]);
  });

  test('no answer: a plain RetryableError TIMEOUT (a read changes nothing)', async () => {
    server.script(POSITION_RISK, 'hang');
    const error = await rejectionOf<GuardError>(clientFor(server, { requestTimeoutMs: 200 }).papi.readOpenPositions(HMAC, roomy));
    expect(error).not.toBeInstanceOf(ExecutionUnknownError);
    expect(describeError(error)).toEqual({ type: 'RetryableError', code: 'TIMEOUT', message: 'no response within 200 ms' });
  });
});
