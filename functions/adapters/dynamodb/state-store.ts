/**
 * The StateStore in one DynamoDB table (hash key `pk`, TTL attribute `expiresAt`):
 * - `key#<account>#<symbol>`: the last applied change (`lastEventId`, `lastIssuedAtMs`,
 *   `lastIssuedAt`), the events applied most recently (`recentApplied`, a JSON list, newest
 *   first, so a redelivery whose decision record was lost still learns its change was made even
 *   after a newer one; written under the lease, so no writer races it),
 *   `lastIssuedAt`), and a lease that serialises changes to that key across concurrent
 *   invocations (`lockOwner`, `lockedUntil`, and `lockToken`, one per claim, so that two deliveries
 *   of one event never share a lease; conditional writes). The event in flight is kept with
 *   what it is about to set (`pendingEventId`, `pendingIssuedAtMs`, `pendingLeverage`), written
 *   before the change is sent and kept while its fate is unknown, so an older event waits for it
 *   or reads the leverage back to learn whether it applied;
 * - `done#<account>#<symbol>#<eventId>`: what an earlier delivery decided for this target (kept
 *   15 days, longer than the DLQs keep messages): published (no `verdict`), or still owed (`verdict`, JSON), so a redelivery publishes
 *   that decision instead of deciding again.
 */
import { randomUUID } from 'node:crypto';
import { describeError, PermanentError, RetryableError, SkipDecision } from '../../domain/errors.ts';
import type { Verdict } from '../../domain/outcome.ts';
import type { Claim, ClaimEnd, ClaimRequest, Deadline, EarlierDecision, StateStore, TargetRef } from '../../domain/ports.ts';
import { type AwsJsonCall, type AwsJsonService, AwsServiceError, createAwsJsonClient } from '../aws-json/aws-json-client.ts';

