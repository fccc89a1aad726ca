/**
 * A minimal keep-alive HTTP client, shared by the Binance client and the DynamoDB/SSM client. One
 * agent per protocol lives for the life of the Lambda container, so warm invocations reuse TLS
 * connections (a fresh TLS handshake to Binance costs more than the request itself).
 */
import type * as Http from 'node:http';

// Not an ES import: that builds the module's full namespace, reading every export, and
// node:http's lazy WebSocket/MessageEvent getters then load Node's internal undici, about 8 ms of
// CPU at every cold start for nothing (docs/benchmarks.md). getBuiltinModule hands the module over
// untouched.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');
const { urlToHttpOptions } = process.getBuiltinModule('node:url');

export interface HttpResponse {
  status: number;
  headers: Http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/**
 * A transport failure. `maybeDelivered` is false only when the request certainly never reached
 * the server (the connection was refused or the name did not resolve); a timeout or a reset may
 * come after the exchange acted on it.
 */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'network',
    message: string,
    readonly maybeDelivered: boolean,
    /** The system error code (ECONNREFUSED, ECONNRESET…), when there was one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

const NEVER_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
};

/**
 * A server's scheme, host and port, parsed once. A client that sends many requests to one server
 * keeps it and calls `sendTo` with a path: parsing a URL per request (by us or by node:http when
 * handed a string) costs CPU on the hot path of every exchange call.
 */
export interface HttpOrigin {
  readonly transport: typeof http | typeof https;
  readonly options: Readonly<Pick<Http.RequestOptions, 'protocol' | 'hostname' | 'port' | 'auth' | 'agent'>>;
}

export function originOf(url: string | URL): HttpOrigin {
  const { protocol, hostname, port, auth } = urlToHttpOptions(typeof url === 'string' ? new URL(url) : url);
  if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError(`unsupported protocol ${protocol}`);
  return { transport: protocol === 'https:' ? https : http, options: { protocol, hostname, port, auth, agent: agents[protocol] } };
}

/** What `sendTo` sends to an origin: `path` includes the query string. */
export type OriginRequest = Omit<HttpRequest, 'url'> & { path: string };

export async function send(request: HttpRequest): Promise<HttpResponse> {
  return sendTo(originOf(request.url), { ...request, path: request.url.pathname + request.url.search });
}

/**
 * Every request in flight with the moment (performance.now()) it must have answered by, and one
 * timer armed for the earliest of them. A timer per request, created and then cleared on nearly
 * every call, cost 3-4 % of an exchange call's CPU (10 paired rounds against this, issue 13).
 * Deadlines mostly arrive in order, so a new request rarely touches the timer; when it fires it
 * times out what is due and re-arms for the next deadline, so each request still times out on time.
 */
const inFlight = new Map<Http.ClientRequest, { dueAt: number; timeoutMs: number }>();
let sweep: { timer: NodeJS.Timeout; at: number } | undefined;

function watchDeadline(req: Http.ClientRequest, timeoutMs: number): void {
  const dueAt = performance.now() + timeoutMs;
  inFlight.set(req, { dueAt, timeoutMs });
  if (sweep === undefined || dueAt < sweep.at) armSweep(dueAt);
}

function armSweep(at: number): void {
  if (sweep !== undefined) clearTimeout(sweep.timer);
  // Unreferenced: a request in flight keeps the process alive by its socket; a timer left armed
  // for requests that have all finished must not.
  sweep = { at, timer: setTimeout(timeOutDue, Math.max(0, at - performance.now())).unref() };
}

function timeOutDue(): void {
  sweep = undefined;
  const now = performance.now();
  let next = Number.POSITIVE_INFINITY;
  for (const [req, { dueAt, timeoutMs }] of inFlight) {
    if (dueAt <= now) {
      inFlight.delete(req);
      req.destroy(new TransportError('timeout', `no response within ${timeoutMs} ms`, true));
    } else if (dueAt < next) next = dueAt;
  }
  if (next !== Number.POSITIVE_INFINITY) armSweep(next);
}

export function sendTo(origin: HttpOrigin, request: OriginRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = origin.transport.request(
      { ...origin.options, method: request.method, path: request.path, headers: request.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', (error) => reject(new TransportError('network', error.message, true)));
      },
    );
    watchDeadline(req, request.timeoutMs);
    req.on('close', () => inFlight.delete(req));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof TransportError) return reject(error);
      const code = error.code ?? 'UNKNOWN';
      reject(new TransportError('network', `${code}: ${error.message}`, !NEVER_DELIVERED.has(code), error.code));
    });
    req.end(request.body);
  });
}
