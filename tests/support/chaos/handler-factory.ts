/**
 * The ONE place chaos and fuzz tests build the change-leverage handler, through the Lambda's own
 * composition root (functions/change-leverage/deps.ts): the same handler factory, the same
 * settings-to-deps mapping, the same adapters where a test wants them.
 */
import './quiet-logs.ts';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import type { AwsJsonCall } from '../../../functions/adapters/aws-json/aws-json-client.ts';
import { BinancePapiClient } from '../../../functions/adapters/binance/papi-client.ts';
import { SecretsManagerCredentialStore } from '../../../functions/adapters/secrets-manager/credential-store.ts';
import { SnsOutcomePublisher } from '../../../functions/adapters/sns/outcome-publisher.ts';
import type { PublishBatchCall } from '../../../functions/adapters/sns/publish-batch.ts';
import { loadConfig } from '../../../functions/change-leverage/config.ts';
import { assembleDeps, buildDeps, type Ports, settingsOf } from '../../../functions/change-leverage/deps.ts';
import { createChangeLeverageHandler, type HandlerDeps } from '../../../functions/change-leverage/handler.ts';
import type { Policy } from '../../../functions/domain/policy.ts';
import type { CredentialStore, Exchange, OutcomePublisher } from '../../../functions/domain/ports.ts';
import { type FakeSecretsManager, type FakeSns, SECRET_ID_TEMPLATE } from './aws-fakes.ts';

export const RESULT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:leverage-guard-chaos-results';

export type GuardPorts = Ports;

export interface GuardSettings {
  maxReceiveCount: number;
  /** index.ts uses BINANCE_REQUEST_TIMEOUT_MS; tests without a real exchange may pass anything. */
  requestTimeoutMs: number;
  /** Default: the configuration's defaults (no caps, its maximum event age, no dry run). */
  policy?: Partial<Policy>;
}

/** The policy a deployment gets when it sets none of the policy's variables. */
export const DEFAULT_POLICY: Policy = settingsOf(loadConfig({ BINANCE_SECRET_ID: SECRET_ID_TEMPLATE, RESULT_TOPIC_ARN })).policy;

export type ChangeLeverageHandler = ReturnType<typeof createChangeLeverageHandler>;

export function buildHandlerDeps(ports: GuardPorts, settings: GuardSettings): HandlerDeps {
  return assembleDeps(ports, {
    policy: { ...DEFAULT_POLICY, ...settings.policy },
    requestTimeoutMs: settings.requestTimeoutMs,
    maxReceiveCount: settings.maxReceiveCount,
  });
}

export function buildHandler(ports: GuardPorts, settings: GuardSettings): ChangeLeverageHandler {
  return createChangeLeverageHandler(buildHandlerDeps(ports, settings));
}

/** The AWS and exchange clients one Lambda container holds (fakes, in tests). */
export interface ContainerClients {
  exchange: Exchange;
  secretsManager: SecretsManagerClient;
  sns: PublishBatchCall;
  dynamodb: AwsJsonCall;
  ssm: AwsJsonCall;
}

/**
 * One Lambda container, wired by the Lambda's own composition root (functions/change-leverage/deps.ts):
 * the configuration from environment variables through loadConfig, the REAL credential store,
 * publisher, state store and pause switch over the given clients, and the container's own clock
 * (its caches, leases and freshness checks all read it).
 */
export function buildContainerHandler(env: Record<string, string | undefined>, clients: ContainerClients, now: () => number): ChangeLeverageHandler {
  const config = loadConfig(env);
  return createChangeLeverageHandler(
    buildDeps(config, { ...clients, dynamodb: () => clients.dynamodb, ssm: () => clients.ssm }, now),
  );
}

/** The real exchange client, pointed at a simulator. */
export function simulatorExchange(simulatorUrl: string, requestTimeoutMs: number): BinancePapiClient {
  return new BinancePapiClient({
    papiUrl: simulatorUrl,
    timeUrl: `${simulatorUrl}/fapi/v1/time`,
    recvWindowMs: 5000,
    requestTimeoutMs,
  });
}

/** The real credential store over a fake Secrets Manager. */
export function secretsManagerCredentials(secretsManager: FakeSecretsManager, ttlMs: number): CredentialStore {
  return new SecretsManagerCredentialStore(secretsManager.asClient(), { secretIdTemplate: SECRET_ID_TEMPLATE, ttlMs });
}

/** The real outcome publisher over a fake SNS. */
export function snsPublisher(sns: FakeSns): OutcomePublisher {
  return new SnsOutcomePublisher(sns.asClient(), RESULT_TOPIC_ARN);
}

/** What the Lambda runtime sees of a handler. */
export type InvokableHandler = (event: unknown, context: Context) => Promise<unknown>;

export type InvocationResult = { returned: unknown } | { threw: unknown };

/** Runs one invocation; a throw is a result, not a test failure (the caller decides). */
export async function invoke(handler: InvokableHandler, event: unknown, context: Context): Promise<InvocationResult> {
  try {
    return { returned: await handler(event, context) };
  } catch (thrown) {
    return { threw: thrown };
  }
}
