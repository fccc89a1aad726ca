// AWS SDK clients and child-process environment aimed at a local moto server, never real AWS.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { startMoto, type MotoServer, type StartMotoOptions } from './moto-server.ts';

/** moto accepts any credentials; these only exist so the SDK can sign requests. */
export const LOCAL_ACCESS_KEY_ID = 'test';
export const LOCAL_SECRET_ACCESS_KEY = 'test';
export const LOCAL_REGION = 'us-east-1';
/** moto's default account id: ARNs it returns use it. */
export const LOCAL_ACCOUNT_ID = '123456789012';

export interface AwsClients {
  sqs: SQSClient;
  sns: SNSClient;
  secretsManager: SecretsManagerClient;
  eventBridge: EventBridgeClient;
  dynamoDb: DynamoDBClient;
  ssm: SSMClient;
  /** Releases the sockets of every client (call in afterAll so jest can exit). */
  destroy(): void;
}

export function awsClients(endpoint: string, region = LOCAL_REGION): AwsClients {
  const config = {
    endpoint,
    region,
    credentials: { accessKeyId: LOCAL_ACCESS_KEY_ID, secretAccessKey: LOCAL_SECRET_ACCESS_KEY },
    // Local failures should surface at once rather than after SDK back-off retries.
    maxAttempts: 1,
  };
  const clients = {
    sqs: new SQSClient(config),
    sns: new SNSClient(config),
    secretsManager: new SecretsManagerClient(config),
    eventBridge: new EventBridgeClient(config),
    dynamoDb: new DynamoDBClient(config),
    ssm: new SSMClient(config),
  };
  return {
    ...clients,
    destroy: () => Object.values(clients).forEach((client) => client.destroy()),
  };
}

/**
 * Environment for a child process (the built Lambda bundle) whose SDK clients use the DEFAULT
 * configuration chain: `AWS_ENDPOINT_URL` redirects every service to moto, and the static keys
 * stop the chain from looking for profiles, SSO or instance metadata.
 */
export function localAwsEnv(endpoint: string, region = LOCAL_REGION): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: LOCAL_SECRET_ACCESS_KEY,
    // An inherited session token or profile would be sent with the dummy keys, or make the
    // chain read ~/.aws; blank them so the static keys above win.
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    // Never fall back to EC2/ECS metadata endpoints, which would hang for seconds off-cloud.
    AWS_EC2_METADATA_DISABLED: 'true',
    // The SDK (@aws-sdk/core) warns on stderr when a child runs on Node < 22 (the system Node
    // is 20); the warning is noise in captured child output, not a local-AWS concern.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

export interface LocalAws {
  moto: MotoServer;
  endpoint: string;
  clients: AwsClients;
  /** Destroys the clients, then stops moto. */
  stop(): Promise<void>;
}

/** One call for a suite's beforeAll: a fresh moto plus clients aimed at it. */
export async function startLocalAws(options: StartMotoOptions & { region?: string } = {}): Promise<LocalAws> {
  const moto = await startMoto(options);
  const clients = awsClients(moto.endpoint, options.region);
  return {
    moto,
    endpoint: moto.endpoint,
    clients,
    stop: async () => {
      clients.destroy();
      await moto.stop();
    },
  };
}
