/**
 * The DynamoDB state store against the in-memory DynamoDB (local/aws/in-memory-dynamodb.ts: the
 * conditions, updates and transactions evaluated as DynamoDB does; the same behaviour runs against
 * moto in tests/integration/local-aws/state-store-moto.test.ts). Every test also counts the
 * requests: a target that changes leverage costs two (the claim; the release with its decision).
 */
import { AwsServiceError, type AwsJsonCall } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../../functions/adapters/dynamodb/state-store.ts';
import { PermanentError, RetryableError, SkipDecision } from '../../../../functions/domain/errors.ts';
import type { Verdict } from '../../../../functions/domain/outcome.ts';
import type { Claim, ClaimRequest, EarlierDecision, TargetRef } from '../../../../functions/domain/ports.ts';
import { FakeDynamoDb, type Item } from '../../../../local/aws/in-memory-dynamodb.ts';
import { answerFromTable } from '../../../support/dynamodb-table-call.ts';
import { rejectionOf } from '../../../support/fakes.ts';

const TABLE = 'leverage-guard-state';
const T0 = Date.UTC(2026, 10, 25, 10, 0, 0) + 750; // mid-second: seconds are rounded down
const REF: TargetRef = { eventId: 'evt-1', accountId: 'desk-2', symbol: 'BTCUSDT' };
const ISSUED_MS = Date.parse('2026-11-25T09:59:00Z');
const REQUEST: ClaimRequest = { issuedAtMs: ISSUED_MS, leverage: 5, leaseMs: 15_000 };
const KEY_PK = 'key#desk-2#BTCUSDT';
const DONE_PK = 'done#desk-2#BTCUSDT#evt-1';
const DAY_S = 86_400;

/** One shared table; each `store()` is another container's adapter with the shared clock. */
function world() {
  const table = new FakeDynamoDb();
  const clock = { now: T0 };
  const requests: string[] = [];
  const faults: ((operation: string, input: object) => Error | undefined)[] = [];
  const call = (async (operation: string, input: object) => {
    requests.push(operation);
    const fault = faults.shift()?.(operation, input);
    if (fault) throw fault;
    return answerFromTable(table, operation, input);
  }) as AwsJsonCall;
  let tokens = 0;
  const store = () => new DynamoDbStateStore(call, TABLE, () => clock.now, () => `token-${++tokens}`);
  const item = (pk: string): Item | undefined => table.items(TABLE).find((i) => 'S' in i.pk! && i.pk.S === pk);
  /** Requests made by `run`, by operation. */
  const counted = async <T>(run: () => Promise<T>): Promise<[T, string[]]> => {
    const before = requests.length;
    const result = await run();
    return [result, requests.slice(before)];
  };
  return { table, clock, requests, faults, call, store, item, counted };
}

