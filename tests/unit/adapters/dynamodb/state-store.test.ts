import { AwsServiceError, type AwsJsonCall } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../../functions/adapters/dynamodb/state-store.ts';
import { RetryableError } from '../../../../functions/domain/errors.ts';
import type { Claim, TargetRef } from '../../../../functions/domain/ports.ts';
import { answer, play, raise, rejectionOf, type Reply } from '../../../support/fakes.ts';

const TABLE = 'leverage-guard-state';
const NOW = Date.UTC(2026, 10, 25, 10, 0, 0) + 750; // mid-second: seconds are rounded down
const NOW_SECONDS = Math.floor(NOW / 1000);
const REF: TargetRef = { eventId: 'evt-1', accountId: 'desk-2', symbol: 'BTCUSDT' };
const ISSUED = '2026-11-25T09:59:00Z';
const ISSUED_MS = Date.parse(ISSUED);
const KEY = { pk: { S: 'key#desk-2#BTCUSDT' } };
const DONE = { pk: { S: 'done#desk-2#BTCUSDT#evt-1' } };
const FREE = '(attribute_not_exists(lockedUntil) OR lockedUntil < :now OR lockOwner = :owner)';
const IN_ORDER =
  ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)' +
  ' AND (attribute_not_exists(pendingIssuedAtMs) OR pendingIssuedAtMs <= :issued)';

const conditionFailed = () => new AwsServiceError('ConditionalCheckFailedException', 'The conditional request failed', 400);
const throttled = () => new AwsServiceError('ProvisionedThroughputExceededException', 'Rate of requests exceeds the allowed throughput', 400);

/** A scripted AwsJsonCall: records [operation, input]; answers from its script, then `{}`. */
function storeWith(...replies: Reply<unknown>[]) {
  const requests: [string, object][] = [];
  const call = (async (operation: string, input: object) => {
    requests.push([operation, input]);
    return play(replies.shift() ?? answer({}));
  }) as AwsJsonCall;
  return { requests, store: new DynamoDbStateStore(call, TABLE, () => NOW) };
}

const getItem = (Key: object) => ['GetItem', { TableName: TABLE, Key, ConsistentRead: true }];
const keyItem = (attributes: Record<string, { S: string } | { N: string }>) => answer({ Item: { ...KEY, ...attributes } });

async function claimed(claim: Promise<Claim>) {
  const result = await claim;
  if (!result.claimed) throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
  return result;
}

describe('DynamoDbStateStore: completed targets', () => {
  test.each([
    ['a marker that expires later', { Item: { ...DONE, expiresAt: { N: String(NOW_SECONDS + 1) } } }, true],
    ['a marker that expires this second (TTL deletion lags)', { Item: { ...DONE, expiresAt: { N: String(NOW_SECONDS) } } }, false],
    ['an expired marker', { Item: { ...DONE, expiresAt: { N: String(NOW_SECONDS - 3600) } } }, false],
    ['a marker without expiresAt', { Item: DONE }, false],
    ['no marker', {}, false],
  ])('isCompleted with %s: %p', async (_name, reply, completed) => {
    const { requests, store } = storeWith(answer(reply));
    await expect(store.isCompleted(REF)).resolves.toBe(completed);
    expect(requests).toEqual([getItem(DONE)]);
  });

  test('markCompleted puts the marker for 24 h', async () => {
    const { requests, store } = storeWith();
    await expect(store.markCompleted(REF)).resolves.toBeUndefined();
    expect(requests).toEqual([['PutItem', { TableName: TABLE, Item: { ...DONE, expiresAt: { N: String(NOW_SECONDS + 86_400) } } }]]);
  });
});

describe('DynamoDbStateStore: lastAppliedIssuedAt', () => {
  test.each([
    ['the recorded issuedAt', { Item: { ...KEY, lastIssuedAt: { S: ISSUED }, lastIssuedAtMs: { N: String(ISSUED_MS) } } }, ISSUED],
    ['a key item that never had a change applied', { Item: { ...KEY, lockOwner: { S: 'evt-0' } } }, undefined],
    ['no key item', {}, undefined],
  ])('%s', async (_name, reply, issuedAt) => {
    const { requests, store } = storeWith(answer(reply));
    await expect(store.lastAppliedIssuedAt(REF)).resolves.toBe(issuedAt);
    expect(requests).toEqual([getItem(KEY)]);
  });
});

