// The Binance rules through the built bundle, one direct invocation at a time: read-back on
// unknown execution, Retry-After, bans, clock offset, signature schemes, business errors.
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { InvocationError } from '../../../local/lambda/lambda-host.ts';
import { type LocalLeverageGuard, loadTestCredentials, startLocalLeverageGuard } from '../../../local/stack.ts';
import { posts, riskEvent } from '../../support/events.ts';

jest.setTimeout(30_000);

let guard: LocalLeverageGuard;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'exchange-faults' });
});
afterAll(() => guard?.close());
beforeEach(() => {
  guard.simulator.reset();
  guard.host.stop(); // a fresh container: no ban or clock state carried between tests
});

async function invokeExpectingHandBack(event: Record<string, unknown>): Promise<InvocationError> {
  const error = await guard.invoke(event).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(InvocationError);
  expect((error as InvocationError).errorType).toBe('HandedBackError');
  return error as InvocationError;
}

async function expectNoOutcome(): Promise<void> {
  expect(await guard.readOutcomes(1, 1000)).toEqual([]);
}

test.each([
  ['HMAC', 'desk-1'],
  ['Ed25519', 'desk-2'],
  ['RSA', 'desk-3'],
])('%s credentials sign requests Binance accepts', async (_scheme, accountId) => {
  const event = riskEvent({ accountId, symbol: 'LTCUSDT', leverage: 11 });
  await expect(guard.invoke(event)).resolves.toEqual({ eventId: event.eventId, outcomes: [expect.objectContaining({ status: 'APPLIED' })] });
  expect(guard.simulator.leverageOf(accountId, 'LTCUSDT')).toBe(11);
  const [outcome] = await guard.readOutcomes(1);
  expect(outcome!.body).toMatchObject({ status: 'APPLIED', leverage: 11, trigger: 'direct' });
});

test('the request is the documented one: POST, signed query, signature last, API key header', async () => {
  await guard.invoke(riskEvent({ accountId: 'desk-1', symbol: 'BTCUSDT_261225', leverage: 21 }));
  const [request] = posts(guard);
  expect(request).toMatchObject({ method: 'POST', account: 'desk-1', status: 200 });
  expect(Object.keys(request!.query)).toEqual(['symbol', 'leverage', 'recvWindow', 'timestamp', 'signature']);
  expect(request!.query).toMatchObject({ symbol: 'BTCUSDT_261225', leverage: '21', recvWindow: '5000' });
  await guard.readOutcomes(1);
});

test('503 unknown status where the change applied: read back, then APPLIED', async () => {
  guard.simulator.injectFault({ fault: { type: 'unknownStatus', apply: true }, path: '/papi/v1/um/leverage' });
  const event = riskEvent({ symbol: 'SOLUSDT', leverage: 12 });
  await expect(guard.invoke(event)).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  const paths = guard.simulator.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
  expect(paths.filter((p) => p.includes('/papi/'))).toEqual([
    'POST /papi/v1/um/leverage 503',
    'GET /papi/v1/um/symbolConfig 200',
  ]);
  const [outcome] = await guard.readOutcomes(1);
  expect(outcome!.body).toMatchObject({ eventId: event.eventId, status: 'APPLIED', leverage: 12 });
});

