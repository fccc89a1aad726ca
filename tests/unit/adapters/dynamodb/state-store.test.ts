import { AwsServiceError, type AwsJsonCall } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../../functions/adapters/dynamodb/state-store.ts';
import { PermanentError, RetryableError, SkipDecision } from '../../../../functions/domain/errors.ts';
import type { Verdict } from '../../../../functions/domain/outcome.ts';
import type { Claim, ClaimRequest, EarlierDecision, TargetRef } from '../../../../functions/domain/ports.ts';
import { answer, play, raise, rejectionOf, type Reply } from '../../../support/fakes.ts';

const TABLE = 'leverage-guard-state';
const NOW = Date.UTC(2026, 10, 25, 10, 0, 0) + 750; // mid-second: seconds are rounded down
const NOW_SECONDS = Math.floor(NOW / 1000);
const REF: TargetRef = { eventId: 'evt-1', accountId: 'desk-2', symbol: 'BTCUSDT' };
const ISSUED_MS = Date.parse('2026-11-25T09:59:00Z');
const REQUEST: ClaimRequest = { issuedAtMs: ISSUED_MS, leverage: 5, leaseMs: 15_000 };
const UNORDERED: ClaimRequest = { leverage: 5, leaseMs: 15_000 };
const KEY = { pk: { S: 'key#desk-2#BTCUSDT' } };
const DONE = { pk: { S: 'done#desk-2#BTCUSDT#evt-1' } };
// A lease is one delivery's (its token), so a second delivery of the same event does not share it.
const FREE = '(attribute_not_exists(lockedUntil) OR lockedUntil < :now)';
const TOKEN = 'claim-token-1';
const IN_ORDER =
  ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)' +
  ' AND (attribute_not_exists(pendingIssuedAtMs) OR pendingIssuedAtMs <= :issued)';
const IN_ORDER_REPLACING =
  ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)' +
  ' AND (attribute_not_exists(pendingIssuedAtMs) OR pendingIssuedAtMs <= :issued OR pendingEventId = :replacing)';

const conditionFailed = () => new AwsServiceError('ConditionalCheckFailedException', 'The conditional request failed', 400);
const throttled = () => new AwsServiceError('ProvisionedThroughputExceededException', 'Rate of requests exceeds the allowed throughput', 400);

/** A scripted AwsJsonCall: records [operation, input]; answers from its script, then `{}`. */
function storeWith(...replies: Reply<unknown>[]) {
  const requests: [string, object][] = [];
  const call = (async (operation: string, input: object) => {
    requests.push([operation, input]);
    return play(replies.shift() ?? answer({}));
  }) as AwsJsonCall;
  return { requests, store: new DynamoDbStateStore(call, TABLE, () => NOW, () => TOKEN) };
}

const getItem = (Key: object) => ['GetItem', { TableName: TABLE, Key, ConsistentRead: true }];
const keyItem = (attributes: Record<string, { S: string } | { N: string }>) => answer({ Item: { ...KEY, ...attributes } });
const n = (value: number) => ({ N: String(value) });
const s = (value: string) => ({ S: value });

