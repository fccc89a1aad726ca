/**
 * Fake AWS SDK clients behind the REAL adapters (SecretsManagerCredentialStore,
 * SnsOutcomePublisher), so chaos runs exercise the adapters' caching and error mapping too.
 * Each fails the calls its schedule marks (call n fails when `failures[n]` is true; calls past
 * the end of the schedule succeed), which the adapters turn into
 * RetryableError('CREDENTIALS_UNAVAILABLE') and RetryableError('OUTCOME_PUBLISH_FAILED').
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Outcome } from '../../../functions/domain/outcome.ts';
import simulatorCredentials from '../../../local/binance-simulator/test-credentials.json' with { type: 'json' };

export const SECRET_ID_TEMPLATE = 'leverage-guard/chaos/{accountId}';
const SECRET_PREFIX = SECRET_ID_TEMPLATE.replace('{accountId}', '');

/** Call n of a schedule fails when its entry is true. */
class FailureSchedule {
  private calls = 0;

  constructor(private readonly failures: readonly boolean[]) {}

  next(): boolean {
    return this.failures[this.calls++] ?? false;
  }

  get count(): number {
    return this.calls;
  }
}

function serviceError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'server', $metadata: { httpStatusCode: 503 } });
}

/** Serves the simulator's test credentials (test-credentials.json) as secrets. */
export class FakeSecretsManager {
  private readonly schedule: FailureSchedule;

  constructor(failures: readonly boolean[] = []) {
    this.schedule = new FailureSchedule(failures);
  }

  get calls(): number {
    return this.schedule.count;
  }

  async send(command: GetSecretValueCommand): Promise<{ SecretString?: string }> {
    await nextTick();
    if (this.schedule.next()) throw serviceError('InternalServiceError', 'Secrets Manager is having a bad day (chaos)');
    const secretId = command.input.SecretId ?? '';
    const account = secretId.startsWith(SECRET_PREFIX) ? secretId.slice(SECRET_PREFIX.length) : undefined;
    const secret = account === undefined ? undefined : (simulatorCredentials as Record<string, unknown>)[account];
    if (secret === undefined) throw serviceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret ${secretId}`);
    return { SecretString: JSON.stringify(secret) };
  }

  asClient(): SecretsManagerClient {
    return this as unknown as SecretsManagerClient;
  }
}

export interface PublishedOutcome {
  /** Position among all successful publishes of the run. */
  seq: number;
  /** The invocation (as tagged by the driver) during which it was published. */
  invocation: number;
  outcome: Outcome;
  attributes: Record<string, string | undefined>;
}

export interface RefusedPublish {
  invocation: number;
  eventId: string;
}

/** Records what SNS accepted, as subscribers would see it (the JSON message, decoded). */
export class FakeSns {
  readonly published: PublishedOutcome[] = [];
  readonly refused: RefusedPublish[] = [];
  /** Set by whoever drives invocations, so each publish is attributed to one. */
  invocation = 0;
  private readonly schedule: FailureSchedule;

  constructor(failures: readonly boolean[] = []) {
    this.schedule = new FailureSchedule(failures);
  }

  async send(command: PublishCommand): Promise<{ MessageId: string }> {
    await nextTick();
    const outcome = JSON.parse(command.input.Message ?? 'null') as Outcome;
    if (this.schedule.next()) {
      this.refused.push({ invocation: this.invocation, eventId: outcome.eventId });
      throw serviceError('InternalErrorException', 'SNS is having a bad day (chaos)');
    }
    const attributes = Object.fromEntries(
      Object.entries(command.input.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
    );
    this.published.push({ seq: this.published.length, invocation: this.invocation, outcome, attributes });
    return { MessageId: `sns-${this.published.length}` };
  }

  asClient(): SNSClient {
    return this as unknown as SNSClient;
  }
}

/** An I/O-like pause, so concurrent records interleave as they would against real AWS. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
