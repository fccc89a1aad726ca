// HTTP front of the simulator: request recording, parameter parsing, ban / fault / weight
// handling, routing to the endpoints, and the /__sim control API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate } from './auth.ts';
import { routes, UNKNOWN_ROUTE_WEIGHT, type EndpointContext } from './endpoints.ts';
import { FaultQueue, validateRule } from './faults.ts';
import { WeightLimiter } from './rate-limit.ts';
import { errors, htmlStatusPage, json, type SimResponse } from './responses.ts';
import { formDecode, splitRawParams } from './signature.ts';
import { SimulatorState } from './state.ts';
import type { Fault, RecordedRequest, SimulatorSeed } from './types.ts';

const MAX_BODY_BYTES = 1 << 20;
const CONTROL_PREFIX = '/__sim/';

interface Incoming {
  method: string;
  path: string;
  rawQuery: string;
  rawBody: string;
  apiKey: string | undefined;
  params: Map<string, string> | SimResponse;
  record: RecordedRequest;
}

export class SimulatorCore {
  readonly state: SimulatorState;
  readonly faults = new FaultQueue();
  readonly limiter: WeightLimiter;
  skewMs = 0;
  private log: RecordedRequest[] = [];

  constructor(
    seed: SimulatorSeed,
    readonly now: () => number,
  ) {
    this.state = new SimulatorState(seed);
    this.limiter = new WeightLimiter(now, seed.weightLimitPerMinute);
  }

  serverTime(): number {
    return this.now() + this.skewMs;
  }

  requests(): RecordedRequest[] {
    return this.log.map((r) => ({ ...r, query: { ...r.query } }));
  }

  reset(): void {
    this.state.reset();
    this.faults.clear();
    this.limiter.reset();
    this.skewMs = 0;
    this.log = [];
  }

  /** node:http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    readBody(req)
      .then((body) => this.dispatch(req, res, body))
      .catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) send(res, text500(error));
      });
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse, rawBody: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    if (path.startsWith(CONTROL_PREFIX)) {
      send(res, this.control(method, path, rawBody));
      return;
    }
    const incoming = this.record(method, path, rawQuery, rawBody, req.headers['x-mbx-apikey']);
    const banMs = this.limiter.banRemainingMs();
    if (banMs > 0) {
      this.reply(res, incoming, errors.banned(this.limiter.bannedUntilMs, Math.ceil(banMs / 1000)));
      return;
    }
    const symbol = incoming.params instanceof Map ? incoming.params.get('symbol') : undefined;
    const fault = this.faults.take({ method, path, symbol });
    if (fault === undefined) {
      this.reply(res, incoming, this.process(incoming));
      return;
    }
    incoming.record.fault = fault.type;
    await this.applyFault(fault, incoming, res);
  }

  private record(method: string, path: string, rawQuery: string, rawBody: string, key: string | string[] | undefined): Incoming {
    const apiKey = Array.isArray(key) ? key[0] : key;
    const params = parseParams(rawQuery, rawBody);
    const record: RecordedRequest = {
      seq: this.log.length + 1,
      at: this.now(),
      method,
      path,
      query: params instanceof Map ? Object.fromEntries(params) : {},
      status: 0,
      weight: 0,
    };
    if (apiKey !== undefined) {
      record.apiKey = apiKey;
      const account = this.state.accountByKey(apiKey);
      if (account !== undefined) record.account = account.name;
    }
    this.log.push(record);
    return { method, path, rawQuery, rawBody, apiKey, params, record };
  }

  private routeWeight(incoming: Incoming): number {
    return routes.get(`${incoming.method} ${incoming.path}`)?.weight ?? UNKNOWN_ROUTE_WEIGHT;
  }

  private charge(incoming: Incoming): boolean {
    const weight = this.routeWeight(incoming);
    const decision = this.limiter.consume(weight);
    if (decision.ok) incoming.record.weight = weight;
    return decision.ok;
  }

  /** Normal exchange handling: weight limit, routing, authentication, endpoint. */
  private process(incoming: Incoming): SimResponse {
    if (!this.charge(incoming)) {
      return errors.tooManyRequests(this.limiter.limit, this.limiter.secondsToWindowEnd());
    }
    const route = routes.get(`${incoming.method} ${incoming.path}`);
    if (route === undefined) return errors.notFound();
    if (!(incoming.params instanceof Map)) return incoming.params;
    const ctx: EndpointContext = { params: incoming.params, state: this.state, serverTime: this.serverTime() };
    if (route.signed) {
      const account = authenticate(this.state, { ...incoming, params: incoming.params, serverTime: ctx.serverTime });
      if (!('verify' in account)) return account;
      ctx.account = account;
    }
    return route.handle(ctx);
  }