async function claimed(claim: Promise<Claim>) {
  const result = await claim;
  if (result.status !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
  return result;
}

describe('DynamoDbStateStore: earlier decisions', () => {
  test.each([
    ['a published record that expires later', { Item: { ...DONE, expiresAt: n(NOW_SECONDS + 1) } }, { published: true }],
    ['a record that expires this second (TTL deletion lags)', { Item: { ...DONE, expiresAt: n(NOW_SECONDS) } }, undefined],
    ['an expired record', { Item: { ...DONE, expiresAt: n(NOW_SECONDS - 3600) } }, undefined],
    ['an expired record that still owes its outcome', { Item: { ...DONE, expiresAt: n(NOW_SECONDS - 1), verdict: s('{"status":"APPLIED","leverage":5}') } }, undefined],
    ['a record without expiresAt', { Item: DONE }, undefined],
    ['no record', {}, undefined],
    ['a record that owes its outcome', { Item: { ...DONE, expiresAt: n(NOW_SECONDS + 1), verdict: s('{"status":"APPLIED","leverage":5,"maxNotionalValue":"100"}') } },
      { published: false, verdict: { status: 'APPLIED', leverage: 5, maxNotionalValue: '100' } }],
  ])('earlierDecision with %s', async (_name, reply, decision) => {
    const { requests, store } = storeWith(answer(reply));
    await expect(store.earlierDecision(REF)).resolves.toEqual(decision);
    expect(requests).toEqual([getItem(DONE)]);
  });

  test.each([
    ['not JSON', '{"status":"APPLI'],
    ['JSON null', 'null'],
    ['an empty object', '{}'],
    ['a number', '42'],
    ['SKIPPED without its error', '{"status":"SKIPPED"}'],
    ['APPLIED without a leverage', '{"status":"APPLIED"}'],
    ['FAILED (never recorded as decided)', '{"status":"FAILED","error":{"code":"X","message":"m"}}'],
  ])('an owed verdict that does not decode (%s): RetryableError STATE_STORE_UNAVAILABLE, never guessed at', async (_name, verdict) => {
    const { store } = storeWith(answer({ Item: { ...DONE, expiresAt: n(NOW_SECONDS + 1), verdict: s(verdict) } }));
    const error = await rejectionOf<RetryableError>(store.earlierDecision(REF));
    expect([error instanceof RetryableError, error.code]).toEqual([true, 'STATE_STORE_UNAVAILABLE']);
    expect(error.message).toMatch(/^the state table could not be used \((SyntaxError|Error): /);
  });

  test('a published decision is recorded for 15 days (longer than a DLQ keeps the event) without a verdict', async () => {
    const { requests, store } = storeWith();
    await expect(store.recordDecision(REF, { published: true })).resolves.toBeUndefined();
    expect(requests).toEqual([['PutItem', { TableName: TABLE, Item: { ...DONE, expiresAt: n(NOW_SECONDS + 15 * 86_400) } }]]);
  });

  test('an owed decision is recorded for 15 days with its verdict as JSON', async () => {
    const { requests, store } = storeWith();
    const verdict: Verdict = { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', currentLeverage: 20, capped: true };
    await store.recordDecision(REF, { published: false, verdict });
    expect(requests).toEqual([
      ['PutItem', { TableName: TABLE, Item: { ...DONE, expiresAt: n(NOW_SECONDS + 15 * 86_400), verdict: s(JSON.stringify(verdict)) } }],
    ]);
  });

  /** Records the decision, then reads back the item exactly as it was put. */
  async function roundTrip(verdict: Verdict): Promise<EarlierDecision | undefined> {
    const writer = storeWith();
    await writer.store.recordDecision(REF, { published: false, verdict });
    const [, put] = writer.requests[0] as [string, { Item: object }];
    return storeWith(answer({ Item: put.Item })).store.earlierDecision(REF);
  }

  test.each<[string, Verdict]>([
    ['APPLIED, capped', { status: 'APPLIED', leverage: 5, maxNotionalValue: '250000', currentLeverage: 20, capped: true }],
    ['APPLIED, read back (no maxNotionalValue)', { status: 'APPLIED', leverage: 5 }],
    ['DRY_RUN', { status: 'DRY_RUN', leverage: 3, currentLeverage: 10 }],
  ])('an owed %s verdict round-trips unchanged', async (_name, verdict) => {
    await expect(roundTrip(verdict)).resolves.toEqual({ published: false, verdict });
  });

  test('an owed SKIPPED verdict comes back with a SkipDecision of the same code, message and leverage', async () => {
    const decision = await roundTrip({ status: 'SKIPPED', error: new SkipDecision('SUPERSEDED', 'a newer event set 2x', 20), currentLeverage: 20 });
    if (decision?.published !== false || !('error' in decision.verdict)) throw new Error(`expected an owed SKIPPED verdict, got ${JSON.stringify(decision)}`);
    const { error } = decision.verdict;
    expect(error).toBeInstanceOf(SkipDecision);
    expect([decision.verdict.status, decision.verdict.currentLeverage, error.code, error.message, (error as SkipDecision).currentLeverage]).toEqual([
      'SKIPPED', 20, 'SUPERSEDED', 'a newer event set 2x', 20,
    ]);
  });

  test('an owed REJECTED verdict comes back with a PermanentError (not a SkipDecision) keeping a numeric Binance code', async () => {
    const decision = await roundTrip({ status: 'REJECTED', error: new PermanentError(-2027, 'Exceeded the maximum allowable position at current leverage.') });
    if (decision?.published !== false || !('error' in decision.verdict)) throw new Error(`expected an owed REJECTED verdict, got ${JSON.stringify(decision)}`);
    const { error } = decision.verdict;
    expect([error instanceof PermanentError, error instanceof SkipDecision, error.retryable]).toEqual([true, false, false]);
    expect([decision.verdict.status, error.code, error.message]).toEqual(['REJECTED', -2027, 'Exceeded the maximum allowable position at current leverage.']);
  });
});

describe('DynamoDbStateStore: lastAppliedIssuedAtMs', () => {
  test.each([
    ['the recorded instant', { Item: { ...KEY, lastIssuedAt: s('2026-11-25T09:59:00.000Z'), lastIssuedAtMs: n(ISSUED_MS) } }, ISSUED_MS],
    ['a key item that never had a change applied', { Item: { ...KEY, lockOwner: s('evt-0') } }, undefined],
    ['no key item', {}, undefined],
  ])('%s', async (_name, reply, issuedAtMs) => {
    const { requests, store } = storeWith(answer(reply));
    await expect(store.lastAppliedIssuedAtMs(REF)).resolves.toBe(issuedAtMs);
    expect(requests).toEqual([getItem(KEY)]);
  });
});

describe('DynamoDbStateStore: claim', () => {
  const SET = 'SET lockOwner = :owner, lockToken = :token, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner, pendingLeverage = :leverage';
  const common = {
    ':owner': s('evt-1'),
    ':token': s(TOKEN),
    ':now': n(NOW),
    ':until': n(NOW + 15_000),
    ':expires': n(NOW_SECONDS + 30 * 86_400),
    ':leverage': n(5),
  };

  test('with issuedAt: the key must be free and no newer event applied or in flight; the event and its leverage are marked in flight', async () => {
    const { requests, store } = storeWith();
    expect((await store.claim(REF, REQUEST)).status).toBe('claimed');
    expect(requests).toEqual([
      ['UpdateItem', {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression: `${SET}, pendingIssuedAtMs = :issued`,
        ConditionExpression: FREE + IN_ORDER,
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: { ...common, ':issued': n(ISSUED_MS) },
      }],
    ]);
  });

  test('without issuedAt: the key must be free, nothing is ordered, and no stale pending instant is left behind', async () => {
    const { requests, store } = storeWith();
    expect((await store.claim(REF, UNORDERED)).status).toBe('claimed');
    expect(requests).toEqual([
      ['UpdateItem', {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression: `${SET} REMOVE pendingIssuedAtMs`,
        ConditionExpression: FREE,
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: common,
      }],
    ]);
  });

  test('replacing a stale in-flight newer event: only that very event may be newer, and the key must still be free', async () => {
    const { requests, store } = storeWith(answer({ Attributes: { ...KEY, pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 60_000) } }));
    const claim = await claimed(store.claim(REF, { ...REQUEST, replacing: 'evt-9' }));
    expect(claim.seenBefore).toBeUndefined();
    expect(requests).toEqual([
      ['UpdateItem', {
        TableName: TABLE,
        Key: KEY,
        UpdateExpression: `${SET}, pendingIssuedAtMs = :issued`,
        ConditionExpression: FREE + IN_ORDER_REPLACING,
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: { ...common, ':issued': n(ISSUED_MS), ':replacing': s('evt-9') },
      }],
    ]);
  });

  test('replacing without issuedAt: nothing is ordered, so nothing to replace', async () => {
    const { requests, store } = storeWith();
    await claimed(store.claim(REF, { ...UNORDERED, replacing: 'evt-9' }));
    const [, input] = requests[0] as [string, { ConditionExpression: string; ExpressionAttributeValues: object }];
    expect([input.ConditionExpression, input.ExpressionAttributeValues]).toEqual([FREE, common]);
  });

  test.each([
    ['a newer change was applied: superseded, with its instant',
      { lastIssuedAt: s('2026-11-25T10:00:00.000Z'), lastIssuedAtMs: n(ISSUED_MS + 60_000) },
      { status: 'superseded', newerIssuedAtMs: ISSUED_MS + 60_000 }],
    ['a newer change was applied and another is in flight: superseded (the applied one decides)',
      { lastIssuedAtMs: n(ISSUED_MS + 1), pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 2), lockOwner: s('evt-9'), lockedUntil: n(NOW + 1) },
      { status: 'superseded', newerIssuedAtMs: ISSUED_MS + 1 }],
    ['a newer event holds the key: in flight, lease active',
      { lastIssuedAtMs: n(ISSUED_MS - 60_000), pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 1), pendingLeverage: n(2), lockOwner: s('evt-9'), lockedUntil: n(NOW + 10_000) },
      { status: 'newer-in-flight', eventId: 'evt-9', issuedAtMs: ISSUED_MS + 1, leverage: 2, leaseActive: true }],
    ['a newer event whose lease ends this very millisecond: still active (the claim condition needs lockedUntil < now)',
      { pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 1), pendingLeverage: n(2), lockOwner: s('evt-9'), lockedUntil: n(NOW) },
      { status: 'newer-in-flight', eventId: 'evt-9', issuedAtMs: ISSUED_MS + 1, leverage: 2, leaseActive: true }],
    ['a newer event whose lease expired (its container died): in flight, lease not active',
      { pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 1), pendingLeverage: n(2), lockOwner: s('evt-9'), lockedUntil: n(NOW - 1) },
      { status: 'newer-in-flight', eventId: 'evt-9', issuedAtMs: ISSUED_MS + 1, leverage: 2, leaseActive: false }],
    ['a newer event left in flight by a retrying end (no lease): lease not active',
      { pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 1), pendingLeverage: n(2) },
      { status: 'newer-in-flight', eventId: 'evt-9', issuedAtMs: ISSUED_MS + 1, leverage: 2, leaseActive: false }],
    ['a newer event in flight while another event holds the key: not that event\'s lease',
      { pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 1), lockOwner: s('evt-0'), lockedUntil: n(NOW + 10_000) },
      { status: 'newer-in-flight', eventId: 'evt-9', issuedAtMs: ISSUED_MS + 1, leverage: undefined, leaseActive: false }],
  ])('condition failed, %s', async (_name, attributes, expected) => {
    const { requests, store } = storeWith(raise(conditionFailed()), keyItem(attributes));
    await expect(store.claim(REF, REQUEST)).resolves.toEqual(expected);
    expect(requests.map(([operation]) => operation)).toEqual(['UpdateItem', 'GetItem']);
    expect(requests[1]).toEqual(getItem(KEY));
  });

  test('condition failed while replacing, because another newer event took over meanwhile: in flight, naming that one', async () => {
    const { store } = storeWith(
      raise(conditionFailed()),
      keyItem({ pendingEventId: s('evt-10'), pendingIssuedAtMs: n(ISSUED_MS + 5), pendingLeverage: n(3), lockOwner: s('evt-10'), lockedUntil: n(NOW + 15_000) }),
    );
    await expect(store.claim(REF, { ...REQUEST, replacing: 'evt-9' })).resolves.toEqual({
      status: 'newer-in-flight', eventId: 'evt-10', issuedAtMs: ISSUED_MS + 5, leverage: 3, leaseActive: true,
    });
  });

  test.each([
    ['held by another event, same issuedAt applied last', REQUEST, { lockOwner: s('evt-0'), lastIssuedAtMs: n(ISSUED_MS) }, 'evt-0'],
    ['held by another event, older one applied last', REQUEST, { lockOwner: s('evt-0'), lastIssuedAtMs: n(ISSUED_MS - 1) }, 'evt-0'],
    ['held by an event in flight with the same issuedAt', REQUEST, { lockOwner: s('evt-0'), pendingEventId: s('evt-0'), pendingIssuedAtMs: n(ISSUED_MS) }, 'evt-0'],
    ['held by another event, no issuedAt on this one (never superseded)', UNORDERED, { lockOwner: s('evt-0'), lastIssuedAtMs: n(ISSUED_MS + 60_000) }, 'evt-0'],
    ['held by a newer event, no issuedAt on this one (never waits its turn by order)', UNORDERED,
      { lockOwner: s('evt-9'), pendingEventId: s('evt-9'), pendingIssuedAtMs: n(ISSUED_MS + 60_000) }, 'evt-9'],
    ['released in between (no owner any more)', REQUEST, {}, 'unknown'],
  ])('condition failed, %s: RetryableError KEY_BUSY', async (_name, request, attributes, owner) => {
    const { store } = storeWith(raise(conditionFailed()), keyItem(attributes));
    const error = await rejectionOf<RetryableError>(store.claim(REF, request));
    expect([error.constructor.name, error.code, error.message]).toEqual([
      'RetryableError',
      'KEY_BUSY',
      `event ${owner} is changing BTCUSDT on desk-2 right now`,
    ]);
  });

  // Adversary finding A1: two deliveries of one event used to share the lease (owner = eventId).
  test('condition failed while another delivery of this very event holds the key: RetryableError SAME_EVENT_IN_FLIGHT (the duplicate waits)', async () => {
    const { store } = storeWith(raise(conditionFailed()), keyItem({ lockOwner: s('evt-1'), lockToken: s('another-delivery'), pendingEventId: s('evt-1'), pendingIssuedAtMs: n(ISSUED_MS), lockedUntil: n(NOW + 10_000) }));
    const error = await rejectionOf<RetryableError>(store.claim(REF, REQUEST));
    expect([error.code, error.message]).toEqual(['SAME_EVENT_IN_FLIGHT', 'another delivery of this event is changing BTCUSDT on desk-2 right now']);
  });

  test('each claim has a token of its own, and only that token releases the key', async () => {
    const tokens = ['first', 'second'];
    const requests: [string, { ExpressionAttributeValues: Record<string, unknown> }][] = [];
    const call = (async (operation: string, input: object) => {
      requests.push([operation, input as { ExpressionAttributeValues: Record<string, unknown> }]);
      return {};
    }) as AwsJsonCall;
    const store = new DynamoDbStateStore(call, TABLE, () => NOW, () => tokens.shift()!);
    const first = await claimed(store.claim(REF, REQUEST));
    const second = await claimed(store.claim({ ...REF, symbol: 'ETHUSDT' }, REQUEST));
    await first.release('applied');
    await second.release('not-applied');
    expect(requests.map(([, input]) => input.ExpressionAttributeValues[':token'])).toEqual([s('first'), s('second'), s('first'), s('second')]);
  });

  test.each([
    ['a service error', throttled(), 'ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput'],
    ['a network error', new Error('connect ECONNREFUSED 127.0.0.1:4566'), 'Error: connect ECONNREFUSED 127.0.0.1:4566'],
    ['a thrown string', 'socket gone', 'socket gone'],
  ])('%s: RetryableError STATE_STORE_UNAVAILABLE keeping the cause', async (_name, thrown, reason) => {
    const { store } = storeWith(raise(thrown));
    const error = await rejectionOf<RetryableError>(store.claim(REF, REQUEST));
    expect([error.constructor.name, error.code, error.message, error.cause]).toEqual([
      'RetryableError',
      'STATE_STORE_UNAVAILABLE',
      `the state table could not be used (${reason})`,
      thrown,
    ]);
  });

  test('an AWS error naming the role and table ARN: the message keeps neither', async () => {
    const denied = new AwsServiceError(
      'AccessDeniedException',
      'User: arn:aws:sts::123456789012:assumed-role/leverage-guard-prod/fn is not authorized to perform: dynamodb:UpdateItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/leverage-guard-state',
      400,
    );
    const { store } = storeWith(raise(denied));
    const error = await rejectionOf<RetryableError>(store.claim(REF, REQUEST));
    expect(error.message).toBe(
      'the state table could not be used (AccessDeniedException: User: <arn> is not authorized to perform: dynamodb:UpdateItem on resource: <arn>)',
    );
  });

  test('the read after a failed condition failing: STATE_STORE_UNAVAILABLE', async () => {
    const { store } = storeWith(raise(conditionFailed()), raise(throttled()));
    expect((await rejectionOf<RetryableError>(store.claim(REF, REQUEST))).code).toBe('STATE_STORE_UNAVAILABLE');
  });
});

