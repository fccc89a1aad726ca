// EventBridge and direct triggers, start-up configuration errors, and what the function writes
// to its logs: JSON, the eventId on every record line, and never credential material.
import { InvocationError, LambdaHost } from '../../../local/lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard, loadTestCredentials, startLocalLeverageGuard } from '../../../local/stack.ts';
import { eventBridgeEnvelope, riskEvent } from '../../support/events.ts';

jest.setTimeout(30_000);

let guard: LocalLeverageGuard;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'triggers' });
});
afterAll(() => guard?.close());
beforeEach(() => guard.simulator.reset());

describe('EventBridge', () => {
  test('the detail is the risk event; the outcome says trigger eventbridge', async () => {
    const detail = riskEvent({ accountId: 'desk-2', symbol: 'XRPUSDT', leverage: 4 });
    await expect(guard.invoke(eventBridgeEnvelope(detail))).resolves.toEqual({ eventId: detail.eventId, outcomes: [expect.objectContaining({ status: 'APPLIED' })] });
    const [outcome] = await guard.readOutcomes(1);
    expect(outcome!.body).toMatchObject({ eventId: detail.eventId, trigger: 'eventbridge', status: 'APPLIED' });
  });

  test('an invalid detail is REJECTED under the EventBridge event id, and the invocation succeeds (no pointless retry)', async () => {
    const envelope = eventBridgeEnvelope({ symbol: 'XRPUSDT', leverage: 4 });
    await expect(guard.invoke(envelope)).resolves.toEqual({ eventId: envelope.id, outcomes: [expect.objectContaining({ status: 'REJECTED' })] });
    const [outcome] = await guard.readOutcomes(1);
    expect(outcome!.body).toMatchObject({
      eventId: envelope.id,
      symbol: 'XRPUSDT',
      status: 'REJECTED',
      error: { code: 'INVALID_EVENT', message: 'eventId: is required' },
    });
  });

  test('a transient failure fails the invocation so Lambda retries it; nothing is published', async () => {
    guard.simulator.injectFault({ fault: { type: 'internalError' }, path: '/papi/v1/um/leverage' });
    await expect(guard.invoke(eventBridgeEnvelope(riskEvent()))).rejects.toMatchObject({ errorType: 'HandedBackError', phase: 'invoke' });
    expect(await guard.readOutcomes(1, 1000)).toEqual([]);
  });
});

describe('direct and scheduled invocations', () => {
  test('the payload is the risk event', async () => {
    const event = riskEvent({ reason: 'Friday 20:00 UTC de-leveraging', issuedAt: new Date().toISOString() });
    await expect(guard.invoke(event)).resolves.toEqual({ eventId: event.eventId, outcomes: [expect.objectContaining({ status: 'APPLIED' })] });
    const [outcome] = await guard.readOutcomes(1);
    expect(outcome!.body).toMatchObject({ trigger: 'direct', reason: event.reason, issuedAt: event.issuedAt });
  });

  test.each([
    ['null', null, 'event must be a JSON object, got null'],
    ['an array', [riskEvent()], 'event must be a JSON object, got an array'],
    ['a string', 'BTCUSDT 5x', 'event must be a JSON object, got a string'],
  ])('%s payload is REJECTED with a specific message', async (_name, payload, message) => {
    await expect(guard.invoke(payload)).resolves.toMatchObject({ outcomes: [{ status: 'REJECTED' }] });
    const [outcome] = await guard.readOutcomes(1);
    expect(outcome!.body.error).toEqual({ code: 'INVALID_EVENT', message, retryable: false });
  });
});

describe('configuration', () => {
  test.each([
    ['BINANCE_SECRET_ID', { BINANCE_SECRET_ID: '' }, 'invalid configuration: BINANCE_SECRET_ID is required'],
    ['BINANCE_PAPI_URL', { BINANCE_PAPI_URL: 'http://papi.example.com' }, 'invalid configuration: BINANCE_PAPI_URL must use https'],
    ['MAX_RECEIVE_COUNT', { MAX_RECEIVE_COUNT: 'three' }, 'invalid configuration: MAX_RECEIVE_COUNT must be a whole number'],
  ])('a bad %s stops the function at start-up, naming the variable', async (_name, override, message) => {
    const host = new LambdaHost({ bundlePath: BUNDLE_PATH, env: { ...guard.functionEnv, ...override }, timeoutMs: 5000 });
    const error = await host.invoke(riskEvent()).catch((thrown: unknown) => thrown);
    host.stop();
    // Lambda's init error: the runtime client reports what the module threw while loading.
    expect(error).toBeInstanceOf(InvocationError);
    expect(error).toMatchObject({ phase: 'init', errorType: 'ConfigError' });
    expect((error as InvocationError).message).toContain(message);
  });
});

/** `2026-11-30T08:04:16.641Z\t<request id>\tERROR\t...`: what the runtime client writes itself. */
const RUNTIME_CLIENT_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[\w-]+\t(ERROR|WARN|INFO|DEBUG|TRACE|FATAL)\t/;

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

