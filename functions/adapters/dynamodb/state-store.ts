/**
 * The StateStore in one DynamoDB table (hash key `pk`, TTL attribute `expiresAt`):
 * - `key#<account>#<symbol>`: the last applied change (`lastEventId`, `lastIssuedAtMs`,
 *   `lastIssuedAt`), and a lease that serialises changes to that key across concurrent
 *   invocations (`lockOwner`, `lockedUntil`, and `lockToken`, one per claim, so that two deliveries
 *   of one event never share a lease; conditional writes). The event in flight is kept with
 *   what it is about to set (`pendingEventId`, `pendingIssuedAtMs`, `pendingLeverage`), written
 *   before the change is sent and kept while its fate is unknown, so an older event waits for it
 *   or reads the leverage back to learn whether it applied;
 * - `done#<account>#<symbol>#<eventId>`: what an earlier delivery decided for this target (kept
 *   15 days, longer than the DLQs keep messages): published (no `verdict`), or still owed
 *   (`verdict`, JSON), so a redelivery publishes that decision instead of deciding again.
 *
 * Two requests per target that changes leverage, each one transaction (TransactWriteItems):
 * - the claim: a ConditionCheck that no decision item exists, and the key item's conditional
 *   lease update. When either condition fails, DynamoDB hands back the item that failed it
 *   (ReturnValuesOnConditionCheckFailure), so "decided earlier" and every refusal reason come
 *   with the claim's one round trip, never a second read;
 * - the release: the key item's update and the decision item, written together, so a key never
 *   says "applied" without its decision, nor a decision exist beside a key still in flight.
 */