async function claimed(claim: Promise<Claim>) {
  const result = await claim;
  if (result.status !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
  return result;
}

const newer = (eventId: string, ms = 60_000): [TargetRef, ClaimRequest] => [{ ...REF, eventId }, { ...REQUEST, issuedAtMs: ISSUED_MS + ms, leverage: 3 }];
const older = (eventId: string, ms = 60_000): [TargetRef, ClaimRequest] => [{ ...REF, eventId }, { ...REQUEST, issuedAtMs: ISSUED_MS - ms, leverage: 8 }];

describe('DynamoDbStateStore: two requests per target that changes leverage', () => {
  test('the claim is one transaction; it holds the key and marks the event in flight with what it will set', async () => {
    const w = world();
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect(claim.status).toBe('claimed');
    expect(requests).toEqual(['TransactWriteItems']);
    expect(w.item(KEY_PK)).toMatchObject({
      lockOwner: { S: 'evt-1' }, lockToken: { S: 'token-1' }, lockedUntil: { N: String(T0 + 15_000) },
      pendingEventId: { S: 'evt-1' }, pendingIssuedAtMs: { N: String(ISSUED_MS) }, pendingLeverage: { N: '5' },
    });
    expect(w.item(DONE_PK)).toBeUndefined();
  });

  test('the release frees the key, records the applied change and the decision, in one transaction', async () => {
    const w = world();
    const claim = await claimed(w.store().claim(REF, REQUEST));
    const [, requests] = await w.counted(() => claim.release('applied', { published: true }));
    expect(requests).toEqual(['TransactWriteItems']);
    const key = w.item(KEY_PK)!;
    expect(key).toMatchObject({ lastEventId: { S: 'evt-1' }, lastIssuedAtMs: { N: String(ISSUED_MS) }, lastIssuedAt: { S: '2026-11-25T09:59:00.000Z' } });
    expect(Object.keys(key).filter((name) => name.startsWith('lock') || name.startsWith('pending'))).toEqual([]);
    expect(w.item(DONE_PK)).toEqual({ pk: { S: DONE_PK }, expiresAt: { N: String(Math.floor(T0 / 1000) + 15 * DAY_S) } });
  });

  test('a redelivery of a decided target learns it from its claim: one request, nothing claimed', async () => {
    const w = world();
    await (await claimed(w.store().claim(REF, REQUEST))).release('applied', { published: true });
    w.clock.now += 60_000;
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect(claim).toEqual({ status: 'decided-earlier', decision: { published: true } });
    expect(requests).toEqual(['TransactWriteItems']);
    expect(w.item(KEY_PK)?.lockOwner).toBeUndefined();
  });

  test.each<[string, Verdict]>([
    ['APPLIED, capped', { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', currentLeverage: 20, capped: true }],
    ['DRY_RUN', { status: 'DRY_RUN', leverage: 3, currentLeverage: 10 }],
  ])('an owed %s verdict, recorded with the release, comes back unchanged with the next claim', async (_name, verdict) => {
    const w = world();
    await (await claimed(w.store().claim(REF, REQUEST))).release('applied', { published: false, verdict });
    await expect(w.store().claim(REF, REQUEST)).resolves.toEqual({ status: 'decided-earlier', decision: { published: false, verdict } });
  });

  test('an owed SKIPPED verdict comes back with a SkipDecision of the same code, message and leverage', async () => {
    const w = world();
    const verdict: Verdict = { status: 'SKIPPED', error: new SkipDecision('NOT_A_REDUCTION', 'current 3 is not above 5', 3), currentLeverage: 3 };
    await (await claimed(w.store().claim(REF, REQUEST))).release('not-applied', { published: false, verdict });
    const claim = await w.store().claim(REF, REQUEST);
    if (claim.status !== 'decided-earlier' || claim.decision.published || !('error' in claim.decision.verdict)) throw new Error(JSON.stringify(claim));
    const { error } = claim.decision.verdict;
    expect([error instanceof SkipDecision, error.code, error.message, (error as SkipDecision).currentLeverage]).toEqual([true, 'NOT_A_REDUCTION', 'current 3 is not above 5', 3]);
  });

  test('an owed REJECTED verdict comes back with a PermanentError keeping a numeric Binance code', async () => {
    const w = world();
    await w.store().recordDecision(REF, { published: false, verdict: { status: 'REJECTED', error: new PermanentError(-2027, 'Exceeded the maximum allowable position') } });
    const claim = await w.store().claim(REF, REQUEST);
    if (claim.status !== 'decided-earlier' || claim.decision.published || !('error' in claim.decision.verdict)) throw new Error(JSON.stringify(claim));
    expect([claim.decision.verdict.error instanceof PermanentError, claim.decision.verdict.error instanceof SkipDecision, claim.decision.verdict.error.code]).toEqual([true, false, -2027]);
  });

  test.each([
    ['not JSON', '{"status":"APPLI'],
    ['JSON null', 'null'],
    ['APPLIED without a leverage', '{"status":"APPLIED"}'],
    ['SKIPPED without its error', '{"status":"SKIPPED"}'],
    ['FAILED (never recorded as decided)', '{"status":"FAILED","error":{"code":"X","message":"m"}}'],
  ])('a decision item whose verdict does not decode (%s): RetryableError STATE_STORE_UNAVAILABLE, never guessed at', async (_name, verdict) => {
    const w = world();
    w.table.handle('PutItem', { TableName: TABLE, Item: { pk: { S: DONE_PK }, expiresAt: { N: String(Math.floor(T0 / 1000) + 60) }, verdict: { S: verdict } } });
    const error = await rejectionOf<RetryableError>(w.store().claim(REF, REQUEST));
    expect([error instanceof RetryableError, error.code]).toEqual([true, 'STATE_STORE_UNAVAILABLE']);
    expect(w.item(KEY_PK)).toBeUndefined();
  });

  test.each([
    ['expires this second (TTL deletion lags)', 0],
    ['expired an hour ago', -3600],
  ])('a decision item that %s does not count: the claim goes ahead', async (_name, offsetS) => {
    const w = world();
    w.table.handle('PutItem', { TableName: TABLE, Item: { pk: { S: DONE_PK }, expiresAt: { N: String(Math.floor(T0 / 1000) + offsetS) } } });
    expect((await w.store().claim(REF, REQUEST)).status).toBe('claimed');
  });
});

describe('DynamoDbStateStore: refusals come with the claim, never a second read', () => {
  test('a newer change was applied: superseded, with its issuedAt', async () => {
    const w = world();
    const [ref, request] = newer('evt-2');
    await (await claimed(w.store().claim(ref, request))).release('applied', { published: true });
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect(claim).toEqual({ status: 'superseded', newerIssuedAtMs: ISSUED_MS + 60_000 });
    expect(requests).toEqual(['TransactWriteItems']);
  });

  test('an equally old or older change was applied: claimed', async () => {
    const w = world();
    const [ref, request] = older('evt-0', 0);
    await (await claimed(w.store().claim(ref, request))).release('applied', { published: true });
    expect((await w.store().claim(REF, REQUEST)).status).toBe('claimed');
  });

  test('a newer event holds the key: newer-in-flight with its leverage, lease active', async () => {
    const w = world();
    await claimed(w.store().claim(...newer('evt-2')));
    await expect(w.store().claim(REF, REQUEST)).resolves.toEqual({ status: 'newer-in-flight', eventId: 'evt-2', issuedAtMs: ISSUED_MS + 60_000, leverage: 3, leaseActive: true });
  });

  test('a newer event left the key in flight and its lease ran out: leaseActive false; taking it over names it', async () => {
    const w = world();
    await (await claimed(w.store().claim(...newer('evt-2')))).release('retrying', undefined);
    w.clock.now += 1;
    await expect(w.store().claim(REF, REQUEST)).resolves.toMatchObject({ status: 'newer-in-flight', eventId: 'evt-2', leaseActive: false });
    expect((await w.store().claim(REF, { ...REQUEST, replacing: 'evt-2' })).status).toBe('claimed');
    expect(w.item(KEY_PK)?.pendingEventId).toEqual({ S: 'evt-1' });
  });

  test('replacing a marker that is no longer there is refused (someone else took the key meanwhile)', async () => {
    const w = world();
    await (await claimed(w.store().claim(...newer('evt-2')))).release('retrying', undefined);
    await expect(w.store().claim(REF, { ...REQUEST, replacing: 'evt-9' })).resolves.toMatchObject({ status: 'newer-in-flight', eventId: 'evt-2' });
  });

  test('an older event holds the key: KEY_BUSY, retried', async () => {
    const w = world();
    await claimed(w.store().claim(...older('evt-0')));
    const error = await rejectionOf<RetryableError>(w.store().claim(REF, REQUEST));
    expect([error.code, error.message]).toEqual(['KEY_BUSY', 'event evt-0 is changing BTCUSDT on desk-2 right now']);
  });

  test('an older event left the key in flight, its lease over: older-in-flight (read back before taking it over)', async () => {
    const w = world();
    await (await claimed(w.store().claim(...older('evt-0')))).release('retrying', undefined);
    await expect(w.store().claim(REF, REQUEST)).resolves.toEqual({ status: 'older-in-flight', eventId: 'evt-0', issuedAtMs: ISSUED_MS - 60_000, leverage: 8 });
  });

  test('an event without issuedAt never overwrites another event\'s in-flight marker unseen', async () => {
    const w = world();
    await (await claimed(w.store().claim(...newer('evt-2')))).release('retrying', undefined);
    await expect(w.store().claim(REF, { leverage: 5, leaseMs: 15_000 })).resolves.toEqual({ status: 'older-in-flight', eventId: 'evt-2', issuedAtMs: ISSUED_MS + 60_000, leverage: 3 });
  });

  test('taking over an older event whose change was found in force records its APPLIED decision with the claim', async () => {
    const w = world();
    const [olderRef, olderRequest] = older('evt-0');
    await (await claimed(w.store().claim(olderRef, olderRequest))).release('retrying', undefined);
    const [claim, requests] = await w.counted(() => w.store().claim(REF, { ...REQUEST, replacing: 'evt-0', replacedApplied: { leverage: 8 } }));
    expect([claim.status, requests]).toEqual(['claimed', ['TransactWriteItems']]);
    await expect(w.store().claim(olderRef, olderRequest)).resolves.toEqual({ status: 'decided-earlier', decision: { published: false, verdict: { status: 'APPLIED', leverage: 8 } } });
  });

  test.each([
    ['APPLIED', { S: 'evt-0' }],
    ['SKIPPED', undefined],
  ] as const)('an older event whose decision (%s) was written on its own: the key records its change only if it applied', async (status, lastEventId) => {
    const w = world();
    const [olderRef, olderRequest] = older('evt-0');
    await (await claimed(w.store().claim(olderRef, olderRequest))).release('retrying', undefined);
    await w.store().recordDecision(olderRef, { published: true, status });
    expect((await w.store().claim(REF, { ...REQUEST, replacing: 'evt-0', replacedApplied: { leverage: 8, issuedAtMs: ISSUED_MS - 60_000 } })).status).toBe('claimed');
    expect(w.item(KEY_PK)?.lastEventId).toEqual(lastEventId);
    await expect(w.store().earlierDecision(olderRef)).resolves.toEqual({ published: true, status });
  });

  test('an older event that recorded its own decision meanwhile keeps it; the key is taken all the same', async () => {
    const w = world();
    const [olderRef, olderRequest] = older('evt-0');
    await (await claimed(w.store().claim(olderRef, olderRequest))).release('retrying', undefined);
    await w.store().recordDecision(olderRef, { published: true });
    expect((await w.store().claim(REF, { ...REQUEST, replacing: 'evt-0', replacedApplied: { leverage: 8 } })).status).toBe('claimed');
    await expect(w.store().earlierDecision(olderRef)).resolves.toEqual({ published: true });
  });

  test('another delivery of this event holds the lease: SAME_EVENT_IN_FLIGHT', async () => {
    const w = world();
    await claimed(w.store().claim(REF, REQUEST));
    const error = await rejectionOf<RetryableError>(w.store().claim(REF, REQUEST));
    expect(error.code).toBe('SAME_EVENT_IN_FLIGHT');
  });

  test('this event left the key in flight on an earlier delivery: claimed again, seen before as in flight (two requests)', async () => {
    const w = world();
    await (await claimed(w.store().claim(REF, REQUEST))).release('retrying', undefined);
    w.clock.now += 1;
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect(claim).toMatchObject({ status: 'claimed', seenBefore: 'in-flight' });
    expect(requests).toEqual(['TransactWriteItems', 'TransactWriteItems']);
  });

  test('the lease of a crashed holder of this event ran out: claimed again, seen before as in flight', async () => {
    const w = world();
    await claimed(w.store().claim(REF, REQUEST));
    w.clock.now += 15_001;
    await expect(w.store().claim(REF, REQUEST)).resolves.toMatchObject({ status: 'claimed', seenBefore: 'in-flight' });
  });

  test('its own change is the last applied but its decision item is gone: applied-earlier', async () => {
    const w = world();
    await (await claimed(w.store().claim(REF, REQUEST))).release('applied', undefined);
    await claimed(w.store().claim(...newer('evt-2')));
    await expect(w.store().claim(REF, REQUEST)).resolves.toEqual({ status: 'applied-earlier' });
  });

  test('a refusal without the item (ReturnValuesOnConditionCheckFailure not honoured) reads it', async () => {
    const w = world();
    await (await claimed(w.store().claim(...newer('evt-2')))).release('applied', { published: true });
    w.faults.push((operation) =>
      operation === 'TransactWriteItems'
        ? new AwsServiceError('TransactionCanceledException', 'cancelled', 400, { CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }] })
        : undefined,
    );
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect([claim, requests]).toEqual([{ status: 'superseded', newerIssuedAtMs: ISSUED_MS + 60_000 }, ['TransactWriteItems', 'GetItem']]);
  });

  test('another transaction on the key at the same moment (TransactionConflict): KEY_BUSY, retried', async () => {
    const w = world();
    w.faults.push(() => new AwsServiceError('TransactionCanceledException', 'cancelled', 400, { CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }] }));
    const error = await rejectionOf<RetryableError>(w.store().claim(REF, REQUEST));
    expect([error instanceof RetryableError, error.code]).toEqual([true, 'KEY_BUSY']);
  });
});