test('503 unknown status where the change did not apply: handed back, nothing published', async () => {
  guard.simulator.injectFault({ fault: { type: 'unknownStatus', apply: false, code: -1006 }, path: '/papi/v1/um/leverage' });
  const error = await invokeExpectingHandBack(riskEvent({ symbol: 'SOLUSDT', leverage: 12 }));
  expect(error.message).toMatch(/-1006.*read-back shows leverage 20, so the change has not applied \(yet/);
  await expectNoOutcome();
});

test.each([
  ['a timeout', { type: 'timeout', apply: true } as const],
  ['a connection reset', { type: 'reset', apply: true } as const],
])('%s after the change applied is confirmed by read-back', async (_name, fault) => {
  guard.simulator.injectFault({ fault, path: '/papi/v1/um/leverage' });
  await expect(guard.invoke(riskEvent({ symbol: 'BNBUSDT', leverage: 6 }))).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  expect(posts(guard, '/papi/v1/um/symbolConfig')).toHaveLength(1);
  await guard.readOutcomes(1);
});

test.each([
  ['500 internal error', { type: 'internalError' } as const, -1001],
  ['503 service unavailable', { type: 'serviceUnavailable' } as const, 'HTTP_503'],
  ['-1008 throttled', { type: 'throttled' } as const, -1008],
])('%s is transient: handed back without a read-back', async (_name, fault, code) => {
  guard.simulator.injectFault({ fault, path: '/papi/v1/um/leverage' });
  const error = await invokeExpectingHandBack(riskEvent({ symbol: 'BNBUSDT', leverage: 6 }));
  expect(error.message).toContain(`: ${code}:`);
  expect(posts(guard, '/papi/v1/um/symbolConfig')).toHaveLength(0);
  await expectNoOutcome();
});

test('a 502 with a non-JSON body leaves execution unknown: read back before deciding', async () => {
  guard.simulator.injectFault({ fault: { type: 'nonJson', status: 502 }, path: '/papi/v1/um/leverage' });
  await invokeExpectingHandBack(riskEvent({ symbol: 'BNBUSDT', leverage: 6 }));
  expect(posts(guard, '/papi/v1/um/symbolConfig')).toHaveLength(1);
  await expectNoOutcome();
});

test('429 with a short Retry-After is waited out within the invocation', async () => {
  guard.simulator.injectFault({ fault: { type: 'rateLimit', retryAfterSeconds: 1 }, path: '/papi/v1/um/leverage' });
  await expect(guard.invoke(riskEvent({ symbol: 'ADAUSDT', leverage: 3 }))).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  const attempts = posts(guard);
  expect(attempts.map((r) => r.status)).toEqual([429, 200]);
  expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(1000);
  await guard.readOutcomes(1);
});

test('429 with a Retry-After longer than the invocation allows is handed back at once', async () => {
  guard.simulator.injectFault({ fault: { type: 'rateLimit', retryAfterSeconds: 120 }, path: '/papi/v1/um/leverage' });
  const error = await invokeExpectingHandBack(riskEvent({ symbol: 'ADAUSDT', leverage: 3 }));
  expect(error.message).toContain('-1003');
  expect(posts(guard)).toHaveLength(1);
  // The container remembers: the next event is handed back without contacting Binance.
  await invokeExpectingHandBack(riskEvent({ symbol: 'LTCUSDT', leverage: 3 }));
  expect(posts(guard)).toHaveLength(1);
  await expectNoOutcome();
});

test('418: nothing more is sent to Binance until the ban ends', async () => {
  guard.simulator.injectFault({ fault: { type: 'ban', seconds: 120 }, path: '/papi/v1/um/leverage' });
  await invokeExpectingHandBack(riskEvent({ symbol: 'ADAUSDT', leverage: 3 }));
  const sent = guard.simulator.requests().length;
  const error = await invokeExpectingHandBack(riskEvent({ symbol: 'LTCUSDT', leverage: 3 }));
  expect(error.message).toMatch(/IP_BANNED: IP banned by Binance for another \d+ s/);
  expect(guard.simulator.requests()).toHaveLength(sent);
  await expectNoOutcome();
});

test('-1021: the clock offset is re-measured and the request retried once', async () => {
  await guard.invoke(riskEvent({ symbol: 'DOGEUSDT', leverage: 8 })); // warm: offset measured
  guard.simulator.setClockSkewMs(-30_000);
  await expect(guard.invoke(riskEvent({ symbol: 'DOGEUSDT', leverage: 9 }))).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  const sequence = guard.simulator.requests().map((r) => `${r.path} ${r.code ?? r.status}`);
  expect(sequence.slice(-3)).toEqual(['/papi/v1/um/leverage -1021', '/fapi/v1/time 200', '/papi/v1/um/leverage 200']);
  await guard.readOutcomes(2);
});

test('a clock far from Binance is corrected at cold start, so the first request is accepted', async () => {
  guard.simulator.setClockSkewMs(45_000);
  await expect(guard.invoke(riskEvent({ symbol: 'DOGEUSDT', leverage: 7 }))).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  expect(posts(guard).map((r) => r.status)).toEqual([200]);
  await guard.readOutcomes(1);
});

test.each([
  ['leverage above the symbol maximum', { symbol: 'BTCUSDT_261225', leverage: 75 }, -4028],
  ['raising leverage on a position too large for it', { accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 125 }, -2027],
  ['an unknown symbol', { symbol: 'NOSUCHUSDT' }, -1121],
])('%s is REJECTED with the Binance code and message, and the invocation returns', async (_name, fields, code) => {
  const event = riskEvent(fields);
  await expect(guard.invoke(event)).resolves.toEqual({ eventId: event.eventId, outcomes: [expect.objectContaining({ status: 'REJECTED' })] });
  const [outcome] = await guard.readOutcomes(1);
  expect(outcome!.body).toMatchObject({ status: 'REJECTED', error: { code, message: expect.stringMatching(new RegExp(`^Binance ${code}: `)), retryable: false } });
});

// Issue 8, case 6: an operator-side problem never destroys the event.
test('a key Binance refuses (-2015) or a wrong secret (-1022) is never REJECTED: retried once with fresh credentials, then handed back; a rotated key works at once in a warm container', async () => {
  const good = loadTestCredentials()['desk-1'] as { apiKey: string; apiSecret: string };
  const secrets = {
    'unknown-key': { apiKey: `LocalSimTestOnly${'x'.repeat(48)}`, apiSecret: 'whatever' },
    'wrong-secret': { apiKey: good.apiKey, apiSecret: 'not-the-secret' },
  };
  for (const [accountId, secret] of Object.entries(secrets)) {
    await guard.aws.clients.secretsManager.send(new CreateSecretCommand({ Name: `leverage-guard/${accountId}`, SecretString: JSON.stringify(secret) }));
  }
  for (const [accountId, code] of [['unknown-key', '-2015'], ['wrong-secret', '-1022']] as const) {
    const failed = await guard.invoke(riskEvent({ accountId, symbol: 'ETHUSDT', leverage: 4 })).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(InvocationError);
    expect((failed as InvocationError).message).toContain(code);
  }
  // Each refused call was made twice: once with the cached key, once with the key fetched again.
  expect(posts(guard).map((r) => r.status >= 400)).toEqual([true, true, true, true]);
  expect(await guard.readOutcomes(1, 1000)).toEqual([]);

  // The operator rotates the secret; the same warm container uses it on the next delivery.
  await guard.aws.clients.secretsManager.send(new PutSecretValueCommand({ SecretId: 'leverage-guard/unknown-key', SecretString: JSON.stringify(good) }));
  const rotated = riskEvent({ accountId: 'unknown-key', symbol: 'ETHUSDT', leverage: 4 });
  await expect(guard.invoke(rotated)).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  expect((await guard.readOutcomes(1))[0]!.body).toMatchObject({ eventId: rotated.eventId, status: 'APPLIED' });
});

