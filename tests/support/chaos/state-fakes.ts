/**
 * The safety rails' AWS side for chaos runs: the REAL DynamoDbStateStore and SsmPauseSwitch over
 * in-process fakes of their AWS JSON calls. DynamoDB is the in-memory table the benchmark also uses
 * (local/aws/in-memory-dynamodb.ts: conditions and updates evaluated as DynamoDB does), plus ReturnValues
 * ALL_OLD and a failure schedule: call n fails `before` it takes effect or `after` (the write
 * happened, the reply was lost). The pause parameter answers what the driver sets per invocation.
 * Time: `now` is the wall clock plus `skewMs`, which the driver advances between receives, so
 * leases and the pause cache expire as they would across SQS visibility timeouts.
 */
import { FakeDynamoDb, type Item } from '../../../local/aws/in-memory-dynamodb.ts';
import { answerFromTable } from '../dynamodb-table-call.ts';
import { type AwsJsonCall, AwsServiceError } from '../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../functions/adapters/dynamodb/state-store.ts';
import { SsmPauseSwitch } from '../../../functions/adapters/ssm/pause-switch.ts';
import type { PauseSwitch, StateStore } from '../../../functions/domain/ports.ts';
import { currentActor } from './model-exchange.ts';

export const STATE_TABLE = 'leverage-guard-chaos-state';
export const PAUSE_PARAMETER = '/leverage-guard/chaos/paused';

export type CallFailure = false | 'before' | 'after';

export interface StateFailure {
  operation: string;
  /** The item's key, e.g. done#desk-1#BTCUSDT#evt-3 or key#desk-1#BTCUSDT. */
  pk: string;
  when: 'before' | 'after';
  invocation: number;
}

export class ChaosAws {
  readonly failures: StateFailure[] = [];
  /** Set by whoever drives invocations. */
  invocation = 0;
  pause: 'no' | 'yes' | 'unreadable' = 'no';
  skewMs = 0;
  readonly now = () => Date.now() + this.skewMs;
  private readonly table = new FakeDynamoDb();
  private calls = 0;

  constructor(private readonly schedule: readonly CallFailure[]) {}

  /** One container's adapters (each container has its own pause cache). */
  stateStore(): StateStore {
    return new DynamoDbStateStore(this.dynamodb, STATE_TABLE, this.now);
  }

  pauseSwitch(): PauseSwitch {
    return new SsmPauseSwitch(this.ssm, PAUSE_PARAMETER, this.now);
  }

  private readonly dynamodb: AwsJsonCall = async <T>(operation: string, input: object) => {
    await new Promise((resolve) => setImmediate(resolve));
    const pk = keysOf(input).join(' + ');
    const failure = this.schedule[this.calls++] ?? false;
    const fail = (when: 'before' | 'after') => {
      this.failures.push({ operation, pk, when, invocation: this.invocation });
      return new AwsServiceError('InternalServerError', `chaos: ${operation} ${when === 'after' ? 'applied, but its reply was lost' : 'failed'}`, 500);
    };
    if (failure === 'before') throw fail('before');
    const reply = answerFromTable(this.table, operation, input);
    if (failure === 'after') throw fail('after');
    return reply as T;
  };

  private readonly ssm: AwsJsonCall = async <T>(operation: string) => {
    await new Promise((resolve) => setImmediate(resolve));
    if (operation !== 'GetParameter') throw new AwsServiceError('InvalidAction', operation, 400);
    if (this.pause === 'unreadable') throw new AwsServiceError('InternalServerError', 'chaos: SSM is having a bad day', 500);
    return { Parameter: { Name: PAUSE_PARAMETER, Type: 'String', Value: this.pause === 'yes' ? 'true' : 'false' } } as T;
  };
}

/** The `pk` of every item a request touches (a transaction touches several), in request order. */
function keysOf(input: object): string[] {
  type Single = { Key?: Item; Item?: Item };
  const request = input as Single & { TransactItems?: Record<string, Single>[] };
  const singles = request.TransactItems ? request.TransactItems.map((entry) => Object.values(entry)[0]!) : [request];
  return singles.map((single) => String(Object.values((single.Key ?? single.Item)?.pk ?? {})[0] ?? ''));
}


/** Did the state store fail to record this target as completed (so a redelivery may decide it again)? */
export function completionMarkerFailed(failures: readonly Pick<StateFailure, 'operation' | 'pk' | 'when'>[], accountId: string, symbol: string, eventId: string | undefined): boolean {
  return failures.some((f) => f.when === 'before' && recordsDecision(f.operation, f.pk.split(' + '), `done#${accountId}#${symbol}#${eventId}`));
}

/** A write of this decision item: on its own (PutItem) or with a release (TransactWriteItems); a claim's transaction only checks it. */
export function recordsDecision(operation: string, pks: readonly string[], decisionPk: string): boolean {
  if (operation === 'PutItem') return pks[0] === decisionPk;
  return operation === 'TransactWriteItems' && pks[0]?.startsWith('key#') === true && pks[1] === decisionPk;
}

/**
 * One state table shared by several handler instances (the model-based concurrency test): the
 * same in-memory DynamoDB with DynamoDB's conditional-write semantics, plus what the real service
 * refuses (a number attribute that is not a number, e.g. NaN), failures injected by rule (before
 * the call takes effect, or after it, with the reply lost; an internal error or an access denial
 * whose message names the caller's role and the table ARN, as AWS's does) and the pause parameter.
 * Each instance builds its own adapters over `dynamodb` and `ssm`, with its own clock.
 */
