/**
 * `npm start -- --serve`: the local stack as a service until Ctrl-C. The queue is polled
 * continuously and outcomes are printed as they arrive, whoever sent the events: the AWS CLI or
 * SDK pointed at moto, or the tiny HTTP endpoint here (loopback only):
 *   POST /events       risk event (or array of them) → the risk-event queue
 *   POST /eventbridge  event detail, {"detail-type","detail"}, or an array → the bus
 *   POST /invoke       payload → asynchronous direct invocation (as a schedule would)
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCESS_KEY_ID, LOCAL_REGION, LOCAL_SECRET_ACCESS_KEY, RISK_EVENT_DETAIL_TYPES, RISK_EVENT_SOURCE } from '../aws/index.ts';
import { type EventFile, EventFileError, parseEventFile } from './event-file.ts';
import { summaryTable, totalsLine } from './report.ts';
import { LOCAL_STACK_FILE, type LocalStackFile, writeLocalStackFile } from './stack-file.ts';
import type { RunningStack, Session } from './session.ts';
import type { TrackedEvent } from './tracker.ts';

const HOST = '127.0.0.1';
/** SQS's message size limit; nothing larger could be sent anyway. */
const MAX_BODY_BYTES = 256 * 1024;
const EXAMPLE_EVENT = { eventId: 'cli-1', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5 };

export interface ServeOptions {
  httpPort?: number;
  /** Sent once at start-up when given (`--serve --events file`). */
  file?: EventFile;
  sendEventFile(session: Session, file: EventFile): Promise<void>;
}

const print = (line = ''): void => void process.stdout.write(`${line}\n`);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

const summary = (events: TrackedEvent[]) => events.map((e) => ({ eventId: e.eventId ?? null, recordIds: [...e.recordIds] }));

async function route(session: Session, request: IncomingMessage): Promise<{ status: number; body: unknown }> {
  const url = new URL(request.url ?? '/', `http://${HOST}`);
  if (request.method !== 'POST') {
    throw new HttpError(404, 'POST /events (risk event → SQS), POST /eventbridge (detail → bus), POST /invoke (payload → direct invocation)');
  }
  const text = await readBody(request);
  switch (url.pathname) {
    case '/events': {
      // Not JSON is sent as it is: the function rejects it, which is worth seeing too.
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        /* sent verbatim */
      }
      const events = await session.sendToQueue(Array.isArray(value) ? value : [value]);
      return { status: 202, body: { queued: summary(events) } };
    }
    case '/eventbridge': {
      const value = parseJson(text);
      let file: EventFile;
      try {
        file = parseEventFile({ eventBridge: Array.isArray(value) ? value : [value] });
      } catch (error) {
        throw new HttpError(400, (error as EventFileError).message);
      }
      return { status: 202, body: { put: summary(await session.putOnBus(file.eventBridge)) } };
    }
    case '/invoke': {
      const { event } = await session.invokeDirect(parseJson(text));
      return { status: 202, body: { invoked: summary([event]) } };
    }
    default:
      throw new HttpError(404, `no route ${url.pathname}`);
  }
}

function startHttp(session: Session, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(session, request).then(
      ({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      },
      (error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify({ error: (error as Error).message })}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://${HOST}:${bound}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function printHowTo(stack: RunningStack, httpUrl: string): void {
  const { guard } = stack;
  const endpoint = guard.aws.endpoint;
  const quoted = (value: unknown) => `'${JSON.stringify(value)}'`;
  const entry = {
    EventBusName: guard.resources.eventBusName,
    Source: RISK_EVENT_SOURCE,
    DetailType: RISK_EVENT_DETAIL_TYPES[0],
    Detail: JSON.stringify({ ...EXAMPLE_EVENT, eventId: 'cli-2' }),
  };
  print();
  print(`  http       ${httpUrl}  (POST /events, /eventbridge, /invoke)`);
  print();
  print('Environment for the AWS CLI / SDK:');
  print(`  export AWS_ENDPOINT_URL=${endpoint} AWS_REGION=${LOCAL_REGION} AWS_ACCESS_KEY_ID=${LOCAL_ACCESS_KEY_ID} AWS_SECRET_ACCESS_KEY=${LOCAL_SECRET_ACCESS_KEY}`);
  print('Send events:');
  print(`  curl -X POST ${httpUrl}/events -d ${quoted(EXAMPLE_EVENT)}`);
  print(`  aws sqs send-message --queue-url ${guard.resources.queueUrl} --message-body ${quoted({ ...EXAMPLE_EVENT, eventId: 'cli-3' })}`);
  print(`  aws events put-events --entries ${quoted([entry])}`);
  print(`  npx leverage-guard send --local <file>   (also status, pause, resume, redrive, outcomes: ${LOCAL_STACK_FILE})`);
  print(`  curl ${guard.simulator.url}/__sim/state   (simulator leverage; faults: POST ${guard.simulator.url}/__sim/faults)`);
  print();
  print('Outcomes as they arrive (Ctrl-C to stop):');
}

function localStackFileOf({ guard }: RunningStack): LocalStackFile {
  const { resources } = guard;
  return {
    endpoint: guard.aws.endpoint,
    region: LOCAL_REGION,
    accessKeyId: LOCAL_ACCESS_KEY_ID,
    secretAccessKey: LOCAL_SECRET_ACCESS_KEY,
    queueUrl: resources.queueUrl,
    dlqUrl: resources.dlqUrl,
    eventBusName: resources.eventBusName,
    topicArn: resources.topicArn,
    pauseParameterName: resources.pauseParameterName,
  };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
}

export async function serve(stack: RunningStack, options: ServeOptions): Promise<number> {
  let http: { url: string; close(): Promise<void> };
  try {
    http = await startHttp(stack.session, options.httpPort ?? 0);
  } catch (error) {
    await stack.close();
    throw error;
  }
  const removeStackFile = writeLocalStackFile(localStackFileOf(stack));
  printHowTo(stack, http.url);
  if (options.file) await options.sendEventFile(stack.session, options.file);
  const signal = await waitForSignal();
  print();
  print(`${signal}: stopping.`);
  // What arrived so far, before anything that needs moto: a terminal's Ctrl-C stops it as well.
  if (stack.tracker.events.length > 0) {
    print(summaryTable(stack.tracker));
    print(totalsLine(stack.tracker.events));
  }
  removeStackFile();
  await http.close();
  await stack.close();
  return 0;
}
