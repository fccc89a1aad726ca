/**
 * change-leverage: risk event in, signed Binance leverage change, outcome out.
 * This file only wires: configuration, adapters and the domain's batch processor.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BinancePapiClient } from '../adapters/binance/papi-client.ts';
import { SecretsManagerCredentialStore } from '../adapters/secrets-manager/credential-store.ts';
import { SnsOutcomePublisher } from '../adapters/sns/outcome-publisher.ts';
import { loadConfig } from '../commons/config.ts';
import { logger, loggerFor } from '../commons/logger.ts';
import { processBatch } from '../domain/process-batch.ts';
import { type LambdaEvent, normalise, respond } from './lambda-events.ts';

// Cold start: fail fast on bad configuration; build clients once for the container's life.
const config = loadConfig(process.env);
const exchange = new BinancePapiClient({
  papiUrl: config.papiUrl,
  timeUrl: config.timeUrl,
  recvWindowMs: config.recvWindowMs,
  requestTimeoutMs: config.requestTimeoutMs,
});
const credentials = new SecretsManagerCredentialStore(new SecretsManagerClient({}), {
  secretIdTemplate: config.secretIdTemplate,
  ttlMs: config.credentialsCacheTtlMs,
});
const publisher = new SnsOutcomePublisher(new SNSClient({}), config.resultTopicArn);

async function changeLeverageHandler(event: LambdaEvent, context: Context) {
  const records = normalise(event, context, config.maxReceiveCount);
  const results = await processBatch(records, {
    credentials,
    exchange,
    publisher,
    deadline: { remainingMs: () => context.getRemainingTimeInMillis() },
    logFor: loggerFor,
    now: Date.now,
    minimumTimeToStartMs: config.requestTimeoutMs,
  });
  logger.info('invocation complete', {
    eventIds: results.map((r) => r.eventId),
    acknowledged: results.filter((r) => r.disposition === 'acknowledge').length,
    handedBack: results.filter((r) => r.disposition === 'retry').length,
  });
  return respond(event, results);
}

export const handler = middy(changeLeverageHandler).use(injectLambdaContext(logger));