export interface StateFailureRule {
  operation?: 'GetItem' | 'PutItem' | 'UpdateItem' | 'TransactWriteItems' | 'TransactGetItems';
  /** Prefix of the key of an item the call touches (any of a transaction's), e.g. `key#desk-1#BTCUSDT` or `done#`. */
  pkPrefix?: string;
  when: 'before' | 'after';
  error?: 'internal' | 'accessDenied';
  /** How many matching calls fail (default 1). */
  times?: number;
}

export const AWS_ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:sts::${AWS_ACCOUNT}:assumed-role/leverage-guard-prod-change-leverage/leverage-guard-prod-change-leverage`;

/** A claim that succeeded: which container's invocation took which key, when (timeline position). */
export interface TakenClaim {
  seq: number;
  pk: string;
  instance?: string;
  invocation?: number;
}

/** What a container's pause switch read: the value (undefined: no parameter) or that it could not be read. */
export interface PauseRead {
  seq: number;
  value: string | undefined;
  unreadable: boolean;
  instance?: string;
  invocation?: number;
}

export class SharedStateTable {
  readonly table = new FakeDynamoDb();
  readonly failures: StateFailure[] = [];
  readonly claims: TakenClaim[] = [];
  /** Every DynamoDB call as it starts, by whom (tests wait for "container b tried to claim the key"); a transaction's pk lists its items' keys joined by ' + '. */
  readonly calls: { operation: string; pk: string; instance?: string }[] = [];
  readonly pauseReads: PauseRead[] = [];
  /** The pause parameter's value; undefined = the parameter does not exist. */
  pauseValue: string | undefined = undefined;
  pauseUnreadable = false;
  private readonly rules: { rule: StateFailureRule; left: number }[] = [];

  constructor(
    private readonly tick: (label: string) => Promise<void> = async () => undefined,
    private readonly sequence: () => number = () => 0,
  ) {}

  fail(rule: StateFailureRule): void {
    this.rules.push({ rule, left: rule.times ?? 1 });
  }

  readonly dynamodb: AwsJsonCall = async <T>(operation: string, input: object) => {
    type Single = { TableName: string; Key?: Item; Item?: Item; ExpressionAttributeValues?: Item; UpdateExpression?: string };
    const request = input as Single & { TransactItems?: Record<string, Single>[] };
    const singles = request.TransactItems ? request.TransactItems.map((entry) => Object.values(entry)[0]!) : [request];
    const pks = keysOf(input);
    const pk = pks.join(' + ');
    this.calls.push({ operation, pk, instance: currentActor.getStore()?.instance });
    await this.tick(`dynamodb ${operation} ${pk}`);
    const index = this.rules.findIndex(({ rule }) => (rule.operation ?? operation) === operation && pks.some((one) => one.startsWith(rule.pkPrefix ?? '')));
    const entry = this.rules[index];
    if (entry && --entry.left <= 0) this.rules.splice(index, 1);
    const fail = (rule: StateFailureRule) => {
      this.failures.push({ operation, pk, when: rule.when, invocation: -1 });
      return rule.error === 'accessDenied'
        ? new AwsServiceError(
            'AccessDeniedException',
            `User: ${ROLE_ARN} is not authorized to perform: dynamodb:${operation} on resource: arn:aws:dynamodb:us-east-1:${AWS_ACCOUNT}:table/${request.TableName} because no identity-based policy allows the dynamodb:${operation} action`,
            400,
          )
        : new AwsServiceError('InternalServerError', `chaos: ${operation} ${rule.when === 'after' ? 'applied, but its reply was lost' : 'failed'}`, 500);
    };
    if (entry?.rule.when === 'before') throw fail(entry.rule);
    for (const value of singles.flatMap((single) => [...Object.values(single.ExpressionAttributeValues ?? {}), ...Object.values(single.Item ?? {})])) {
      if (value && 'N' in value && !Number.isFinite(Number(value.N))) {
        throw new AwsServiceError('ValidationException', `The parameter cannot be converted to a numeric value: ${value.N}`, 400);
      }
    }
    const reply = answerFromTable(this.table, operation, input);
    const claimed = singles.find((single) => /SET lockOwner = :owner/.test(single.UpdateExpression ?? ''));
    if (claimed) this.claims.push({ seq: this.sequence(), pk: keysOf(claimed)[0]!, ...currentActor.getStore() });
    if (entry?.rule.when === 'after') throw fail(entry.rule);
    return reply as T;
  };

  readonly ssm: AwsJsonCall = async <T>(operation: string) => {
    await this.tick(`ssm ${operation}`);
    if (operation !== 'GetParameter') throw new AwsServiceError('InvalidAction', operation, 400);
    this.pauseReads.push({ seq: this.sequence(), value: this.pauseValue, unreadable: this.pauseUnreadable, ...currentActor.getStore() });
    if (this.pauseUnreadable) throw new AwsServiceError('InternalServerError', 'chaos: SSM is having a bad day', 500);
    if (this.pauseValue === undefined) throw new AwsServiceError('ParameterNotFound', `Parameter ${PAUSE_PARAMETER} not found.`, 400);
    return { Parameter: { Name: PAUSE_PARAMETER, Type: 'String', Value: this.pauseValue } } as T;
  };
}
