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

export function send(request: HttpRequest): Promise<HttpResponse> {
  const transport = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      request.url,
      { method: request.method, headers: request.headers, agent: agents[request.url.protocol as 'http:' | 'https:'] },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (error) => reject(new TransportError('network', error.message, true)));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new TransportError('timeout', `no response within ${request.timeoutMs} ms`, true));
    }, request.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof TransportError) return reject(error);
      const code = error.code ?? 'UNKNOWN';
      reject(new TransportError('network', `${code}: ${error.message}`, !NEVER_DELIVERED.has(code), error.code));
    });
    req.end(request.body);
  });
}
