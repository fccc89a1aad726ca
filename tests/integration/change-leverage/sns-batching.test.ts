// Issue 13: the built bundle publishes the outcomes of one invocation with SNS PublishBatch, and
// still never acknowledges a record whose own outcome SNS did not take. The function's SNS
// endpoint (AWS_ENDPOINT_URL_SNS) is a loopback proxy in front of moto that records each request's
// Action and entries; moto publishes, delivers to the outcomes queue and reports entries as
// Successful or Failed itself.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { LambdaHost } from '../../../local/lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'LINKUSDT', 'AVAXUSDT', 'LTCUSDT'];
/** moto refuses a message over 256 KiB as SNS does: for PublishBatch, as a Failed entry. */
const TOO_LONG = 'x'.repeat(256 * 1024 + 1);

interface SnsRequest {
  action: string;
  entries: number;
  /** Entries made too long on their way to moto. */
  refused: number;
  /** moto's HTTP status for the request. */
  status?: number;
}

let guard: LocalLeverageGuard;
let proxy: Server;
let host: LambdaHost;
const snsRequests: SnsRequest[] = [];
/** Entries whose message contains this are made too long on their way to moto. */
let refuseEntriesWith: string | undefined;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'sns-batching' });
  const moto = new URL(guard.aws.endpoint);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const prefix = (n: number) => `PublishBatchRequestEntries.member.${n}`;
      const recorded: SnsRequest = { action: form.get('Action') ?? '', entries: 0, refused: 0 };
      for (; form.has(`${prefix(recorded.entries + 1)}.Id`); recorded.entries++) {
        const message = `${prefix(recorded.entries + 1)}.Message`;
        if (!refuseEntriesWith || !form.get(message)?.includes(refuseEntriesWith)) continue;
        form.set(message, TOO_LONG);
        recorded.refused++;
      }
      snsRequests.push(recorded);
      const body = form.toString();
      const upstream = request(
        { host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(Buffer.byteLength(body)) } },
        (answer) => {
          recorded.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  host = new LambdaHost({
    bundlePath: path.resolve(BUNDLE_PATH),
    env: { ...guard.functionEnv, AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
    timeoutMs: 15_000,
  });
});
afterAll(async () => {
  host?.stop();
  await guard?.close();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
});
beforeEach(() => {
  guard.simulator.reset();
  snsRequests.length = 0;
  refuseEntriesWith = undefined;
});

/** An SQS event as the event-source mapping builds it, one record per event. */
function sqsEvent(events: Record<string, unknown>[], receiveCount = 1) {
  return {
    Records: events.map((event) => ({
      messageId: `m-${String(event.eventId)}`,
      receiptHandle: 'r',
      body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: guard.resources.queueArn,
      awsRegion: 'us-east-1',
    })),
  };
}

test('a batch of 10 records: every outcome published with its attributes, in fewer SNS requests than records, all PublishBatch', async () => {
  const events = SYMBOLS.map((symbol) => riskEvent({ symbol, leverage: 4 }));

  expect(await host.invoke<SQSBatchResponse>(sqsEvent(events))).toEqual({ batchItemFailures: [] });

  const outcomes = await guard.readOutcomes(10);
  expect(outcomes.map((o) => [o.body.eventId, o.body.status]).sort()).toEqual(events.map((e) => [e.eventId, 'APPLIED']).sort());
  for (const outcome of outcomes) {
    expect(outcome.attributes).toEqual({ status: 'APPLIED', symbol: outcome.body.symbol, accountId: 'desk-1' });
  }
  expect(snsRequests.map((r) => r.action)).toEqual(snsRequests.map(() => 'PublishBatch'));
  expect(snsRequests.reduce((sum, r) => sum + r.entries, 0)).toBe(10);
  expect(snsRequests.length).toBeLessThan(10);
  console.log(`SNS requests for a batch of 10 records: ${snsRequests.length} (entries ${snsRequests.map((r) => r.entries).join(', ')})`);
});

test('SNS refusing one entry of a request hands back that record alone; the others are acknowledged, and its redelivery publishes it', async () => {
  // Invalid events are rejected as soon as they are decoded, all on the same turn: their outcomes
  // share a request, so the refusal below is one entry among others.
  const invalid = [1, 2, 3].map(() => riskEvent({ levrage: 3 }));
  const valid = SYMBOLS.slice(0, 2).map((symbol) => riskEvent({ symbol, leverage: 3 }));
  const refused = invalid[1]!;
  refuseEntriesWith = String(refused.eventId);

  expect(await host.invoke<SQSBatchResponse>(sqsEvent([...invalid, ...valid]))).toEqual({ batchItemFailures: [{ itemIdentifier: `m-${String(refused.eventId)}` }] });

  const outcomes = await guard.readOutcomes(5, 3000);
  expect(outcomes.map((o) => [o.body.eventId, o.body.status]).sort()).toEqual(
    [...invalid.filter((e) => e !== refused).map((e) => [e.eventId, 'REJECTED']), ...valid.map((e) => [e.eventId, 'APPLIED'])].sort(),
  );
  // moto took the request and listed that entry under Failed: a per-entry failure, not a failed request.
  const [carrier, ...others] = snsRequests.filter((r) => r.refused > 0);
  expect([carrier?.action, carrier?.refused, carrier?.status, others]).toEqual(['PublishBatch', 1, 200, []]);
  expect(carrier!.entries).toBeGreaterThan(1);

  refuseEntriesWith = undefined;
  expect(await host.invoke<SQSBatchResponse>(sqsEvent([refused], 2))).toEqual({ batchItemFailures: [] });
  expect((await guard.readOutcomes(1)).map((o) => [o.body.eventId, o.body.status, (o.body.error as { code?: string }).code])).toEqual([[refused.eventId, 'REJECTED', 'INVALID_EVENT']]);
});