describe('DynamoDbStateStore: release', () => {
  test('retrying keeps the event marked in flight (its change may have executed); the lease is freed', async () => {
    const w = world();
    await (await claimed(w.store().claim(REF, REQUEST))).release('retrying', undefined);
    const key = w.item(KEY_PK)!;
    expect([key.pendingEventId, key.pendingLeverage, key.lockOwner, key.lockToken, key.lastEventId]).toEqual([{ S: 'evt-1' }, { N: '5' }, undefined, undefined, undefined]);
  });

  test('not-applied forgets the event; without a decision it is one UpdateItem', async () => {
    const w = world();
    const claim = await claimed(w.store().claim(REF, REQUEST));
    const [, requests] = await w.counted(() => claim.release('not-applied', undefined));
    expect(requests).toEqual(['UpdateItem']);
    expect(Object.keys(w.item(KEY_PK)!).sort()).toEqual(['expiresAt', 'pk']);
  });

  test('a lost lease changes nothing on the key, and the decision is still recorded', async () => {
    const w = world();
    const first = await claimed(w.store().claim(REF, REQUEST));
    w.clock.now += 15_001;
    await claimed(w.store().claim(REF, REQUEST)); // another delivery took the key over (its second try: token-3)
    const [, requests] = await w.counted(() => first.release('applied', { published: true }));
    expect(requests).toEqual(['TransactWriteItems', 'PutItem']);
    expect([w.item(KEY_PK)?.lockToken, w.item(KEY_PK)?.lastEventId]).toEqual([{ S: 'token-3' }, undefined]);
    expect(w.item(DONE_PK)).toBeDefined();
  });

  test('a failed release is tried once more (safe: a repeat is refused by the token) and then succeeds', async () => {
    const w = world();
    const claim = await claimed(w.store().claim(REF, REQUEST));
    w.faults.push(() => new AwsServiceError('InternalServerError', 'try again', 500));
    const [, requests] = await w.counted(() => claim.release('applied', { published: true }));
    expect(requests).toEqual(['TransactWriteItems', 'TransactWriteItems']);
    expect([w.item(KEY_PK)?.lastEventId, w.item(DONE_PK) !== undefined]).toEqual([{ S: 'evt-1' }, true]);
  });

  test('a release whose first try applied but lost its reply: the repeat is refused by the token, the decision is recorded once more', async () => {
    const w = world();
    const claim = await claimed(w.store().claim(REF, REQUEST));
    w.faults.push((operation, input) => {
      w.table.handle(operation, input as Parameters<FakeDynamoDb['handle']>[1]);
      return new AwsServiceError('InternalServerError', 'reply lost', 500);
    });
    const [, requests] = await w.counted(() => claim.release('applied', { published: true }));
    expect(requests).toEqual(['TransactWriteItems', 'TransactWriteItems', 'PutItem']);
    expect([w.item(KEY_PK)?.lastEventId, w.item(KEY_PK)?.lockToken, w.item(DONE_PK) !== undefined]).toEqual([{ S: 'evt-1' }, undefined, true]);
  });

  test('a release that fails twice: the key stays in flight, the decision is written on its own, the failure is reported', async () => {
    const w = world();
    const claim = await claimed(w.store().claim(REF, REQUEST));
    w.faults.push(() => new AwsServiceError('InternalServerError', 'try again', 500), () => new AwsServiceError('InternalServerError', 'try again', 500));
    const error = await rejectionOf<RetryableError>(claim.release('applied', { published: true }));
    expect(error.code).toBe('STATE_STORE_UNAVAILABLE');
    expect([w.item(KEY_PK)?.pendingEventId, w.item(KEY_PK)?.lastEventId, w.item(DONE_PK) !== undefined]).toEqual([{ S: 'evt-1' }, undefined, true]);
  });

  test('a claim whose reply was lost is recognised by its own token on the key', async () => {
    const w = world();
    w.faults.push((operation, input) => {
      w.table.handle(operation, input as Parameters<FakeDynamoDb['handle']>[1]);
      return new AwsServiceError('InternalServerError', 'reply lost', 500);
    });
    const [claim, requests] = await w.counted(() => w.store().claim(REF, REQUEST));
    expect([claim.status, requests]).toEqual(['claimed', ['TransactWriteItems', 'GetItem']]);
  });

  test('a claim that failed without effect is reported, never assumed made', async () => {
    const w = world();
    w.faults.push(() => new AwsServiceError('InternalServerError', 'down', 500));
    const error = await rejectionOf<RetryableError>(w.store().claim(REF, REQUEST));
    expect(error.code).toBe('STATE_STORE_UNAVAILABLE');
    expect(w.item(KEY_PK)).toBeUndefined();
  });

  test('a take-over that finds the older change in force records it on the key too: a still older event is superseded', async () => {
    const w = world();
    const [olderRef, olderRequest] = older('evt-0');
    await (await claimed(w.store().claim(olderRef, olderRequest))).release('retrying', undefined);
    const taken = await claimed(w.store().claim(REF, { ...REQUEST, replacing: 'evt-0', replacedApplied: { leverage: 8, issuedAtMs: ISSUED_MS - 60_000 } }));
    expect([w.item(KEY_PK)?.lastEventId, w.item(KEY_PK)?.lastIssuedAtMs]).toEqual([{ S: 'evt-0' }, { N: String(ISSUED_MS - 60_000) }]);
    await taken.release('not-applied', { published: true });
    await expect(w.store().claim(...older('evt-old', 120_000))).resolves.toEqual({ status: 'superseded', newerIssuedAtMs: ISSUED_MS - 60_000 });
  });

  test('a claim that names a marker gone meanwhile claims the key as it is', async () => {
    const w = world();
    const [ref, request] = older('evt-0');
    const marker = await claimed(w.store().claim(ref, request));
    await marker.release('not-applied', undefined);
    await expect(w.store().claim(REF, { ...REQUEST, replacing: 'evt-0' })).resolves.toMatchObject({ status: 'claimed' });
  });

  test('an event without issuedAt: applied without an issuedAt, never superseding anything', async () => {
    const w = world();
    await (await claimed(w.store().claim(REF, { leverage: 5, leaseMs: 15_000 }))).release('applied', { published: true });
    expect([w.item(KEY_PK)?.lastEventId, w.item(KEY_PK)?.lastIssuedAtMs]).toEqual([{ S: 'evt-1' }, undefined]);
    expect((await w.store().claim(...older('evt-0'))).status).toBe('claimed');
  });
});