describe('DynamoDbStateStore: claim', () => {
  const claimInput = (withIssuedAt: boolean) => ({
    TableName: TABLE,
    Key: KEY,
    UpdateExpression: withIssuedAt
      ? 'SET lockOwner = :owner, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner, pendingIssuedAtMs = :issued'
      : 'SET lockOwner = :owner, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner',
    ConditionExpression: withIssuedAt ? FREE + IN_ORDER : FREE,
    ReturnValues: 'ALL_OLD',
    ExpressionAttributeValues: {
      ':owner': { S: 'evt-1' },
      ':now': { N: String(NOW) },
      ':until': { N: String(NOW + 15_000) },
      ':expires': { N: String(NOW_SECONDS + 30 * 86_400) },
      ...(withIssuedAt ? { ':issued': { N: String(ISSUED_MS) } } : {}),
    },
  });

  test.each([
    ['with issuedAt: the key must be free and the event not older than the last applied one', ISSUED, true],
    ['without issuedAt: the key must be free, nothing is ordered', undefined, false],
  ])('%s', async (_name, issuedAt, withIssuedAt) => {
    const { requests, store } = storeWith();
    expect((await store.claim(REF, issuedAt, 15_000)).claimed).toBe(true);
    expect(requests).toEqual([['UpdateItem', claimInput(withIssuedAt)]]);
  });

  test.each([
    ['a newer change was applied: superseded, with its issuedAt', ISSUED, { lastIssuedAt: { S: '2026-11-25T10:00:00Z' }, lastIssuedAtMs: { N: String(ISSUED_MS + 60_000) } },
      { claimed: false, lastIssuedAt: '2026-11-25T10:00:00.000Z' }],
    ['a newer change is in flight (or its release failed): superseded by it', ISSUED, { lastIssuedAtMs: { N: String(ISSUED_MS - 60_000) }, pendingIssuedAtMs: { N: String(ISSUED_MS + 1) } },
      { claimed: false, lastIssuedAt: '2026-11-25T09:59:00.001Z' }],
    ['a newer change without its text: the instant as ISO', ISSUED, { lastIssuedAtMs: { N: String(ISSUED_MS + 1) } },
      { claimed: false, lastIssuedAt: '2026-11-25T09:59:00.001Z' }],
  ])('condition failed, %s', async (_name, issuedAt, attributes, expected) => {
    const { requests, store } = storeWith(raise(conditionFailed()), keyItem(attributes));
    await expect(store.claim(REF, issuedAt, 15_000)).resolves.toEqual(expected);
    expect(requests.map(([operation]) => operation)).toEqual(['UpdateItem', 'GetItem']);
    expect(requests[1]).toEqual(getItem(KEY));
  });

  test.each([
    ['held by another event, same issuedAt applied last', ISSUED, { lockOwner: { S: 'evt-0' }, lastIssuedAtMs: { N: String(ISSUED_MS) } }, 'evt-0'],
    ['held by another event, older one applied last', ISSUED, { lockOwner: { S: 'evt-0' }, lastIssuedAtMs: { N: String(ISSUED_MS - 1) } }, 'evt-0'],
    ['held by another event, no issuedAt on this one (never superseded)', undefined, { lockOwner: { S: 'evt-0' }, lastIssuedAtMs: { N: String(ISSUED_MS + 60_000) } }, 'evt-0'],
    ['released in between (no owner any more)', ISSUED, {}, 'unknown'],
  ])('condition failed, %s: RetryableError KEY_BUSY', async (_name, issuedAt, attributes, owner) => {
    const { store } = storeWith(raise(conditionFailed()), keyItem(attributes));
    const error = await rejectionOf<RetryableError>(store.claim(REF, issuedAt, 15_000));
    expect([error.constructor.name, error.code, error.message]).toEqual([
      'RetryableError',
      'KEY_BUSY',
      `event ${owner} is changing BTCUSDT on desk-2 right now`,
    ]);
  });

  test.each([
    ['a service error', throttled(), 'ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput'],
    ['a network error', new Error('connect ECONNREFUSED 127.0.0.1:4566'), 'Error: connect ECONNREFUSED 127.0.0.1:4566'],
    ['a thrown string', 'socket gone', 'socket gone'],
  ])('%s: RetryableError STATE_STORE_UNAVAILABLE keeping the cause', async (_name, thrown, reason) => {
    const { store } = storeWith(raise(thrown));
    const error = await rejectionOf<RetryableError>(store.claim(REF, ISSUED, 15_000));
    expect([error.constructor.name, error.code, error.message, error.cause]).toEqual([
      'RetryableError',
      'STATE_STORE_UNAVAILABLE',
      `the state table could not be used (${reason})`,
      thrown,
    ]);
  });

  test('the read after a failed condition failing: STATE_STORE_UNAVAILABLE', async () => {
    const { store } = storeWith(raise(conditionFailed()), raise(throttled()));
    expect((await rejectionOf<RetryableError>(store.claim(REF, ISSUED, 15_000))).code).toBe('STATE_STORE_UNAVAILABLE');
  });
});

