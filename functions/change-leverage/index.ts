/**
 * change-leverage: risk event in, signed leverage change, outcome out.
 * Lambda entry point: reads the configuration and creates the real clients, once per container;
 * deps.ts wires them.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SDK_REQUEST_HANDLER } from '../adapters/aws-sdk/bounded-call.ts';
import { BinancePapiClient } from '../adapters/binance/papi-client.ts';
import { createDynamoDbCall } from '../adapters/dynamodb/state-store.ts';
import { createPublishBatchCall } from '../adapters/sns/publish-batch.ts';
import { createSsmCall } from '../adapters/ssm/pause-switch.ts';
import { loadConfig } from './config.ts';
import { buildDeps } from './deps.ts';
import { createChangeLeverageHandler } from './handler.ts';
import { exchangeMetrics } from './metrics.ts';

// Cold start: fail fast on bad configuration; clients live for the container's life.
const config = loadConfig(process.env);

export const handler = createChangeLeverageHandler(
  buildDeps(config, {
    exchange: new BinancePapiClient({
      papiUrl: config.papiUrl,
      timeUrl: config.timeUrl,
      recvWindowMs: config.recvWindowMs,
      requestTimeoutMs: config.requestTimeoutMs,
      weightLimitPerMinute: config.weightLimitPerMinute,
      observer: exchangeMetrics,
    }),
    secretsManager: new SecretsManagerClient({ requestHandler: SDK_REQUEST_HANDLER }),
    sns: createPublishBatchCall(),
    dynamodb: createDynamoDbCall,
    ssm: createSsmCall,
  }),
);