describe('DynamoDbStateStore: the same event seen on an earlier delivery', () => {
  test.each([
    ['the key was last changed by this event', 'applied', { lastEventId: s('evt-1') }],
    ['this event was in flight (retrying)', 'in-flight', { lastEventId: s('evt-0'), pendingEventId: s('evt-1') }],
    ['this event was applied and is marked in flight again (its release failed): applied wins', 'applied', { lastEventId: s('evt-1'), pendingEventId: s('evt-1') }],
    ['the key was last changed by another event', undefined, { lastEventId: s('evt-0') }],
    ['another event is in flight', undefined, { pendingEventId: s('evt-0') }],
    ['the key is new', undefined, undefined],
  ])('%s: seenBefore %s', async (_name, seenBefore, attributes) => {
    const { store } = storeWith(answer(attributes ? { Attributes: { ...KEY, ...attributes } } : {}));
    const claim = await claimed(store.claim(REF, REQUEST));
    expect(claim.seenBefore).toBe(seenBefore);
    expect('seenBefore' in claim).toBe(seenBefore !== undefined);
  });
});

describe('DynamoDbStateStore: release', () => {
  const FORGET_PENDING = 'REMOVE lockOwner, lockToken, lockedUntil, pendingIssuedAtMs, pendingEventId, pendingLeverage';
  const releaseInput = (record: 'issuedAt' | 'event' | 'nothing' | 'keep-pending') => ({
    TableName: TABLE,
    Key: KEY,
    UpdateExpression: {
      issuedAt: `SET lastEventId = :owner, recentApplied = :recent, lastIssuedAtMs = :issuedMs, lastIssuedAt = :issued ${FORGET_PENDING}`,
      event: `SET lastEventId = :owner, recentApplied = :recent ${FORGET_PENDING}`,
      nothing: FORGET_PENDING,
      'keep-pending': 'REMOVE lockOwner, lockToken, lockedUntil',
    }[record],
    ConditionExpression: 'lockToken = :token',
    ExpressionAttributeValues: {
      ':token': s(TOKEN),
      ...(record === 'issuedAt' || record === 'event' ? { ':owner': s('evt-1'), ':recent': s('["evt-1"]') } : {}),
      ...(record === 'issuedAt' ? { ':issuedMs': n(ISSUED_MS), ':issued': s('2026-11-25T09:59:00.000Z') } : {}),
    },
  });

  test.each([
    ['applied, with issuedAt: records the event and its instant, frees the key, ends the in-flight marker', REQUEST, 'applied', 'issuedAt'],
    ['not applied: frees the key and forgets the event and its leverage', REQUEST, 'not-applied', 'nothing'],
    ['retrying: frees the key, the event and its leverage stay in flight', REQUEST, 'retrying', 'keep-pending'],
    ['applied, without issuedAt: records the event, frees the key', UNORDERED, 'applied', 'event'],
    ['retrying, without issuedAt: the event stays in flight', UNORDERED, 'retrying', 'keep-pending'],
  ] as const)('%s', async (_name, request, end, record) => {
    const { requests, store } = storeWith();
    const claim = await claimed(store.claim(REF, request));
    await expect(claim.release(end)).resolves.toBeUndefined();
    expect(requests[1]).toEqual(['UpdateItem', releaseInput(record)]);
    expect(requests).toHaveLength(2);
  });

  test('the recorded instant is the parsed one, whatever offset the producer wrote', async () => {
    const { requests, store } = storeWith();
    const issuedAtMs = Date.parse('2026-11-25T10:59:00.123+01:00');
    const claim = await claimed(store.claim(REF, { ...REQUEST, issuedAtMs }));
    await claim.release('applied');
    const [, input] = requests[1] as [string, { ExpressionAttributeValues: object }];
    expect(input.ExpressionAttributeValues).toEqual({ ':token': s(TOKEN), ':owner': s('evt-1'), ':recent': s('["evt-1"]'), ':issuedMs': n(issuedAtMs), ':issued': s('2026-11-25T09:59:00.123Z') });
  });

  test('a lost lease (someone else holds the key now) is ignored', async () => {
    const { requests, store } = storeWith(answer({}), raise(conditionFailed()));
    const claim = await claimed(store.claim(REF, REQUEST));
    await expect(claim.release('applied')).resolves.toBeUndefined();
    expect(requests).toHaveLength(2);
  });

  test('any other failure: RetryableError STATE_STORE_UNAVAILABLE', async () => {
    const { store } = storeWith(answer({}), raise(throttled()));
    const claim = await claimed(store.claim(REF, REQUEST));
    const error = await rejectionOf<RetryableError>(claim.release('not-applied'));
    expect([error.code, error.message]).toEqual([
      'STATE_STORE_UNAVAILABLE',
      'the state table could not be used (ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput)',
    ]);
  });
});

