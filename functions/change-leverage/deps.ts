/**
 * The composition root: the ONE place the handler's collaborators are put together from the
 * configuration. The Lambda entry (index.ts) passes the real clients; tests and the model pass
 * fakes and get the same wiring, so a setting means the same thing everywhere.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsJsonCall } from '../adapters/aws-json/aws-json-client.ts';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store.ts';
import { SecretsManagerCredentialStore } from '../adapters/secrets-manager/credential-store.ts';
import { SnsOutcomePublisher } from '../adapters/sns/outcome-publisher.ts';
import type { PublishBatchCall } from '../adapters/sns/publish-batch.ts';
import { SsmPauseSwitch } from '../adapters/ssm/pause-switch.ts';
import type { Policy } from '../domain/policy.ts';
import type { CredentialStore, Exchange, OutcomePublisher, PauseSwitch, StateStore } from '../domain/ports.ts';
import type { Config } from './config.ts';
import type { HandlerDeps } from './handler.ts';
import { loggerFor } from './logger.ts';

/** The ports the handler works through. State and pause are optional (STATE_TABLE_NAME, PAUSE_PARAMETER unset). */
export interface Ports {
  exchange: Exchange;
  credentials: CredentialStore;
  publisher: OutcomePublisher;
  state?: StateStore;
  pause?: PauseSwitch;
}

/** What the handler reads from the configuration besides its adapters. */
export interface HandlerSettings {
  policy: Policy;
  /** BINANCE_REQUEST_TIMEOUT_MS: a record needs at least one request's time to start. */
  requestTimeoutMs: number;
  maxReceiveCount: number;
}

/**
 * The clients one Lambda container holds. The state table's and the pause switch's are built only
 * when their setting is there.
 */
export interface Clients {
  exchange: Exchange;
  secretsManager: SecretsManagerClient;
  sns: PublishBatchCall;
  dynamodb: () => AwsJsonCall;
  ssm: () => AwsJsonCall;
}

export function policyOf(config: Config): Policy {
  return { caps: config.leverageCaps, maxEventAgeMs: config.maxEventAgeMs, dryRun: config.dryRun };
}

export function settingsOf(config: Config): HandlerSettings {
  return { policy: policyOf(config), requestTimeoutMs: config.requestTimeoutMs, maxReceiveCount: config.maxReceiveCount };
}

/** The handler's dependencies from its ports and settings; `now` is the container's clock. */
export function assembleDeps(ports: Ports, settings: HandlerSettings, now: () => number = Date.now): HandlerDeps {
  return {
    ...ports,
    policy: settings.policy,
    logFor: loggerFor,
    now,
    // A record that cannot get one request's time is handed back before it starts, not cut off.
    minimumTimeToStartMs: settings.requestTimeoutMs,
    maxReceiveCount: settings.maxReceiveCount,
  };
}

/** The real adapters over the given clients, wired from the configuration. */
export function buildDeps(config: Config, clients: Clients, now: () => number = Date.now): HandlerDeps {
  const ports: Ports = {
    exchange: clients.exchange,
    credentials: new SecretsManagerCredentialStore(clients.secretsManager, {
      secretIdTemplate: config.secretIdTemplate,
      ttlMs: config.credentialsCacheTtlMs,
      now,
    }),
    publisher: new SnsOutcomePublisher(clients.sns, config.resultTopicArn),
    state: config.stateTableName ? new DynamoDbStateStore(clients.dynamodb(), config.stateTableName, now) : undefined,
    pause: config.pauseParameter ? new SsmPauseSwitch(clients.ssm(), config.pauseParameter, now) : undefined,
  };
  return assembleDeps(ports, settingsOf(config), now);
}
