/**
 * The floor for the function's bundle and init: only the two AWS SDK clients it uses, created at
 * init as the function creates them, and a handler that references the commands it sends (so the
 * bundler keeps them). Built by the benchmark with the function's esbuild options.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

const secrets = new SecretsManagerClient({});
const sns = new SNSClient({});

export const handler = async (event: { secretId: string; topicArn: string }) => {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: event.secretId }));
  await sns.send(new PublishCommand({ TopicArn: event.topicArn, Message: SecretString ?? '' }));
};
