/**
 * The safety rails' AWS side for chaos runs: the REAL DynamoDbStateStore and SsmPauseSwitch over
 * in-process fakes of their AWS JSON calls. DynamoDB is the benchmark's in-memory table
 * (bench/fake-dynamodb.ts: conditions and updates evaluated as DynamoDB does), plus ReturnValues
 * ALL_OLD and a failure schedule: call n fails `before` it takes effect or `after` (the write
 * happened, the reply was lost). The pause parameter answers what the driver sets per invocation.
 * Time: `now` is the wall clock plus `skewMs`, which the driver advances between receives, so
 * leases and the pause cache expire as they would across SQS visibility timeouts.
 */
import { DynamoDbError, FakeDynamoDb, type Item } from '../../../bench/fake-dynamodb.ts';
import { type AwsJsonCall, AwsServiceError } from '../../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../../../functions/adapters/dynamodb/state-store.ts';
import { SsmPauseSwitch } from '../../../functions/adapters/ssm/pause-switch.ts';
import type { PauseSwitch, StateStore } from '../../../functions/domain/ports.ts';

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
    const request = input as { TableName: string; Key?: Item; Item?: Item; ReturnValues?: string };
    const pk = String(Object.values((request.Key ?? request.Item)?.pk ?? {})[0] ?? '');
    const failure = this.schedule[this.calls++] ?? false;
    const fail = (when: 'before' | 'after') => {
      this.failures.push({ operation, pk, when, invocation: this.invocation });
      return new AwsServiceError('InternalServerError', `chaos: ${operation} ${when === 'after' ? 'applied, but its reply was lost' : 'failed'}`, 500);
    };
    if (failure === 'before') throw fail('before');
    let reply: object;
    try {
      const old = request.ReturnValues === 'ALL_OLD' ? (this.table.handle('GetItem', { TableName: request.TableName, Key: request.Key }) as { Item?: Item }).Item : undefined;
      reply = this.table.handle(operation, input as Parameters<FakeDynamoDb['handle']>[1]);
      if (old !== undefined) reply = { ...reply, Attributes: old };
    } catch (error) {
      if (error instanceof DynamoDbError) throw new AwsServiceError(error.type, error.message, 400);
      throw error;
    }
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

/** Did the state store fail to record this target as completed (so a redelivery may decide it again)? */
export function completionMarkerFailed(failures: readonly StateFailure[], accountId: string, symbol: string, eventId: string | undefined): boolean {
  return failures.some((f) => f.operation === 'PutItem' && f.when === 'before' && f.pk === `done#${accountId}#${symbol}#${eventId}`);
}