describe('DynamoDbStateStore: failures of the other operations', () => {
  const operations: [string, (store: DynamoDbStateStore) => Promise<unknown>][] = [
    ['earlierDecision', (store) => store.earlierDecision(REF)],
    ['recordDecision (published)', (store) => store.recordDecision(REF, { published: true })],
    ['recordDecision (owed)', (store) => store.recordDecision(REF, { published: false, verdict: { status: 'APPLIED', leverage: 5 } })],
    ['lastAppliedIssuedAtMs', (store) => store.lastAppliedIssuedAtMs(REF)],
  ];

  test.each(operations)('%s: a service error becomes RetryableError STATE_STORE_UNAVAILABLE', async (_name, operation) => {
    const { store } = storeWith(raise(throttled()));
    const error = await rejectionOf<RetryableError>(operation(store));
    expect([error instanceof RetryableError, error.code]).toEqual([true, 'STATE_STORE_UNAVAILABLE']);
  });

  test.each(operations)('%s: a RetryableError passes through untouched', async (_name, operation) => {
    const own = new RetryableError('TIMEOUT', 'no response');
    const { store } = storeWith(raise(own));
    expect(await rejectionOf(operation(store))).toBe(own);
  });
});

describe('DynamoDbStateStore: every call is bounded by the caller\'s deadline', () => {
  test('each operation passes its deadline to the call, the claim\'s release included', async () => {
    const deadlines: unknown[] = [];
    const call = (async (_operation: string, _input: object, deadline?: unknown) => {
      deadlines.push(deadline);
      return {};
    }) as AwsJsonCall;
    const store = new DynamoDbStateStore(call, TABLE, () => NOW);
    const deadline = { remainingMs: () => 1234 };
    await store.earlierDecision(REF, deadline);
    await store.recordDecision(REF, { published: true }, deadline);
    await store.lastAppliedIssuedAtMs(REF, deadline);
    await (await claimed(store.claim(REF, REQUEST, deadline))).release('applied');
    expect(deadlines).toEqual([deadline, deadline, deadline, deadline, deadline]);
  });
});

