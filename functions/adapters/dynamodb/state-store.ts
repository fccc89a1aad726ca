/**
 * The StateStore in one DynamoDB table (hash key `pk`, TTL attribute `expiresAt`):
 * - `key#<account>#<symbol>`: the issuedAt of the last applied change, and a lease that
 *   serialises changes to that key across concurrent invocations (conditional writes). The lease
 *   also carries the event in flight and its issuedAt (`pendingEventId`, `pendingIssuedAtMs`),
 *   written before the change is sent and kept while that event is being retried: if recording
 *   the applied change fails, or the change's fate is unknown, an older event still finds it and
 *   is SUPERSEDED instead of overtaking it;
 * - `done#<account>#<symbol>#<eventId>`: this event's target already ended with a published
 *   outcome (kept 24 h), so a redelivery is acknowledged without calling Binance again.
 */
import { describeError, RetryableError } from '../../domain/errors.ts';
import type { Claim, ClaimEnd, Deadline, StateStore, TargetRef } from '../../domain/ports.ts';
import { type AwsJsonCall, AwsServiceError } from '../aws-json/aws-json-client.ts';

const COMPLETED_TTL_SECONDS = 24 * 3600;
/** Key items only matter while events for the key can still arrive; let idle ones expire. */
const KEY_TTL_SECONDS = 30 * 24 * 3600;

type AttributeValue = { S: string } | { N: string };
type Item = Record<string, AttributeValue | undefined>;

const text = (value: string): AttributeValue => ({ S: value });
const number = (value: number): AttributeValue => ({ N: String(value) });
const readNumber = (value: AttributeValue | undefined) => (value && 'N' in value ? Number(value.N) : undefined);
const readText = (value: AttributeValue | undefined) => (value && 'S' in value ? value.S : undefined);

export class DynamoDbStateStore implements StateStore {
  constructor(
    private readonly call: AwsJsonCall,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async isCompleted(ref: TargetRef, deadline?: Deadline): Promise<boolean> {
    const item = await this.get(doneKey(ref), deadline);
    // TTL deletion can lag by hours: an expired marker no longer counts.
    return item !== undefined && (readNumber(item.expiresAt) ?? 0) > this.nowSeconds();
  }

  async markCompleted(ref: TargetRef, deadline?: Deadline): Promise<void> {
    await this.request(
      'PutItem',
      { TableName: this.tableName, Item: { pk: text(doneKey(ref)), expiresAt: number(this.nowSeconds() + COMPLETED_TTL_SECONDS) } },
      deadline,
    );
  }

  async lastAppliedIssuedAt(ref: TargetRef, deadline?: Deadline): Promise<string | undefined> {
    return readText((await this.get(keyOf(ref), deadline))?.lastIssuedAt);
  }

  async claim(ref: TargetRef, issuedAt: string | undefined, leaseMs: number, deadline?: Deadline): Promise<Claim> {
    const now = this.now();
    const issuedAtMs = issuedAt === undefined ? undefined : Date.parse(issuedAt);
    const free = '(attribute_not_exists(lockedUntil) OR lockedUntil < :now OR lockOwner = :owner)';
    const inOrder =
      ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)' +
      ' AND (attribute_not_exists(pendingIssuedAtMs) OR pendingIssuedAtMs <= :issued)';
    let previous: Item | undefined;
    try {
      const reply = await this.request<{ Attributes?: Item }>('UpdateItem', {
        TableName: this.tableName,
        Key: { pk: text(keyOf(ref)) },
        UpdateExpression:
          issuedAtMs === undefined
            ? 'SET lockOwner = :owner, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner'
            : 'SET lockOwner = :owner, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner, pendingIssuedAtMs = :issued',
        ConditionExpression: issuedAtMs === undefined ? free : free + inOrder,
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: {
          ':owner': text(ref.eventId),
          ':now': number(now),
          ':until': number(now + leaseMs),
          ':expires': number(this.nowSeconds() + KEY_TTL_SECONDS),
          ...(issuedAtMs === undefined ? {} : { ':issued': number(issuedAtMs) }),
        },
      }, deadline);
      previous = reply.Attributes;
    } catch (error) {
      if (!(error instanceof AwsServiceError && error.errorName === 'ConditionalCheckFailedException')) throw wrap(error);
      const current = await this.get(keyOf(ref), deadline);
      const newest = Math.max(readNumber(current?.lastIssuedAtMs) ?? -Infinity, readNumber(current?.pendingIssuedAtMs) ?? -Infinity);
      if (issuedAtMs !== undefined && newest > issuedAtMs) {
        return { claimed: false, lastIssuedAt: new Date(newest).toISOString() };
      }
      throw new RetryableError('KEY_BUSY', `event ${readText(current?.lockOwner) ?? 'unknown'} is changing ${ref.symbol} on ${ref.accountId} right now`);
    }
    return {
      claimed: true,
      seenBefore: readText(previous?.lastEventId) === ref.eventId || readText(previous?.pendingEventId) === ref.eventId,
      release: (end) => this.release(ref, end, issuedAt, deadline),
    };
  }