describe('DynamoDbStateStore: the same event seen on an earlier delivery', () => {
  test.each([
    ['the key was last changed by this event', { lastEventId: { S: 'evt-1' } }, true],
    ['this event was in flight (retrying)', { lastEventId: { S: 'evt-0' }, pendingEventId: { S: 'evt-1' } }, true],
    ['the key was last changed by another event', { lastEventId: { S: 'evt-0' } }, false],
    ['the key is new', undefined, false],
  ])('%s: seenBefore %s', async (_name, attributes, seenBefore) => {
    const { store } = storeWith(answer(attributes ? { Attributes: { ...KEY, ...attributes } } : {}));
    expect((await claimed(store.claim(REF, ISSUED, 15_000))).seenBefore).toBe(seenBefore);
  });
});

describe('DynamoDbStateStore: release', () => {
  const FORGET_PENDING = 'REMOVE lockOwner, lockedUntil, pendingIssuedAtMs, pendingEventId';
  const releaseInput = (record: 'issuedAt' | 'event' | 'nothing' | 'keep-pending') => ({
    TableName: TABLE,
    Key: KEY,
    UpdateExpression: {
      issuedAt: `SET lastEventId = :owner, lastIssuedAtMs = :issuedMs, lastIssuedAt = :issued ${FORGET_PENDING}`,
      event: `SET lastEventId = :owner ${FORGET_PENDING}`,
      nothing: FORGET_PENDING,
      'keep-pending': 'REMOVE lockOwner, lockedUntil',
    }[record],
    ConditionExpression: 'lockOwner = :owner',
    ExpressionAttributeValues: {
      ':owner': { S: 'evt-1' },
      ...(record === 'issuedAt' ? { ':issuedMs': { N: String(ISSUED_MS) }, ':issued': { S: ISSUED } } : {}),
    },
  });

  test.each([
    ['applied, with issuedAt: records the event and its issuedAt, frees the key', ISSUED, 'applied', 'issuedAt'],
    ['not applied: frees the key and forgets the event', ISSUED, 'not-applied', 'nothing'],
    ['retrying: frees the key, the event stays in flight', ISSUED, 'retrying', 'keep-pending'],
    ['applied, without issuedAt: records the event, frees the key', undefined, 'applied', 'event'],
  ] as const)('%s', async (_name, issuedAt, end, record) => {
    const { requests, store } = storeWith();
    const claim = await claimed(store.claim(REF, issuedAt, 15_000));
    await expect(claim.release(end)).resolves.toBeUndefined();
    expect(requests[1]).toEqual(['UpdateItem', releaseInput(record)]);
    expect(requests).toHaveLength(2);
  });

  test('a lost lease (someone else holds the key now) is ignored', async () => {
    const { requests, store } = storeWith(answer({}), raise(conditionFailed()));
    const claim = await claimed(store.claim(REF, ISSUED, 15_000));
    await expect(claim.release('applied')).resolves.toBeUndefined();
    expect(requests).toHaveLength(2);
  });

  test('any other failure: RetryableError STATE_STORE_UNAVAILABLE', async () => {
    const { store } = storeWith(answer({}), raise(throttled()));
    const claim = await claimed(store.claim(REF, ISSUED, 15_000));
    const error = await rejectionOf<RetryableError>(claim.release('not-applied'));
    expect([error.code, error.message]).toEqual([
      'STATE_STORE_UNAVAILABLE',
      'the state table could not be used (ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput)',
    ]);
  });
});

describe('DynamoDbStateStore: failures of the other operations', () => {
  const operations: [string, (store: DynamoDbStateStore) => Promise<unknown>][] = [
    ['isCompleted', (store) => store.isCompleted(REF)],
    ['markCompleted', (store) => store.markCompleted(REF)],
    ['lastAppliedIssuedAt', (store) => store.lastAppliedIssuedAt(REF)],
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
    await store.isCompleted(REF, deadline);
    await store.markCompleted(REF, deadline);
    await store.lastAppliedIssuedAt(REF, deadline);
    await (await claimed(store.claim(REF, ISSUED, 60_000, deadline))).release('applied');
    expect(deadlines).toEqual([deadline, deadline, deadline, deadline, deadline]);
  });
});