  /** Runs the normal handling for its side effects (apply=true) or only charges its weight. */
  private execute(incoming: Incoming, apply: boolean): void {
    if (apply) this.process(incoming);
    else this.charge(incoming);
  }

  private async applyFault(fault: Fault, incoming: Incoming, res: ServerResponse): Promise<void> {
    const reply = (response: SimResponse) => this.reply(res, incoming, response);
    switch (fault.type) {
      case 'rateLimit':
        return reply(errors.tooManyRequests(this.limiter.limit, fault.retryAfterSeconds));
      case 'ban':
        this.limiter.ban(fault.seconds);
        return reply(errors.banned(this.limiter.bannedUntilMs, fault.seconds));
      case 'latency':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (res.destroyed) return;
        return reply(this.process(incoming));
      case 'timeout':
        this.execute(incoming, fault.apply);
        return; // never answers: the socket stays open until the client gives up or close()
      case 'reset':
        this.execute(incoming, fault.apply);
        res.socket?.destroy();
        return;
      case 'unknownStatus':
        this.execute(incoming, fault.apply);
        return reply(errors.unknownStatus(fault.code ?? -1007));
    }
    this.execute(incoming, false);
    switch (fault.type) {
      case 'internalError':
        return reply(errors.internal());
      case 'serviceUnavailable':
        return reply(errors.serviceUnavailable());
      case 'throttled':
        return reply(errors.throttled());
      case 'nonJson':
        return reply(htmlStatusPage(fault.status ?? 502));
    }
  }

  private reply(res: ServerResponse, incoming: Incoming, response: SimResponse): void {
    incoming.record.status = response.status;
    if (response.code !== undefined) incoming.record.code = response.code;
    send(res, response, { 'X-MBX-USED-WEIGHT-1M': String(this.limiter.usedWeight()) });
  }

  private control(method: string, path: string, rawBody: string): SimResponse {
    const route = `${method} ${path.slice(CONTROL_PREFIX.length)}`;
    try {
      switch (route) {
        case 'POST faults': {
          const rule: unknown = JSON.parse(rawBody);
          validateRule(rule);
          this.faults.add(rule);
          return json(200, { ok: true, pending: this.faults.pending() });
        }
        case 'GET faults':
          return json(200, this.faults.pending());
        case 'DELETE faults':
          this.faults.clear();
          return json(200, { ok: true });
        case 'POST clock': {
          const { skewMs } = JSON.parse(rawBody) as { skewMs?: unknown };
          if (typeof skewMs !== 'number' || !Number.isFinite(skewMs)) throw new Error('"skewMs" must be a number');
          this.skewMs = skewMs;
          return json(200, { ok: true, skewMs, serverTime: this.serverTime() });
        }
        case 'POST reset':
          this.reset();
          return json(200, { ok: true });
        case 'GET requests':
          return json(200, this.requests());
        case 'GET state':
          return json(200, this.state.leverageTable());
        case 'GET weight':
          return json(200, { usedWeight: this.limiter.usedWeight(), limit: this.limiter.limit });
        case 'POST leverage': {
          const { account, symbol, leverage } = JSON.parse(rawBody) as { account: string; symbol: string; leverage: number };
          this.state.setLeverage(this.state.account(account), symbol, leverage);
          return json(200, { ok: true });
        }
        case 'POST position': {
          const { account, symbol, positionAmt } = JSON.parse(rawBody) as { account: string; symbol: string; positionAmt: string };
          this.state.setPosition(this.state.account(account), symbol, String(positionAmt));
          return json(200, { ok: true });
        }
        default:
          return json(404, { error: `unknown control route ${route}` });
      }
    } catch (error) {
      return json(400, { error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** Decoded parameters of query + form body, or the Binance error for a malformed set. */
function parseParams(rawQuery: string, rawBody: string): Map<string, string> | SimResponse {
  const params = new Map<string, string>();
  for (const { name, raw } of [...splitRawParams(rawQuery), ...splitRawParams(rawBody)]) {
    let key: string;
    let value: string;
    try {
      key = formDecode(name);
      value = formDecode(raw);
    } catch {
      return errors.illegalChars();
    }
    if (params.has(key)) return errors.duplicateParam();
    params.set(key, value);
  }
  return params;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function text500(error: unknown): SimResponse {
  return json(500, { error: error instanceof Error ? error.message : String(error) });
}

function send(res: ServerResponse, response: SimResponse, extraHeaders: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, {
    'Content-Type': response.contentType === 'application/json' ? 'application/json' : `${response.contentType}; charset=utf-8`,
    'Content-Length': String(body.length),
    ...extraHeaders,
    ...response.headers,
  });
  res.end(body);
}
