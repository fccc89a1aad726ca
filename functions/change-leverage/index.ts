/**
 * change-leverage: risk event in, signed leverage change, outcome out.
 * Lambda entry point: reads the configuration and wires the real adapters, once per container.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SDK_REQUEST_HANDLER } from '../adapters/aws-sdk/bounded-call.ts';
import { createAwsJsonClient } from '../adapters/aws-json/aws-json-client.ts';
import { BinancePapiClient } from '../adapters/binance/papi-client.ts';
import { DynamoDbStateStore } from '../adapters/dynamodb/state-store.ts';
import { SecretsManagerCredentialStore } from '../adapters/secrets-manager/credential-store.ts';
import { SnsOutcomePublisher } from '../adapters/sns/outcome-publisher.ts';
import { SsmPauseSwitch } from '../adapters/ssm/pause-switch.ts';
import { loadConfig } from './config.ts';
import { loggerFor } from './logger.ts';
import { exchangeMetrics } from './metrics.ts';
import { createChangeLeverageHandler } from './handler.ts';

// Cold start: fail fast on bad configuration; clients live for the container's life.
const config = loadConfig(process.env);

export const handler = createChangeLeverageHandler({
  exchange: new BinancePapiClient({
    papiUrl: config.papiUrl,
    timeUrl: config.timeUrl,
    recvWindowMs: config.recvWindowMs,
    requestTimeoutMs: config.requestTimeoutMs,
    weightLimitPerMinute: config.weightLimitPerMinute,
    observer: exchangeMetrics,
  }),
  credentials: new SecretsManagerCredentialStore(new SecretsManagerClient({ requestHandler: SDK_REQUEST_HANDLER }), {
    secretIdTemplate: config.secretIdTemplate,
    ttlMs: config.credentialsCacheTtlMs,
  }),
  publisher: new SnsOutcomePublisher(new SNSClient({ requestHandler: SDK_REQUEST_HANDLER }), config.resultTopicArn),
  state: config.stateTableName
    ? new DynamoDbStateStore(
        createAwsJsonClient({ service: 'dynamodb', targetPrefix: 'DynamoDB_20120810', jsonVersion: '1.0', endpointId: 'DYNAMODB' }),
        config.stateTableName,
      )
    : undefined,
  pause: config.pauseParameter
    ? new SsmPauseSwitch(createAwsJsonClient({ service: 'ssm', targetPrefix: 'AmazonSSM', jsonVersion: '1.1', endpointId: 'SSM' }), config.pauseParameter)
    : undefined,
  policy: { caps: config.leverageCaps, maxEventAgeMs: config.maxEventAgeMs, dryRun: config.dryRun },
  logFor: loggerFor,
  now: Date.now,
  minimumTimeToStartMs: config.requestTimeoutMs,
  maxReceiveCount: config.maxReceiveCount,
});