describe('DynamoDbStateStore: decisions made without a claim, and the dry run\'s history', () => {
  test('recordDecision is one PutItem kept 15 days; earlierDecision one consistent GetItem', async () => {
    const w = world();
    const verdict: Verdict = { status: 'REJECTED', error: new PermanentError('ISSUED_IN_FUTURE', 'issuedAt is 600 s in the future') };
    const [, writes] = await w.counted(() => w.store().recordDecision(REF, { published: false, verdict }));
    const [decision, reads] = await w.counted(() => w.store().earlierDecision(REF));
    expect([writes, reads]).toEqual([['PutItem'], ['GetItem']]);
    expect((decision as Extract<EarlierDecision, { published: false }>).verdict).toMatchObject({ status: 'REJECTED', error: { code: 'ISSUED_IN_FUTURE' } });
    expect(w.item(DONE_PK)?.expiresAt).toEqual({ N: String(Math.floor(T0 / 1000) + 15 * DAY_S) });
  });

  test('a decision keeps the command it decided, so another command under the same eventId is told apart', async () => {
    const w = world();
    const command = 'real run, set 5x, issued 2026-11-25T09:59:00Z';
    await (await claimed(w.store().claim(REF, REQUEST))).release('applied', { published: true, command });
    await expect(w.store().claim(REF, REQUEST)).resolves.toEqual({ status: 'decided-earlier', decision: { published: true, command } });
    await w.store().recordDecision({ ...REF, eventId: 'evt-2' }, { published: false, verdict: { status: 'DRY_RUN', leverage: 5, currentLeverage: 9 }, command: 'dry run' });
    await expect(w.store().earlierDecision({ ...REF, eventId: 'evt-2' })).resolves.toEqual({ published: false, verdict: { status: 'DRY_RUN', leverage: 5, currentLeverage: 9 }, command: 'dry run' });
  });

  test('history: the earlier decision and the last applied issuedAt in one request', async () => {
    const w = world();
    await (await claimed(w.store().claim(...newer('evt-2')))).release('applied', { published: true });
    await w.store().recordDecision(REF, { published: true });
    const [history, requests] = await w.counted(() => w.store().history(REF));
    expect([history, requests]).toEqual([{ earlier: { published: true }, lastAppliedIssuedAtMs: ISSUED_MS + 60_000 }, ['TransactGetItems']]);
    await expect(world().store().history(REF)).resolves.toEqual({});
  });
});

