/**
 * The handler's own duty around processBatch: it warns, with a log line and a metric naming the
 * setting, when the invocation is too short for a single exchange request.
 */
import type { Context } from 'aws-lambda';
import { createChangeLeverageHandler, type HandlerDeps } from '../../../functions/change-leverage/handler.ts';
import { WORK_RESERVE_MS } from '../../../functions/domain/time-budget.ts';
import { FakeCredentialStore, FakeExchange, RecordingPublisher, silentLog } from '../../support/fakes.ts';

const REQUEST_TIMEOUT_MS = 5000;

let lines: string[];
beforeEach(() => {
  lines = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
});
afterEach(() => jest.restoreAllMocks());

function handlerWith(exchange = new FakeExchange(), credentials = new FakeCredentialStore()) {
  const deps: HandlerDeps = {
    exchange,
    credentials,
    publisher: new RecordingPublisher(),
    policy: { maxEventAgeMs: 900_000, dryRun: false },
    logFor: () => silentLog,
    now: Date.now,
    minimumTimeToStartMs: REQUEST_TIMEOUT_MS,
    maxReceiveCount: 3,
  };
  return createChangeLeverageHandler(deps);
}

function contextWith(remainingMs: number): Context {
  return { awsRequestId: 'req-1', functionName: 'change-leverage', getRemainingTimeInMillis: () => remainingMs } as unknown as Context;
}

const event = { eventId: 'evt-1', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5 };
const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('an invocation too short for one exchange request', () => {
  test('logs an error and a ConfigurationErrors metric naming BINANCE_REQUEST_TIMEOUT_MS', async () => {
    await handlerWith()(event, contextWith(REQUEST_TIMEOUT_MS + WORK_RESERVE_MS - 1)).catch(() => undefined);
    const error = parsed().find((line) => line.level === 'ERROR');
    expect(error).toMatchObject({ setting: 'BINANCE_REQUEST_TIMEOUT_MS', requestTimeoutMs: REQUEST_TIMEOUT_MS, message: expect.stringContaining('BINANCE_REQUEST_TIMEOUT_MS') });
    const metric = parsed().find((line) => 'ConfigurationErrors' in line);
    expect(metric).toMatchObject({ setting: 'BINANCE_REQUEST_TIMEOUT_MS', ConfigurationErrors: 1 });
  });

  test('an invocation with room for one request says nothing of the kind', async () => {
    await handlerWith()(event, contextWith(REQUEST_TIMEOUT_MS + WORK_RESERVE_MS));
    expect(parsed().filter((line) => line.level === 'ERROR' || 'ConfigurationErrors' in line)).toEqual([]);
  });
});