/** DynamoDB's wire protocol: JSON 1.0, targets `DynamoDB_20120810.<Operation>`. */
export const DYNAMODB_JSON: AwsJsonService = { service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', endpointId: 'DYNAMODB' };

/** The signed DynamoDB call the state store runs on (endpoint from the SDK's variables). */
export function createDynamoDbCall(env: Record<string, string | undefined> = process.env): AwsJsonCall {
  return createAwsJsonClient(DYNAMODB_JSON, env);
}

/**
 * Longer than any queue keeps a message (the DLQs: 14 days): a redrive from a DLQ must still find
 * what the first deliveries decided, or it decides again and may contradict a published outcome.
 */
const DECISION_TTL_SECONDS = 15 * 24 * 3600;
/** How many applied events a key remembers (eventIds are at most 128 characters: under 3 KB). */
const RECENTLY_APPLIED = 20;
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
    private readonly newToken: () => string = randomUUID,
  ) {}

  async earlierDecision(ref: TargetRef, deadline?: Deadline): Promise<EarlierDecision | undefined> {
    const item = await this.get(decisionKey(ref), deadline);
    // TTL deletion can lag by hours: an expired record no longer counts.
    if (item === undefined || (readNumber(item.expiresAt) ?? 0) <= this.nowSeconds()) return undefined;
    const verdict = readText(item.verdict);
    return verdict === undefined ? { published: true } : { published: false, verdict: decodeVerdict(verdict) };
  }

  async recordDecision(ref: TargetRef, decision: EarlierDecision, deadline?: Deadline): Promise<void> {
    const item = {
      pk: text(decisionKey(ref)),
      expiresAt: number(this.nowSeconds() + DECISION_TTL_SECONDS),
      ...(decision.published ? {} : { verdict: text(encodeVerdict(decision.verdict)) }),
    };
    await this.request('PutItem', { TableName: this.tableName, Item: item }, deadline);
  }

  async lastAppliedIssuedAtMs(ref: TargetRef, deadline?: Deadline): Promise<number | undefined> {
    return readNumber((await this.get(keyOf(ref), deadline))?.lastIssuedAtMs);
  }

  async claim(ref: TargetRef, request: ClaimRequest, deadline?: Deadline): Promise<Claim> {
    const now = this.now();
    const { issuedAtMs, replacing } = request;
    // A lease is one delivery's, not one event's: a duplicate delivery of the event waits for it.
    const free = '(attribute_not_exists(lockedUntil) OR lockedUntil < :now)';
    const token = this.newToken();
    const newerPendingAllowed = replacing === undefined ? '' : ' OR pendingEventId = :replacing';
    const inOrder =
      ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)' +
      ` AND (attribute_not_exists(pendingIssuedAtMs) OR pendingIssuedAtMs <= :issued${newerPendingAllowed})`;
    let previous: Item | undefined;
    try {
      const reply = await this.request<{ Attributes?: Item }>('UpdateItem', {
        TableName: this.tableName,
        Key: { pk: text(keyOf(ref)) },
        UpdateExpression:
          'SET lockOwner = :owner, lockToken = :token, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner, pendingLeverage = :leverage' +
          (issuedAtMs === undefined ? ' REMOVE pendingIssuedAtMs' : ', pendingIssuedAtMs = :issued'),
        ConditionExpression: issuedAtMs === undefined ? free : free + inOrder,
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: {
          ':owner': text(ref.eventId),
          ':token': text(token),
          ':now': number(now),
          ':until': number(now + request.leaseMs),
          ':expires': number(this.nowSeconds() + KEY_TTL_SECONDS),
          ':leverage': number(request.leverage),
          ...(issuedAtMs === undefined ? {} : { ':issued': number(issuedAtMs) }),
          ...(issuedAtMs === undefined || replacing === undefined ? {} : { ':replacing': text(replacing) }),
        },
      }, deadline);
      previous = reply.Attributes;
    } catch (error) {
      if (!(error instanceof AwsServiceError && error.errorName === 'ConditionalCheckFailedException')) throw wrap(error);
      return this.refusal(ref, issuedAtMs, now, deadline);
    }
    const recent = recentlyApplied(previous);
    const seenBefore = appliedHere(previous, ref.eventId) ? 'applied' : readText(previous?.pendingEventId) === ref.eventId ? 'in-flight' : undefined;
    return {
      status: 'claimed',
      ...(seenBefore ? { seenBefore } : {}),
      release: (end, releaseDeadline) => this.release(ref, token, end, issuedAtMs, recent, releaseDeadline ?? deadline),
    };
  }

  /** Why a claim was refused: this event's own change is the last applied, a newer applied change, a newer one in flight, or a holder that is not newer. */
  private async refusal(ref: TargetRef, issuedAtMs: number | undefined, now: number, deadline: Deadline | undefined): Promise<Claim> {
    const current = await this.get(keyOf(ref), deadline);
    const lastIssuedAtMs = readNumber(current?.lastIssuedAtMs);
    const pendingIssuedAtMs = readNumber(current?.pendingIssuedAtMs);
    const pendingEventId = readText(current?.pendingEventId);
    if (appliedHere(current, ref.eventId)) return { status: 'applied-earlier' };
    if (issuedAtMs !== undefined && lastIssuedAtMs !== undefined && lastIssuedAtMs > issuedAtMs) {
      return { status: 'superseded', newerIssuedAtMs: lastIssuedAtMs };
    }
    if (issuedAtMs !== undefined && pendingIssuedAtMs !== undefined && pendingIssuedAtMs > issuedAtMs && pendingEventId !== undefined) {
      const lockedUntil = readNumber(current?.lockedUntil);
      return {
        status: 'newer-in-flight',
        eventId: pendingEventId,
        issuedAtMs: pendingIssuedAtMs,
        leverage: readNumber(current?.pendingLeverage),
        leaseActive: readText(current?.lockOwner) === pendingEventId && lockedUntil !== undefined && lockedUntil >= now,
      };
    }
    if (readText(current?.lockOwner) === ref.eventId) {
      throw new RetryableError('SAME_EVENT_IN_FLIGHT', `another delivery of this event is changing ${ref.symbol} on ${ref.accountId} right now`);
    }
    throw new RetryableError('KEY_BUSY', `event ${readText(current?.lockOwner) ?? 'unknown'} is changing ${ref.symbol} on ${ref.accountId} right now`);
  }

  /**
   * Frees the key. After an applied change, records which event it was and its issuedAt; after a
   * `retrying` end, leaves the event marked as in flight. A lost lease changes nothing.
   */
  private async release(
    ref: TargetRef,
    token: string,
    end: ClaimEnd,
    issuedAtMs: number | undefined,
    recent: string[],
    deadline: Deadline | undefined,
  ): Promise<void> {
    const applied = end === 'applied';
    const recorded = applied
      ? ['lastEventId = :owner', 'recentApplied = :recent', ...(issuedAtMs === undefined ? [] : ['lastIssuedAtMs = :issuedMs', 'lastIssuedAt = :issued'])]
      : [];
    const inFlight = ['pendingIssuedAtMs', 'pendingEventId', 'pendingLeverage'];
    const removed = end === 'retrying' ? ['lockOwner', 'lockToken', 'lockedUntil'] : ['lockOwner', 'lockToken', 'lockedUntil', ...inFlight];
    try {
      await this.request('UpdateItem', {
        TableName: this.tableName,
        Key: { pk: text(keyOf(ref)) },
        UpdateExpression: `${recorded.length > 0 ? `SET ${recorded.join(', ')} ` : ''}REMOVE ${removed.join(', ')}`,
        ConditionExpression: 'lockToken = :token',
        // DynamoDB refuses values the expressions do not use.
        ExpressionAttributeValues: {
          ':token': text(token),
          ...(applied ? { ':owner': text(ref.eventId), ':recent': text(JSON.stringify([ref.eventId, ...recent.filter((id) => id !== ref.eventId)].slice(0, RECENTLY_APPLIED))) } : {}),
          ...(applied && issuedAtMs !== undefined ? { ':issuedMs': number(issuedAtMs), ':issued': text(new Date(issuedAtMs).toISOString()) } : {}),
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

/** The key item's recently applied events; a list that does not decode counts as empty (the key item's `lastEventId` still counts). */
function recentlyApplied(item: Item | undefined): string[] {
  try {
    const list: unknown = JSON.parse(readText(item?.recentApplied) ?? '[]');
    return Array.isArray(list) ? list.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** This event's change was applied to the key, whatever was applied after it. */
function appliedHere(item: Item | undefined, eventId: string): boolean {
  return readText(item?.lastEventId) === eventId || recentlyApplied(item).includes(eventId);
}

function keyOf(ref: TargetRef): string {
  return `key#${ref.accountId}#${ref.symbol}`;
}

// accountId and symbol cannot contain '#'; the producer-chosen eventId goes last.
function decisionKey(ref: TargetRef): string {
  return `done#${ref.accountId}#${ref.symbol}#${ref.eventId}`;
}

/** A decided verdict as JSON; its error keeps what the outcome shows (code, message) and its kind. */
function encodeVerdict(verdict: Verdict): string {
  if (!('error' in verdict)) return JSON.stringify(verdict);
  const { error, ...rest } = verdict;
  return JSON.stringify({ ...rest, error: { code: error.code, message: error.message, skip: error instanceof SkipDecision } });
}

/** Fails closed: a record that does not decode is a state-table fault, retried, never guessed at. */
function decodeVerdict(json: string): Verdict {
  try {
    const value = JSON.parse(json) as Verdict & { error?: { code: string | number; message: string; skip: boolean } };
    const decided = value?.status === 'APPLIED' || value?.status === 'DRY_RUN' ? Number.isInteger(value.leverage) && value.error === undefined
      : value?.status === 'SKIPPED' || value?.status === 'REJECTED' ? typeof value.error?.message === 'string' && ['string', 'number'].includes(typeof value.error.code)
      : false;
    if (!decided) throw new Error(`not a decided verdict: ${json.slice(0, 80)}`);
    if (!value.error) return value;
    const { code, message, skip } = value.error;
    const error = skip ? new SkipDecision(code, message, value.currentLeverage) : new PermanentError(code, message);
    return { ...value, error } as Verdict;
  } catch (error) {
    throw wrap(error);
  }
}

function wrap(error: unknown): RetryableError {
  if (error instanceof RetryableError) return error;
  const reason = describeError(error);
  return new RetryableError('STATE_STORE_UNAVAILABLE', `the state table could not be used (${reason})`, undefined, { cause: error });
}