// Adversary finding A3: a lost decision record, then a newer applied event, made a redelivery
// decide again and contradict its own published APPLIED.
describe('DynamoDbStateStore: the events recently applied to a key', () => {
  const recent = (ids: string[]) => s(JSON.stringify(ids));

  test('an applied release puts the event first in the list, without repeating it, keeping the 20 newest', async () => {
    const older = Array.from({ length: 25 }, (_, i) => `evt-${i + 2}`);
    const { requests, store } = storeWith(answer({ Attributes: { ...KEY, recentApplied: recent(['evt-2', 'evt-1', ...older.slice(1)]) } }));
    await (await claimed(store.claim(REF, REQUEST))).release('applied');
    const [, input] = requests[1] as [string, { ExpressionAttributeValues: Record<string, { S: string }> }];
    const list = JSON.parse(input.ExpressionAttributeValues[':recent']!.S) as string[];
    expect([list.length, list[0], list[1], list.filter((id) => id === 'evt-1').length]).toEqual([20, 'evt-1', 'evt-2', 1]);
  });

  test('a claim by an event in the list is seen before as applied, though a newer event was applied since', async () => {
    const { store } = storeWith(answer({ Attributes: { ...KEY, lastEventId: s('evt-9'), recentApplied: recent(['evt-9', 'evt-1']) } }));
    expect((await claimed(store.claim(REF, REQUEST))).seenBefore).toBe('applied');
  });

  test('a claim refused because a newer event was applied, by an event in the list: applied-earlier, not superseded', async () => {
    const { store } = storeWith(raise(conditionFailed()), keyItem({ lastEventId: s('evt-9'), lastIssuedAtMs: n(ISSUED_MS + 60_000), recentApplied: recent(['evt-9', 'evt-1']) }));
    await expect(store.claim(REF, REQUEST)).resolves.toEqual({ status: 'applied-earlier' });
  });

  test('a list that does not decode counts as empty: the event is superseded as before', async () => {
    const { store } = storeWith(raise(conditionFailed()), keyItem({ lastEventId: s('evt-9'), lastIssuedAtMs: n(ISSUED_MS + 60_000), recentApplied: s('{not json') }));
    await expect(store.claim(REF, REQUEST)).resolves.toEqual({ status: 'superseded', newerIssuedAtMs: ISSUED_MS + 60_000 });
  });
});