import { randomUUID } from 'node:crypto';
import { describeError, PermanentError, RetryableError, SkipDecision } from '../../domain/errors.ts';
import type { Verdict } from '../../domain/outcome.ts';
import type { Claim, ClaimEnd, ClaimRequest, Deadline, EarlierDecision, StateStore, TargetHistory, TargetRef } from '../../domain/ports.ts';
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
    const reply = await this.request<{ Item?: Item }>('GetItem', { TableName: this.tableName, Key: { pk: text(decisionKey(ref)) }, ConsistentRead: true }, deadline);
    return this.decisionOf(reply.Item);
  }

  async recordDecision(ref: TargetRef, decision: EarlierDecision, deadline?: Deadline): Promise<void> {
    await this.request('PutItem', { TableName: this.tableName, Item: this.decisionItem(ref, decision) }, deadline);
  }

  async history(ref: TargetRef, deadline?: Deadline): Promise<TargetHistory> {
    const get = (pk: string) => ({ Get: { TableName: this.tableName, Key: { pk: text(pk) } } });
    const reply = await this.request<{ Responses?: { Item?: Item }[] }>('TransactGetItems', { TransactItems: [get(decisionKey(ref)), get(keyOf(ref))] }, deadline);
    const [decision, key] = reply.Responses ?? [];
    const earlier = this.decisionOf(decision?.Item);
    const lastAppliedIssuedAtMs = readNumber(key?.Item?.lastIssuedAtMs);
    const ownInFlight = readText(key?.Item?.pendingEventId) === ref.eventId;
    return { ...(earlier ? { earlier } : {}), ...(lastAppliedIssuedAtMs === undefined ? {} : { lastAppliedIssuedAtMs }), ...(ownInFlight ? { ownInFlight } : {}) };
  }

  /**
   * One transaction: no decision item for this target, and the key item's lease. A key left in
   * flight (a marker whose lease ran out) is taken over only by naming that marker (`replacing`),
   * after the caller read the leverage back; the marker of this very event is taken over at once,
   * and the claim says so (`seenBefore`), so that its change is read back before anything is sent.
   */
  async claim(ref: TargetRef, request: ClaimRequest, deadline?: Deadline): Promise<Claim> {
    let claim = await this.tryClaim(ref, request, deadline);
    // The marker to replace is gone (its event finished meanwhile): claim the key as it is now.
    if (claim === 'marker-gone') claim = await this.tryClaim(ref, { ...request, replacing: undefined, replacedApplied: undefined }, deadline);
    if (claim === 'own-in-flight') claim = await this.tryClaim(ref, { ...request, replacing: ref.eventId, replacedApplied: undefined }, deadline);
    return typeof claim === 'string' ? busy(ref, undefined) : claim;
  }

  /** @param replacedDecisionPut false: the replaced event's decision exists (it was APPLIED); only the key records its change */
  private async tryClaim(ref: TargetRef, request: ClaimRequest, deadline: Deadline | undefined, replacedDecisionPut = true): Promise<Claim | 'own-in-flight' | 'marker-gone'> {
    const now = this.now();
    const { issuedAtMs, replacing } = request;
    const replacedApplied = replacing !== undefined && replacing !== ref.eventId ? request.replacedApplied : undefined;
    // A lease is one delivery's, not one event's: a duplicate delivery of the event waits for it.
    const free = '(attribute_not_exists(lockedUntil) OR lockedUntil < :now)';
    // Its own change, applied or possibly applied, is never sent again without the caller knowing.
    const notAppliedHere = ' AND (attribute_not_exists(lastEventId) OR lastEventId <> :owner)';
    // No in-flight marker is overwritten unseen: whose change it is decides what happens next.
    const marker = replacing === undefined ? ' AND attribute_not_exists(pendingEventId)' : ' AND pendingEventId = :replacing';
    const inOrder = issuedAtMs === undefined ? '' : ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :issued)';
    const token = this.newToken();
    const nowSeconds = this.nowSeconds();
    const replacedDecision = replacedApplied && replacedDecisionPut
      ? [{ Put: { TableName: this.tableName, Item: this.decisionItem({ ...ref, eventId: replacing! }, { published: false, verdict: { status: 'APPLIED', leverage: replacedApplied.leverage }, ...(replacedApplied.command === undefined ? {} : { command: replacedApplied.command }) }), ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }]
      : [];
    // The replaced change is the key's last applied one; its issuedAt is never lowered.
    const replacedIssued = replacedApplied?.issuedAtMs;
    const recordReplaced = replacedApplied
      ? `, lastEventId = :replacing${replacedIssued === undefined ? '' : ', lastIssuedAtMs = :replacedIssuedMs, lastIssuedAt = :replacedIssued'}${replacedApplied.command === undefined ? '' : ', lastCommand = :replacedCommand'}`
      : '';
    const removed = [...(request.command === undefined ? ['pendingCommand'] : []), ...(issuedAtMs === undefined ? ['pendingIssuedAtMs'] : []), ...(replacedApplied && replacedApplied.command === undefined ? ['lastCommand'] : [])];
    const replacedInOrder = replacedIssued === undefined ? '' : ' AND (attribute_not_exists(lastIssuedAtMs) OR lastIssuedAtMs <= :replacedIssuedMs)';
    try {
      await this.request('TransactWriteItems', {
        TransactItems: [
          {
            ConditionCheck: {
              TableName: this.tableName,
              Key: { pk: text(decisionKey(ref)) },
              // TTL deletion can lag by hours: an expired record no longer counts.
              ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :nowSeconds',
              ExpressionAttributeValues: { ':nowSeconds': number(nowSeconds) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: text(keyOf(ref)) },
              UpdateExpression:
                'SET lockOwner = :owner, lockToken = :token, lockedUntil = :until, expiresAt = :expires, pendingEventId = :owner, pendingLeverage = :leverage' +
                recordReplaced +
                (issuedAtMs === undefined ? '' : ', pendingIssuedAtMs = :issued') +
                (request.command === undefined ? '' : ', pendingCommand = :command') +
                (removed.length > 0 ? ` REMOVE ${removed.join(', ')}` : ''),
              ConditionExpression: free + notAppliedHere + marker + inOrder + replacedInOrder,
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              ExpressionAttributeValues: {
                ':owner': text(ref.eventId),
                ':token': text(token),
                ':now': number(now),
                ':until': number(now + request.leaseMs),
                ':expires': number(nowSeconds + KEY_TTL_SECONDS),
                ':leverage': number(request.leverage),
                ...(issuedAtMs === undefined ? {} : { ':issued': number(issuedAtMs) }),
                ...(replacing === undefined ? {} : { ':replacing': text(replacing) }),
                ...(replacedIssued === undefined ? {} : { ':replacedIssuedMs': number(replacedIssued), ':replacedIssued': text(new Date(replacedIssued).toISOString()) }),
                ...(replacedApplied?.command === undefined ? {} : { ':replacedCommand': text(replacedApplied.command) }),
                ...(request.command === undefined ? {} : { ':command': text(request.command) }),
              },
            },
          },
          ...replacedDecision,
        ],
      }, deadline);
    } catch (error) {
      const reasons = cancellationReasons(error);
      const [decision, key, replaced] = reasons;
      if (decision?.Code === 'ConditionalCheckFailed') return { status: 'decided-earlier', decision: await this.refusingDecision(ref, decision.Item, deadline) };
      if (key?.Code === 'ConditionalCheckFailed') return this.refusal(ref, request, key.Item ?? (await this.get(keyOf(ref), deadline)), now);
      // The replaced event recorded its own decision meanwhile: that one stands. If it says APPLIED,
      // the key still records that change (so no older event undoes it); otherwise nothing is.
      if (replaced?.Code === 'ConditionalCheckFailed') {
        const existing = this.decisionOf(replaced.Item);
        const applied = (existing?.published ? existing.status : existing?.verdict.status) === 'APPLIED';
        return applied ? this.tryClaim(ref, request, deadline, false) : this.tryClaim(ref, { ...request, replacedApplied: undefined }, deadline);
      }
      // Another delivery's transaction on the same key at the same moment (TransactionConflict).
      if (reasons.some((reason) => reason?.Code === 'TransactionConflict')) busy(ref, undefined);
      // No answer (a timeout, a 5xx, a lost reply): the claim may have been made. Its own token on
      // the key says it was; otherwise it is retried, never assumed.
      if (reasons.length === 0 && readText((await this.get(keyOf(ref), deadline).catch(() => undefined))?.lockToken) === token) return this.claimed(ref, request, token, deadline);
      throw wrap(error);
    }
    return this.claimed(ref, request, token, deadline);
  }

  private claimed(ref: TargetRef, request: ClaimRequest, token: string, deadline: Deadline | undefined): Claim {
    return {
      status: 'claimed',
      ...(request.replacing === ref.eventId ? { seenBefore: 'in-flight' as const } : {}),
      release: (end, decision, releaseDeadline) => this.release(ref, token, end, request, decision, releaseDeadline ?? deadline),
    };
  }

  /** Why a claim was refused, from the key item as the refusal returned it. */
  private refusal(ref: TargetRef, request: ClaimRequest, current: Item | undefined, now: number): Claim | 'own-in-flight' | 'marker-gone' {
    const { issuedAtMs } = request;
    const lastIssuedAtMs = readNumber(current?.lastIssuedAtMs);
    const pendingIssuedAtMs = readNumber(current?.pendingIssuedAtMs);
    const pendingEventId = readText(current?.pendingEventId);
    const pendingLeverage = readNumber(current?.pendingLeverage);
    const lockOwner = readText(current?.lockOwner);
    const lockedUntil = readNumber(current?.lockedUntil);
    const leaseActive = lockedUntil !== undefined && lockedUntil >= now;
    const lastCommand = readText(current?.lastCommand);
    if (readText(current?.lastEventId) === ref.eventId) return { status: 'applied-earlier', ...(lastCommand === undefined ? {} : { command: lastCommand }) };
    if (issuedAtMs !== undefined && lastIssuedAtMs !== undefined && lastIssuedAtMs > issuedAtMs) {
      return { status: 'superseded', newerIssuedAtMs: lastIssuedAtMs };
    }
    if (issuedAtMs !== undefined && pendingIssuedAtMs !== undefined && pendingIssuedAtMs > issuedAtMs && pendingEventId !== undefined) {
      return { status: 'newer-in-flight', eventId: pendingEventId, issuedAtMs: pendingIssuedAtMs, leverage: pendingLeverage, leaseActive: lockOwner === pendingEventId && leaseActive };
    }
    if (leaseActive && lockOwner === ref.eventId) {
      throw new RetryableError('SAME_EVENT_IN_FLIGHT', `another delivery of this event is changing ${ref.symbol} on ${ref.accountId} right now`);
    }
    if (!leaseActive && pendingEventId === undefined && request.replacing !== undefined) return 'marker-gone';
    if (leaseActive || pendingEventId === undefined) return busy(ref, lockOwner);
    const pendingCommand = readText(current?.pendingCommand);
    if (pendingEventId === ref.eventId) {
      // Its own marker only if it is this command's: a reused eventId never inherits another's change.
      return pendingCommand === undefined || request.command === undefined || pendingCommand === request.command ? 'own-in-flight' : { status: 'event-id-reused', command: pendingCommand };
    }
    return {
      status: 'older-in-flight',
      eventId: pendingEventId,
      ...(pendingIssuedAtMs === undefined ? {} : { issuedAtMs: pendingIssuedAtMs }),
      leverage: pendingLeverage,
      ...(pendingCommand === undefined ? {} : { command: pendingCommand }),
    };
  }

  /**
   * Frees the key and records the decision in one transaction. After an applied change the key
   * records which event it was and its issuedAt; after a `retrying` end it leaves the event marked
   * as in flight. A lost lease changes nothing on the key; the decision is still recorded.
   */
  private async release(
    ref: TargetRef,
    token: string,
    end: ClaimEnd,
    request: ClaimRequest,
    decision: EarlierDecision | undefined,
    deadline: Deadline | undefined,
  ): Promise<void> {
    const { issuedAtMs, command } = request;
    const applied = end === 'applied';
    const recorded = applied
      ? ['lastEventId = :owner', ...(issuedAtMs === undefined ? [] : ['lastIssuedAtMs = :issuedMs', 'lastIssuedAt = :issued']), ...(command === undefined ? [] : ['lastCommand = :command'])]
      : [];
    const inFlight = ['pendingIssuedAtMs', 'pendingEventId', 'pendingLeverage', 'pendingCommand'];
    const removed = end === 'retrying' ? ['lockOwner', 'lockToken', 'lockedUntil'] : ['lockOwner', 'lockToken', 'lockedUntil', ...inFlight];
    const keyUpdate = {
      TableName: this.tableName,
      Key: { pk: text(keyOf(ref)) },
      UpdateExpression: `${recorded.length > 0 ? `SET ${recorded.join(', ')} ` : ''}REMOVE ${removed.join(', ')}`,
      ConditionExpression: 'lockToken = :token',
      // DynamoDB refuses values the expressions do not use.
      ExpressionAttributeValues: {
        ':token': text(token),
        ...(applied ? { ':owner': text(ref.eventId) } : {}),
        ...(applied && issuedAtMs !== undefined ? { ':issuedMs': number(issuedAtMs), ':issued': text(new Date(issuedAtMs).toISOString()) } : {}),
        ...(applied && command !== undefined ? { ':command': text(command) } : {}),
      },
    };
    const write = () =>
      decision === undefined
        ? this.request('UpdateItem', keyUpdate, deadline)
        : this.request('TransactWriteItems', { TransactItems: [{ Update: keyUpdate }, { Put: { TableName: this.tableName, Item: this.decisionItem(ref, decision) } }] }, deadline);
    const leaseLost = (error: unknown) =>
      error instanceof AwsServiceError && (error.errorName === 'ConditionalCheckFailedException' || cancellationReasons(error)[0]?.Code === 'ConditionalCheckFailed');
    try {
      // Once more on a failure: a release left undone keeps the key in flight for others to read
      // back. Safe to repeat: if the first did apply, the token is gone and the second is refused.
      await write().catch((error: unknown) => (leaseLost(error) ? Promise.reject(error) : write()));
    } catch (error) {
      if (leaseLost(error)) {
        if (decision !== undefined) await this.recordDecision(ref, decision, deadline);
        return;
      }
      // The decision on its own still tells a redelivery (or a taker-over) what was decided.
      if (decision !== undefined) await this.recordDecision(ref, decision, deadline).catch(() => undefined);
      throw wrap(error);
    }
  }

  /** The decision item that refused a claim (read again only if the refusal did not carry it). */
  private async refusingDecision(ref: TargetRef, item: Item | undefined, deadline: Deadline | undefined): Promise<EarlierDecision> {
    const decision = this.decisionOf(item ?? (await this.get(decisionKey(ref), deadline)));
    // Expired or deleted in between: nothing to go by, so the claim is retried, never guessed.
    if (decision === undefined) throw new RetryableError('STATE_STORE_UNAVAILABLE', 'the state table refused the claim for a decision record it no longer holds');
    return decision;
  }

  private decisionItem(ref: TargetRef, decision: EarlierDecision): Item {
    // What was decided, also once published: a take-over learns from it whether the change applied.
    const status = decision.published ? decision.status : decision.verdict.status;
    return {
      pk: text(decisionKey(ref)),
      expiresAt: number(this.nowSeconds() + DECISION_TTL_SECONDS),
      ...(decision.published ? {} : { verdict: text(encodeVerdict(decision.verdict)) }),
      ...(status === undefined ? {} : { status: text(status) }),
      ...(decision.command === undefined ? {} : { command: text(decision.command) }),
    };
  }

  private decisionOf(item: Item | undefined): EarlierDecision | undefined {
    // TTL deletion can lag by hours: an expired record no longer counts.
    if (item === undefined || (readNumber(item.expiresAt) ?? 0) <= this.nowSeconds()) return undefined;
    const verdict = readText(item.verdict);
    const command = readText(item.command);
    const status = readText(item.status) as Verdict['status'] | undefined;
    const decided = verdict === undefined ? { published: true as const, ...(status === undefined ? {} : { status }) } : { published: false as const, verdict: decodeVerdict(verdict) };
    return { ...decided, ...(command === undefined ? {} : { command }) };
  }

  private async get(pk: string, deadline: Deadline | undefined): Promise<Item | undefined> {
    const reply = await this.request<{ Item?: Item }>('GetItem', { TableName: this.tableName, Key: { pk: text(pk) }, ConsistentRead: true }, deadline);
    return reply.Item;
  }

  private async request<T = Record<string, unknown>>(operation: string, input: object, deadline: Deadline | undefined): Promise<T> {
    try {
      return await this.call<T>(operation, input, deadline);
    } catch (error) {
      // Refusals are answers, read by the caller; everything else is the table being unavailable.
      if (error instanceof AwsServiceError && (error.errorName === 'ConditionalCheckFailedException' || error.errorName === 'TransactionCanceledException')) throw error;
      throw wrap(error);
    }
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

interface CancellationReason {
  Code?: string;
  Item?: Item;
}

/** A cancelled transaction's reasons, one per item in request order; none for any other error. */
function cancellationReasons(error: unknown): (CancellationReason | undefined)[] {
  if (!(error instanceof AwsServiceError) || error.errorName !== 'TransactionCanceledException') return [];
  const reasons = error.details.CancellationReasons;
  return Array.isArray(reasons) ? (reasons as CancellationReason[]) : [];
}

/** An event that is not newer holds the key: retried later. */
function busy(ref: TargetRef, holder: string | undefined): never {
  throw new RetryableError('KEY_BUSY', `event ${holder ?? 'unknown'} is changing ${ref.symbol} on ${ref.accountId} right now`);
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
