/**
 * The keep-alive client against loopback servers: `sendTo` with an origin parsed once (what the
 * exchange client uses on its hot path) must reach the same place, with the same request, as
 * `send` with a URL; and both report failures in the transport's own terms.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { originOf, send, sendTo, TransportError } from '../../../../functions/adapters/http/keep-alive-client.ts';
import { rejectionOf } from '../../../support/fakes.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Echoes nothing: records the request and answers 200 with a multi-byte UTF-8 body and a header. */
async function startServer(host = '127.0.0.1'): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-mbx-used-weight-1m': '7' });
      res.end(JSON.stringify({ symbol: '１２３', note: 'ü'.repeat(5000) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function loopback(host?: string) {
  const started = await startServer(host);
  servers.push(started.server);
  return started;
}

describe('sendTo with an origin parsed once', () => {
  test('sends method, path with query, headers and body to the origin, whatever path the base URL had', async () => {
    const { port, seen } = await loopback();
    const origin = originOf(`http://127.0.0.1:${port}/ignored/base/path?x=1`);
    const response = await sendTo(origin, {
      method: 'POST',
      path: '/papi/v1/um/leverage?symbol=BTCUSDT&signature=abc',
      headers: { 'X-MBX-APIKEY': 'key-1' },
      body: 'a=b',
      timeoutMs: 2000,
    });
    expect(seen).toEqual([expect.objectContaining({ method: 'POST', url: '/papi/v1/um/leverage?symbol=BTCUSDT&signature=abc', body: 'a=b' })]);
    expect(seen[0]!.headers).toMatchObject({ 'x-mbx-apikey': 'key-1', host: `127.0.0.1:${port}` });
    expect(response.status).toBe(200);
    expect(response.headers['x-mbx-used-weight-1m']).toBe('7');
    // Decoded as UTF-8 even where a multi-byte character straddles two chunks.
    expect(JSON.parse(response.body)).toEqual({ symbol: '１２３', note: 'ü'.repeat(5000) });
  });

  test('an IPv6 origin is reached by its address, without the brackets of the URL', async () => {
    const { port, seen } = await loopback('::1');
    await sendTo(originOf(`http://[::1]:${port}`), { method: 'GET', path: '/fapi/v1/time', timeoutMs: 2000 });
    expect(seen.map((s) => s.url)).toEqual(['/fapi/v1/time']);
  });

  test('send with a URL sends the same request line as sendTo', async () => {
    const { port, seen } = await loopback();
    await send({ method: 'GET', url: new URL(`http://127.0.0.1:${port}/fapi/v1/time?a=%20b`), timeoutMs: 2000 });
    await sendTo(originOf(`http://127.0.0.1:${port}`), { method: 'GET', path: '/fapi/v1/time?a=%20b', timeoutMs: 2000 });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /fapi/v1/time?a=%20b', 'GET /fapi/v1/time?a=%20b']);
  });

  test('only http and https origins are accepted', () => {
    expect(() => originOf('ftp://127.0.0.1/')).toThrow(/unsupported protocol ftp:/);
  });

  test('send rejects (does not throw) for a URL it cannot send to', async () => {
    const pending = send({ method: 'GET', url: new URL('ftp://127.0.0.1/'), timeoutMs: 2000 });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toThrow(/unsupported protocol/);
  });
});

describe('failures', () => {
  test('a refused connection was certainly not delivered', async () => {
    // A port that was just free: bind, read it, close.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const error = await rejectionOf(sendTo(originOf(`http://127.0.0.1:${port}`), { method: 'POST', path: '/x', timeoutMs: 2000 }));
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', maybeDelivered: false });
  });

  test('no answer within the timeout is a timeout that may have been delivered', async () => {
    const silent = http.createServer(() => {});
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const error = await rejectionOf(sendTo(originOf(`http://127.0.0.1:${port}`), { method: 'POST', path: '/x', timeoutMs: 150 }));
    expect(error).toMatchObject({ name: 'TransportError', kind: 'timeout', maybeDelivered: true });
    silent.closeAllConnections();
  });
});

describe('deadlines of concurrent requests (one timer for all)', () => {
  /** Answers /fast at once and never answers anything else. */
  async function fastOrSilent(): Promise<{ origin: ReturnType<typeof originOf>; server: http.Server }> {
    const server = http.createServer((req, res) => {
      if (req.url === '/fast') res.end('{}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { origin: originOf(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server };
  }

  test('a request with a shorter deadline than those already in flight times out first', async () => {
    const { origin, server } = await fastOrSilent();
    let longSettled = false;
    const long = sendTo(origin, { method: 'GET', path: '/slow-long', timeoutMs: 10_000 }).finally(() => (longSettled = true));
    const short = await rejectionOf(sendTo(origin, { method: 'GET', path: '/slow-short', timeoutMs: 100 }));
    expect(short).toMatchObject({ kind: 'timeout', message: 'no response within 100 ms' });
    expect(longSettled).toBe(false);
    server.closeAllConnections();
    expect(await rejectionOf(long)).toMatchObject({ kind: 'network' });
  });

  test('a request still times out after the one whose deadline came first has finished', async () => {
    const { origin } = await fastOrSilent();
    const slow = rejectionOf(sendTo(origin, { method: 'GET', path: '/slow', timeoutMs: 200 }));
    // Sent after, due before: the timer is armed for it, then it answers and leaves.
    expect((await sendTo(origin, { method: 'GET', path: '/fast', timeoutMs: 50 })).body).toBe('{}');
    expect(await slow).toMatchObject({ kind: 'timeout', message: 'no response within 200 ms' });
  });
});