  /**
   * Frees the key. After an applied change, records which event it was and its issuedAt; after a
   * `retrying` end, leaves the event marked as in flight. A lost lease changes nothing.
   */
  private async release(ref: TargetRef, end: ClaimEnd, issuedAt: string | undefined, deadline: Deadline | undefined): Promise<void> {
    const applied = end === 'applied';
    const recorded = applied ? ['lastEventId = :owner', ...(issuedAt === undefined ? [] : ['lastIssuedAtMs = :issuedMs', 'lastIssuedAt = :issued'])] : [];
    const removed = end === 'retrying' ? ['lockOwner', 'lockedUntil'] : ['lockOwner', 'lockedUntil', 'pendingIssuedAtMs', 'pendingEventId'];
    try {
      await this.request('UpdateItem', {
        TableName: this.tableName,
        Key: { pk: text(keyOf(ref)) },
        UpdateExpression: `${recorded.length > 0 ? `SET ${recorded.join(', ')} ` : ''}REMOVE ${removed.join(', ')}`,
        ConditionExpression: 'lockOwner = :owner',
        ExpressionAttributeValues: {
          ':owner': text(ref.eventId),
          ...(applied && issuedAt !== undefined ? { ':issuedMs': number(Date.parse(issuedAt)), ':issued': text(issuedAt) } : {}),
        },
      }, deadline);
    } catch (error) {
      if (error instanceof AwsServiceError && error.errorName === 'ConditionalCheckFailedException') return;
      throw wrap(error);
    }
  }

  private async get(pk: string, deadline: Deadline | undefined): Promise<Item | undefined> {
    const reply = await this.request<{ Item?: Item }>('GetItem', { TableName: this.tableName, Key: { pk: text(pk) }, ConsistentRead: true }, deadline);
    return reply.Item;
  }

  private async request<T = Record<string, unknown>>(operation: string, input: object, deadline: Deadline | undefined): Promise<T> {
    try {
      return await this.call<T>(operation, input, deadline);
    } catch (error) {
      if (error instanceof AwsServiceError && error.errorName === 'ConditionalCheckFailedException') throw error;
      throw wrap(error);
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

function keyOf(ref: TargetRef): string {
  return `key#${ref.accountId}#${ref.symbol}`;
}

// accountId and symbol cannot contain '#'; the producer-chosen eventId goes last.
function doneKey(ref: TargetRef): string {
  return `done#${ref.accountId}#${ref.symbol}#${ref.eventId}`;
}

function wrap(error: unknown): RetryableError {
  if (error instanceof RetryableError) return error;
  const reason = describeError(error);
  return new RetryableError('STATE_STORE_UNAVAILABLE', `the state table could not be used (${reason})`, undefined, { cause: error });
}
