/**
 * Where the CLI acts: a deployed stage, found from its CloudFormation stack, or the local stack
 * of `npm start -- --serve`, found from the file it writes. Everything a command touches (queues,
 * DLQs, topic, pause parameter, alarms) is resolved here, once, so commands never guess names.
 */
import { CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { readFileSync } from 'node:fs';
import { LOCAL_STACK_FILE, type LocalStackFile } from '../local/run/stack-file.ts';
import { UsageError } from './output.ts';

const SERVICE = 'leverage-guard';

export interface Queue {
  name: string;
  url: string;
}

export interface Clients {
  sqs: SQSClient;
  sns: SNSClient;
  ssm: SSMClient;
  eventBridge: EventBridgeClient;
  cloudWatch: CloudWatchClient;
}

export interface Deployment {
  /** "stage prod (stack leverage-guard-prod, ap-northeast-1)", for messages. */
  label: string;
  /** Stack name prefix of temporary resources (the outcomes command's queue). */
  namePrefix: string;
  /** Risk-event queues producers send to: standard first, then FIFO. */
  riskQueues: Queue[];
  /** Every DLQ; `source` is the risk-event queue whose redrive policy targets it. */
  dlqs: (Queue & { source?: Queue })[];
  /** undefined: the account's default bus (where the deployed rule listens). */
  eventBusName?: string;
  resultTopicArn: string;
  pauseParameterName: string;
  /** Alarm name prefix, when the deployment has CloudWatch alarms. */
  alarmPrefix?: string;
  clients: Clients;
}

/** The stack or the local stack could not be found or read: exit code 3, not a usage error. */
export class DeploymentError extends Error {
  override name = 'DeploymentError';
}

export interface Target {
  stage?: string;
  stack?: string;
  region?: string;
  local?: string | boolean;
}

/** What every client here is configured with: region, and for the local stack endpoint and keys. */
interface ClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

function clientsFor(config: ClientConfig): Clients {
  return {
    // The endpoint the SDK resolves (region, AWS_ENDPOINT_URL), not each QueueUrl's host: the
    // same queue on real AWS, and a stack emulated locally hands out real-looking queue URLs.
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    sns: new SNSClient(config),
    ssm: new SSMClient(config),
    eventBridge: new EventBridgeClient(config),
    cloudWatch: new CloudWatchClient(config),
  };
}

export function destroyClients(clients: Clients): void {
  for (const client of Object.values(clients)) client.destroy();
}

const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/** The DLQ of a queue, from its redrive policy (not from naming conventions). */
async function deadLetterQueueOf(sqs: SQSClient, queue: Queue): Promise<Queue | undefined> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['RedrivePolicy'] }));
  if (!Attributes?.RedrivePolicy) return undefined;
  const { deadLetterTargetArn } = JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn: string };
  const name = deadLetterTargetArn.slice(deadLetterTargetArn.lastIndexOf(':') + 1);
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  return QueueUrl ? { name, url: QueueUrl } : undefined;
}

async function riskDlqs(sqs: SQSClient, riskQueues: Queue[]): Promise<(Queue & { source: Queue })[]> {
  const found = await Promise.all(riskQueues.map(async (source) => ({ source, dlq: await deadLetterQueueOf(sqs, source) })));
  return found.flatMap(({ source, dlq }) => (dlq ? [{ ...dlq, source }] : []));
}

function readLocalStackFile(file: string): LocalStackFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LocalStackFile;
  } catch (error) {
    throw new DeploymentError(`cannot read the local stack from ${file} (${(error as Error).message}); start it with \`npm start -- --serve\``);
  }
}

async function localDeployment(file: string): Promise<Deployment> {
  const local = readLocalStackFile(file);
  const clients = clientsFor({
    endpoint: local.endpoint,
    region: local.region,
    credentials: { accessKeyId: local.accessKeyId, secretAccessKey: local.secretAccessKey },
    maxAttempts: 1,
  });
  const riskQueue = { name: queueName(local.queueUrl), url: local.queueUrl };
  return {
    label: `local stack (${local.endpoint})`,
    namePrefix: SERVICE,
    riskQueues: [riskQueue],
    dlqs: [{ name: queueName(local.dlqUrl), url: local.dlqUrl, source: riskQueue }],
    eventBusName: local.eventBusName,
    resultTopicArn: local.topicArn,
    pauseParameterName: local.pauseParameterName,
    clients,
  };
}

async function stageDeployment(target: Target): Promise<Deployment> {
  const stackName = target.stack ?? `${SERVICE}-${target.stage}`;
  // The default credential chain and AWS_REGION / AWS_ENDPOINT_URL, like the AWS CLI.
  const config: ClientConfig = target.region ? { region: target.region } : {};
  const cloudFormation = new CloudFormationClient(config);
  try {
    const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Object.fromEntries((Stacks[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const need = (key: string): string => {
      const value = outputs[key];
      if (!value) throw new DeploymentError(`stack ${stackName} has no output ${key}: is it a leverage-guard stack?`);
      return value;
    };
    const riskQueues = ['RiskQueueUrl', 'RiskFifoQueueUrl']
      .map((key) => outputs[key])
      .filter((url): url is string => Boolean(url))
      .map((url) => ({ name: queueName(url), url }));
    if (riskQueues.length === 0) need('RiskQueueUrl');
    const clients = clientsFor(config);
    const { StackResources = [] } = await cloudFormation.send(new DescribeStackResourcesCommand({ StackName: stackName }));
    const withSource = await riskDlqs(clients.sqs, riskQueues);
    // The other DLQs (EventBridge rule, async failures, Scheduler) hold envelopes, not risk events.
    const others = StackResources.filter((r) => r.ResourceType === 'AWS::SQS::Queue' && r.PhysicalResourceId && /Dlq$/.test(r.LogicalResourceId ?? ''))
      .map((r) => ({ name: queueName(r.PhysicalResourceId!), url: r.PhysicalResourceId! }))
      .filter((dlq) => !withSource.some((known) => known.name === dlq.name));
    const region = await cloudFormation.config.region();
    return {
      label: `${target.stage ? `stage ${target.stage}, ` : ""}stack ${stackName} (${region})`,
      namePrefix: stackName,
      riskQueues,
      dlqs: [...withSource, ...others],
      resultTopicArn: need('ResultTopicArn'),
      pauseParameterName: need('PauseParameterName'),
      alarmPrefix: `${stackName}-`,
      clients,
    };
  } catch (error) {
    if (error instanceof DeploymentError) throw error;
    throw new DeploymentError(`cannot read stack ${stackName}: ${(error as Error).name}: ${(error as Error).message}`);
  } finally {
    cloudFormation.destroy();
  }
}

export async function resolveDeployment(target: Target): Promise<Deployment> {
  if (target.local !== undefined && target.local !== false) {
    return localDeployment(typeof target.local === 'string' ? target.local : LOCAL_STACK_FILE);
  }
  if (!target.stage && !target.stack) throw new UsageError('say where: --stage <name> (a deployed stack) or --local (npm start -- --serve)');
  return stageDeployment(target);
}