/** The function's own (JSON) log lines, without the runtime client's. */
const jsonLines = (logs: string[]) =>
  logs.filter((line) => !RUNTIME_CLIENT_LINE.test(line)).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('logs', () => {
  const secrets = Object.values(loadTestCredentials()).flatMap((c) => Object.values(c as Record<string, string>));
  const privateKeyLines = secrets
    .filter((s) => s.includes('PRIVATE KEY'))
    .flatMap((pem) => pem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')));

  test('are JSON, carry the eventId on every record line, and never contain credential material', async () => {
    guard.host.logs.length = 0;
    const failing = riskEvent({ accountId: 'desk-2', symbol: 'SOLUSDT' });
    guard.simulator.injectFault({ fault: { type: 'unknownStatus', apply: false }, symbol: 'SOLUSDT' });
    const events = [
      riskEvent({ accountId: 'desk-1' }),
      riskEvent({ accountId: 'desk-2', symbol: 'ETHUSDT' }),
      riskEvent({ accountId: 'desk-3', symbol: 'DOGEUSDT' }),
      riskEvent({ symbol: 'BTCUSDT_261225', leverage: 99 }),
    ];
    for (const event of events) await guard.invoke(event);
    await guard.invoke(failing).catch(() => undefined);
    await guard.readOutcomes(events.length);

    // The runtime client reports a failed invocation in Lambda's text format (time, request id,
    // level, message); every line the function writes itself is JSON.
    const [runtimeLines, functionLines] = partition(guard.host.logs, (line) => RUNTIME_CLIENT_LINE.test(line));
    expect(runtimeLines).toEqual([expect.stringContaining(`\tERROR\tInvoke Error \t{"errorType":"HandedBackError","errorMessage":"event ${failing.eventId} handed back`)]);
    const lines = functionLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(10);
    // EMF metric lines (`_aws`) are CloudWatch's, not ours.
    const recordLines = lines.filter((line) => line.message !== 'invocation complete' && !('_aws' in line));
    for (const line of recordLines) expect(line).toHaveProperty('eventId');
    for (const line of lines.filter((l) => l.message === 'invocation complete')) expect(line.eventIds).toHaveLength(1);
    expect(new Set(recordLines.map((l) => l.eventId))).toEqual(new Set([...events, failing].map((e) => e.eventId)));
    // The request id the logger stamps is Lambda's (the runtime's context.awsRequestId).
    const requestIds = new Set(guard.host.platformLogs.map((line) => /^START RequestId: (\S+)/.exec(line)?.[1]).filter(Boolean));
    for (const line of recordLines) expect(requestIds).toContain(line.function_request_id);

    const everything = guard.host.logs.join('\n');
    for (const secret of [...secrets.filter((s) => !s.includes('PRIVATE KEY')), ...privateKeyLines]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/signature=/i);
  });
});

describe('metrics (CloudWatch EMF in the log)', () => {
  type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } };

  test('outcomes by status (and code), records and hand-backs, in namespace LeverageGuard', async () => {
    guard.host.logs.length = 0;
    guard.simulator.injectFault({ fault: { type: 'internalError' }, symbol: 'LTCUSDT' });
    await guard.invoke(riskEvent({ symbol: 'ADAUSDT' }));
    await guard.invoke(riskEvent({ symbol: 'BTCUSDT_261225', leverage: 99 }));
    await guard.invoke(riskEvent({ symbol: 'LTCUSDT' })).catch(() => undefined);
    await guard.readOutcomes(2);

    const emf = jsonLines(guard.host.logs).filter((line): line is Emf => '_aws' in line);
    const find = (metric: string, dimensions: Record<string, string>) =>
      emf.filter(
        (line) =>
          line._aws.CloudWatchMetrics.some((d) => d.Namespace === 'LeverageGuard' && d.Metrics.some((m) => m.Name === metric)) &&
          Object.entries(dimensions).every(([name, value]) => line[name] === value),
      );
    expect(find('Outcomes', { status: 'APPLIED', service: 'leverage-guard-local' })[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'status']]);
    expect(find('Outcomes', { status: 'APPLIED' })[0]).toMatchObject({ Outcomes: 1 });
    expect(find('OutcomesByCode', { status: 'REJECTED', code: '-4028' })).toHaveLength(1);
    expect(find('HandedBack', { code: '-1001' })).toHaveLength(1);
    expect(find('Records', {}).map((line) => line.Records)).toEqual([1, 1, 1]);
    const exchange = find('ExchangeLatency', {});
    expect(exchange).toHaveLength(3);
    expect(exchange.every((line) => Array.isArray(line.ExchangeLatency) || typeof line.ExchangeLatency === 'number')).toBe(true);
    expect(exchange.some((line) => typeof line.UsedWeight === 'number' || Array.isArray(line.UsedWeight))).toBe(true);
  });

  test('clock offset when measured, and in-invocation retries by reason', async () => {
    guard.host.stop(); // a cold container measures the clock offset
    guard.host.logs.length = 0;
    guard.simulator.injectFault({ fault: { type: 'rateLimit', retryAfterSeconds: 0 }, symbol: 'XRPUSDT' });
    await guard.invoke(riskEvent({ symbol: 'XRPUSDT', leverage: 3 }));
    await guard.readOutcomes(1);
    expect(jsonLines(guard.host.logs).find((line) => 'cold_start' in line)?.cold_start).toBe(true);
    const emf = jsonLines(guard.host.logs).filter((line) => '_aws' in line);
    expect(emf.some((line) => typeof line.ClockOffset === 'number')).toBe(true);
    expect(emf.filter((line) => line.reason === 'RATE_LIMITED').map((line) => line.ExchangeRetries)).toEqual([1]);
  });
});
