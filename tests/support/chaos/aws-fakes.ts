/**
 * Fake AWS clients (the Secrets Manager SDK client, SNS's PublishBatch call) behind the REAL
 * adapters (SecretsManagerCredentialStore, SnsOutcomePublisher), so chaos runs exercise the adapters' caching and error mapping too.
 * Each fails the calls its schedule marks (call n fails when `failures[n]` is true; calls past
 * the end of the schedule succeed), which the adapters turn into
 * RetryableError('CREDENTIALS_UNAVAILABLE') and RetryableError('OUTCOME_PUBLISH_FAILED'). The SNS
 * fakes take PublishBatch as SNS does and refuse single entries (listed under `Failed`; FakeSns's
 * schedule counts entries, not requests), so a refused outcome fails its own record and none of
 * the others in its request.
 */
import { randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { PublishBatchCall, PublishBatchEntry, PublishBatchInput, PublishBatchOutput } from '../../../functions/adapters/sns/publish-batch.ts';
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

  async send(input: PublishBatchInput): Promise<PublishBatchOutput> {
    await nextTick();
    return publishEach(input, (outcome, entry) => {
      if (this.schedule.next()) {
        this.refused.push({ invocation: this.invocation, eventId: outcome.eventId });
        return false;
      }
      const attributes = Object.fromEntries(Object.entries(entry.MessageAttributes).map(([name, value]) => [name, value.StringValue]));
      this.published.push({ seq: this.published.length, invocation: this.invocation, outcome, attributes });
      return true;
    });
  }

  asClient(): PublishBatchCall {
    return (input) => this.send(input);
  }
}

/** Each entry of a PublishBatch request goes to `accept`, which says whether SNS took it. */
function publishEach(input: PublishBatchInput, accept: (outcome: Outcome, entry: PublishBatchEntry) => boolean): PublishBatchOutput {
  const result: PublishBatchOutput = { Successful: [], Failed: [] };
  for (const entry of input.PublishBatchRequestEntries) {
    if (accept(JSON.parse(entry.Message) as Outcome, entry)) result.Successful.push({ Id: entry.Id, MessageId: `sns-${randomUUID()}` });
    else result.Failed.push({ Id: entry.Id, Code: 'InternalError', SenderFault: false, Message: 'SNS is having a bad day (chaos)' });
  }
  return result;
}

/** An I/O-like pause, so concurrent records interleave as they would against real AWS. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Secrets Manager for the model-based concurrency test: one secret per account, addressed by ARN
 * as operators may configure BINANCE_SECRET_ID, with rotation (the next version holds a new API
 * key) and failures by rule: an internal error, or an access denial whose message names the
 * caller's role and the secret's ARN, as AWS's does.
 */
export const SECRET_ARN_TEMPLATE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:leverage-guard/prod/{accountId}';
const SECRET_ARN_PREFIX = SECRET_ARN_TEMPLATE.replace('{accountId}', '');
const CALLER_ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/leverage-guard-prod-change-leverage/leverage-guard-prod-change-leverage';

export interface SecretFailureRule {
  error: 'internal' | 'accessDenied';
  account?: string;
  times?: number;
}

export class RotatingSecretsManager {
  calls = 0;
  private readonly versions = new Map<string, number>();
  private readonly rules: { rule: SecretFailureRule; left: number }[] = [];

  constructor(
    accounts: readonly string[],
    private readonly tick: (label: string) => Promise<void> = async () => undefined,
  ) {
    for (const account of accounts) this.versions.set(account, 1);
  }

  /** The API key the current secret version holds. */
  apiKeyOf(account: string): string {
    return `${account}-key-v${this.versions.get(account)}`;
  }

  /** Stores a new version with a new API key; returns that key. */
  rotate(account: string): string {
    this.versions.set(account, (this.versions.get(account) ?? 0) + 1);
    return this.apiKeyOf(account);
  }

  fail(rule: SecretFailureRule): void {
    this.rules.push({ rule, left: rule.times ?? 1 });
  }

  async send(command: GetSecretValueCommand): Promise<{ SecretString?: string }> {
    const secretId = command.input.SecretId ?? '';
    await this.tick(`secretsmanager GetSecretValue ${secretId}`);
    this.calls += 1;
    const account = secretId.startsWith(SECRET_ARN_PREFIX) ? secretId.slice(SECRET_ARN_PREFIX.length) : undefined;
    const index = this.rules.findIndex(({ rule }) => rule.account === undefined || rule.account === account);
    const entry = this.rules[index];
    if (entry) {
      if (--entry.left <= 0) this.rules.splice(index, 1);
      if (entry.rule.error === 'accessDenied') {
        throw Object.assign(
          new Error(
            `User: ${CALLER_ROLE_ARN} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${secretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
          ),
          { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
        );
      }
      throw serviceError('InternalServiceError', 'Secrets Manager is having a bad day (chaos)');
    }
    if (account === undefined || !this.versions.has(account)) {
      throw Object.assign(new Error(`Secrets Manager can't find the specified secret.`), { name: 'ResourceNotFoundException', $fault: 'client' });
    }
    return { SecretString: JSON.stringify({ apiKey: this.apiKeyOf(account), apiSecret: `${this.apiKeyOf(account)}-secret` }) };
  }

  asClient(): SecretsManagerClient {
    return this as unknown as SecretsManagerClient;
  }
}

export interface ModelPublish {
  /** Position on the shared timeline (model-exchange.ts Timeline). */
  seq: number;
  worldMs: number;
  instance?: string;
  invocation?: number;
  outcome: Outcome;
}

export interface SnsFailureRule {
  /** Refuse outcomes of this event (every event when unset). */
  eventId?: string;
  symbol?: string;
  times?: number;
}

/** SNS for the model-based test: what subscribers received, on the shared timeline; refusals by rule. */
export class ModelSns {
  readonly published: ModelPublish[] = [];
  readonly refused: { eventId: string; symbol?: string; instance?: string; invocation?: number }[] = [];
  /** Entries per PublishBatch request, in order. */
  readonly requests: number[] = [];
  private readonly rules: { rule: SnsFailureRule; left: number }[] = [];

  constructor(
    private readonly timeline: { next(): number; worldMs: number },
    private readonly actor: () => { instance: string; invocation: number } | undefined,
    private readonly tick: (label: string) => Promise<void> = async () => undefined,
  ) {}

  fail(rule: SnsFailureRule): void {
    this.rules.push({ rule, left: rule.times ?? 1 });
  }

  async send(input: PublishBatchInput): Promise<PublishBatchOutput> {
    const entries = input.PublishBatchRequestEntries;
    const outcomes = entries.map((entry) => JSON.parse(entry.Message) as Outcome);
    await this.tick(`sns PublishBatch ${outcomes.map((outcome) => `${outcome.eventId} ${outcome.symbol ?? ''} ${outcome.status}`).join(', ')}`);
    this.requests.push(entries.length);
    return publishEach(input, (outcome) => {
      const index = this.rules.findIndex(({ rule }) => (rule.eventId ?? outcome.eventId) === outcome.eventId && (rule.symbol ?? outcome.symbol) === outcome.symbol);
      const rule = this.rules[index];
      if (rule) {
        if (--rule.left <= 0) this.rules.splice(index, 1);
        this.refused.push({ eventId: outcome.eventId, symbol: outcome.symbol, ...this.actor() });
        return false;
      }
      this.published.push({ seq: this.timeline.next(), worldMs: this.timeline.worldMs, outcome, ...this.actor() });
      return true;
    });
  }

  asClient(): PublishBatchCall {
    return (input) => this.send(input);
  }
}