describe('DynamoDbStateStore: failures', () => {
  const operations: [string, (store: DynamoDbStateStore) => Promise<unknown>][] = [
    ['claim', (store) => store.claim(REF, REQUEST)],
    ['earlierDecision', (store) => store.earlierDecision(REF)],
    ['recordDecision', (store) => store.recordDecision(REF, { published: true })],
    ['history', (store) => store.history(REF)],
  ];

  test.each(operations)('%s: a service error becomes RetryableError STATE_STORE_UNAVAILABLE', async (_name, operation) => {
    const w = world();
    w.faults.push(() => new AwsServiceError('ProvisionedThroughputExceededException', 'Rate of requests exceeds the allowed throughput', 400));
    const error = await rejectionOf<RetryableError>(operation(w.store()));
    expect([error instanceof RetryableError, error.code]).toEqual([true, 'STATE_STORE_UNAVAILABLE']);
  });

  test.each(operations)('%s: a RetryableError passes through untouched', async (_name, operation) => {
    const w = world();
    const own = new RetryableError('TIMEOUT', 'no response');
    w.faults.push(() => own);
    expect(await rejectionOf(operation(w.store()))).toBe(own);
  });

  test('every call gets the caller\'s deadline, the release included', async () => {
    const deadlines: unknown[] = [];
    const w = world();
    const call = ((operation: string, input: object, deadline?: unknown) => (deadlines.push(deadline), w.call(operation, input))) as AwsJsonCall;
    const store = new DynamoDbStateStore(call, TABLE, () => T0);
    const deadline = { remainingMs: () => 1234 };
    const later = { remainingMs: () => 567 };
    await store.earlierDecision(REF, deadline);
    await store.recordDecision({ ...REF, eventId: 'evt-0' }, { published: true }, deadline);
    await store.history(REF, deadline);
    await (await claimed(store.claim(REF, REQUEST, deadline))).release('applied', { published: true }, later);
    expect(deadlines).toEqual([deadline, deadline, deadline, deadline, later]);
  });
});
