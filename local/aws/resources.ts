// Creates the AWS resources leverage-guard talks to, inside moto: the risk-event queue and its
// DLQ, the result topic with an outcomes queue subscribed to it, one credentials secret per
// account, and the EventBridge rule for risk events (with an SQS target, since moto cannot run
// Lambda: tests read that queue to see what the rule matched), the state table and the pause
// parameter.
import {
  CreateTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  PutRuleCommand,
  PutTargetsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { AwsClients } from './clients.ts';
import { RISK_EVENT_PATTERN } from '../../functions/contract/event-pattern.ts';

export type StackClients = Pick<AwsClients, 'sqs' | 'sns' | 'secretsManager' | 'eventBridge' | 'dynamoDb' | 'ssm'>;

export const DEFAULT_SECRET_ID_TEMPLATE = 'leverage-guard/{accountId}';

export interface LocalStackOptions {
  /** Prefix of every resource name, so parallel suites in one moto do not collide. */
  name: string;
  /** Receives after which SQS moves a risk event to the DLQ. */
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  /** FIFO risk-event queue and DLQ (`.fifo` names, content-based deduplication off). */
  fifo?: boolean;
  /** Secret JSON per Binance account id. */
  credentials: Record<string, object>;
  /** Secret name with an `{accountId}` placeholder (default `leverage-guard/{accountId}`). */
  secretIdTemplate?: string;
}

export interface LocalStack {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  topicArn: string;
  outcomesQueueUrl: string;
  outcomesQueueArn: string;
  eventBusName: string;
  ruleName: string;
  eventTargetQueueUrl: string;
  eventTargetQueueArn: string;
  secretIdTemplate: string;
  /** The DynamoDB state table (as infra/ defines it: hash key pk, TTL on expiresAt). */
  stateTableName: string;
  /** The SSM pause parameter, created with the value "false". */
  pauseParameterName: string;
  /** Secret id (name) per account id, as created. */
  secretIds: Record<string, string>;
}

interface Queue {
  url: string;
  arn: string;
}

export function secretIdFor(template: string, accountId: string): string {
  return template.replaceAll('{accountId}', accountId);
}

/**
 * CreateQueue is idempotent only when the attributes match; on a name clash (reuse without
 * `resetMoto`) the existing queue gets the new attributes instead. `FifoQueue` cannot be changed
 * after creation, so it is left out of that update.
 */
async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<Queue> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueNameExists)) throw error;
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    const { FifoQueue: _immutable, ...mutable } = attributes;
    if (url) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: mutable }));
  }
  if (!url) throw new Error(`SQS returned no URL for queue ${name}`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS returned no ARN for queue ${name}`);
  return { url, arn };
}

/**
 * Real AWS drops SNS/EventBridge deliveries to a queue without this policy; moto ignores
 * policies, but setting it keeps the local stack shaped like the deployed one.
 */
async function allowServiceToSend(sqs: SQSClient, queue: Queue, service: string, sourceArn: string): Promise<void> {
  const Policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: service },
        Action: 'sqs:SendMessage',
        Resource: queue.arn,
        Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
      },
    ],
  });
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.url, Attributes: { Policy } }));
}

async function createRiskEventQueues(sqs: SQSClient, options: LocalStackOptions): Promise<{ queue: Queue; dlq: Queue }> {
  const suffix = options.fifo ? '.fifo' : '';
  // A FIFO queue's DLQ must itself be FIFO; deduplication ids are supplied by senders.
  const fifoAttributes: Record<string, string> = options.fifo
    ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' }
    : {};
  const dlq = await ensureQueue(sqs, `${options.name}-risk-events-dlq${suffix}`, fifoAttributes);
  const queue = await ensureQueue(sqs, `${options.name}-risk-events${suffix}`, {
    ...fifoAttributes,
    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: options.maxReceiveCount }),
  });
  return { queue, dlq };
}

async function createResultTopic(clients: StackClients, name: string): Promise<{ topicArn: string; outcomes: Queue }> {
  const { TopicArn: topicArn } = await clients.sns.send(new CreateTopicCommand({ Name: `${name}-results` }));
  if (!topicArn) throw new Error(`SNS returned no ARN for topic ${name}-results`);
  const outcomes = await ensureQueue(clients.sqs, `${name}-outcomes`, {});
  await allowServiceToSend(clients.sqs, outcomes, 'sns.amazonaws.com', topicArn);
  // Raw delivery keeps the published JSON as the SQS body and turns SNS message attributes into
  // SQS message attributes, so tests see exactly what the function published.
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: outcomes.arn,
      Attributes: { RawMessageDelivery: 'true' },
      ReturnSubscriptionArn: true,
    }),
  );
  return { topicArn, outcomes };
}

async function createSecrets(clients: StackClients, template: string, credentials: Record<string, object>): Promise<Record<string, string>> {
  const secretIds: Record<string, string> = {};
  for (const [accountId, secret] of Object.entries(credentials)) {
    const secretId = secretIdFor(template, accountId);
    const SecretString = JSON.stringify(secret);
    try {
      await clients.secretsManager.send(new CreateSecretCommand({ Name: secretId, SecretString }));
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      await clients.secretsManager.send(new PutSecretValueCommand({ SecretId: secretId, SecretString }));
    }
    secretIds[accountId] = secretId;
  }
  return secretIds;
}

async function createRiskEventRule(
  clients: StackClients,
  name: string,
): Promise<{ eventBusName: string; ruleName: string; target: Queue }> {
  const eventBusName = `${name}-bus`;
  const ruleName = `${name}-risk-events`;
  try {
    await clients.eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
  } catch (error) {
    if (!(error instanceof ResourceAlreadyExistsException)) throw error;
  }
  const { RuleArn } = await clients.eventBridge.send(
    new PutRuleCommand({
      Name: ruleName,
      EventBusName: eventBusName,
      EventPattern: JSON.stringify(RISK_EVENT_PATTERN),
      State: 'ENABLED',
    }),
  );
  // Standard (not FIFO) on purpose: a FIFO target would need SqsParameters.MessageGroupId.
  const target = await ensureQueue(clients.sqs, `${name}-eventbridge-target`, {});
  if (RuleArn) await allowServiceToSend(clients.sqs, target, 'events.amazonaws.com', RuleArn);
  await clients.eventBridge.send(
    new PutTargetsCommand({ Rule: ruleName, EventBusName: eventBusName, Targets: [{ Id: 'risk-event-queue', Arn: target.arn }] }),
  );
  return { eventBusName, ruleName, target };
}

/** Same key schema and TTL attribute as infra's StateTable. */
async function createStateTable(clients: StackClients, name: string): Promise<string> {
  const tableName = `${name}-state`;
  try {
    await clients.dynamoDb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await clients.dynamoDb.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  return tableName;
}

async function createPauseParameter(clients: StackClients, name: string): Promise<string> {
  const parameterName = `/${name}/paused`;
  await clients.ssm.send(new PutParameterCommand({ Name: parameterName, Value: 'false', Type: 'String', Overwrite: true }));
  return parameterName;
}

export async function createLocalStack(clients: StackClients, options: LocalStackOptions): Promise<LocalStack> {
  const secretIdTemplate = options.secretIdTemplate ?? DEFAULT_SECRET_ID_TEMPLATE;
  const { queue, dlq } = await createRiskEventQueues(clients.sqs, options);
  const { topicArn, outcomes } = await createResultTopic(clients, options.name);
  const secretIds = await createSecrets(clients, secretIdTemplate, options.credentials);
  const { eventBusName, ruleName, target } = await createRiskEventRule(clients, options.name);
  const stateTableName = await createStateTable(clients, options.name);
  const pauseParameterName = await createPauseParameter(clients, options.name);
  return {
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    topicArn,
    outcomesQueueUrl: outcomes.url,
    outcomesQueueArn: outcomes.arn,
    eventBusName,
    ruleName,
    eventTargetQueueUrl: target.url,
    eventTargetQueueArn: target.arn,
    secretIdTemplate,
    stateTableName,
    pauseParameterName,
    secretIds,
  };
}
