// The local stack inside moto: SNS → SQS outcome delivery, per-account secrets, the EventBridge
// risk-event rule, and re-creating the stack (after a reset, or over an existing one).
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import {
  RISK_EVENT_DETAIL_TYPES,
  RISK_EVENT_SOURCE,
  createLocalStack,
  drainQueue,
  readMatchedEvents,
  readOutcomes,
  resetMoto,
  secretIdFor,
  startLocalAws,
  type LocalAws,
  type LocalStack,
  type LocalStackOptions,
} from '../../../local/aws/index.ts';

jest.setTimeout(20_000);

const CREDENTIALS = {
  '1001': { apiKey: 'key-1001', apiSecret: 'secret-1001' },
  '1002': { apiKey: 'key-1002', apiSecret: 'secret-1002' },
};
const BASE_OPTIONS: LocalStackOptions = {
  name: 'resources-test',
  maxReceiveCount: 3,
  visibilityTimeoutSeconds: 1,
  credentials: CREDENTIALS,
};

let local: LocalAws;
let stack: LocalStack;
beforeAll(async () => {
  local = await startLocalAws();
  stack = await createLocalStack(local.clients, BASE_OPTIONS);
});
afterAll(async () => {
  await local?.stop();
});

async function queueAttributes(queueUrl: string): Promise<Record<string, string>> {
  const { Attributes = {} } = await local.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return Attributes;
}

async function readSecret(secretId: string): Promise<unknown> {
  const { SecretString } = await local.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
  return JSON.parse(SecretString ?? 'null');
}

describe('SNS result topic → outcomes queue', () => {
  test('raw delivery: the published JSON is the body and SNS message attributes come along', async () => {
    const outcome = { eventId: 'evt-1', accountId: '1001', status: 'applied', leverage: 5 };
    await local.clients.sns.send(
      new PublishCommand({
        TopicArn: stack.topicArn,
        Message: JSON.stringify(outcome),
        MessageAttributes: {
          status: { DataType: 'String', StringValue: 'applied' },
          leverage: { DataType: 'Number', StringValue: '5' },
        },
      }),
    );

    const [received, ...rest] = await readOutcomes(local.clients.sqs, stack.outcomesQueueUrl, { count: 1, timeoutMs: 3000 });

    expect(rest).toEqual([]);
    expect(received?.body).toEqual(outcome);
    expect(received?.attributes).toEqual({ status: 'applied', leverage: '5' });
    expect(received?.message.messageAttributes.leverage).toEqual({ DataType: 'Number', StringValue: '5' });
  });

  test('reads no more than asked, and returns what arrived when the timeout hits', async () => {
    for (const eventId of ['evt-a', 'evt-b']) {
      await local.clients.sns.send(new PublishCommand({ TopicArn: stack.topicArn, Message: JSON.stringify({ eventId }) }));
    }
    const first = await readOutcomes(local.clients.sqs, stack.outcomesQueueUrl, { count: 1, timeoutMs: 3000 });
    const started = Date.now();
    const rest = await readOutcomes(local.clients.sqs, stack.outcomesQueueUrl, { count: 5, timeoutMs: 1200 });

    expect(first).toHaveLength(1);
    expect(rest).toHaveLength(1);
    expect([...first, ...rest].map((o) => (o.body as { eventId: string }).eventId).sort()).toEqual(['evt-a', 'evt-b']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
  });
});

describe('Secrets Manager', () => {
  test('one secret per account holds the credentials JSON', async () => {
    expect(stack.secretIds).toEqual({ '1001': 'leverage-guard/1001', '1002': 'leverage-guard/1002' });
    for (const [accountId, credentials] of Object.entries(CREDENTIALS)) {
      expect(await readSecret(secretIdFor(stack.secretIdTemplate, accountId))).toEqual(credentials);
    }
  });

  test('a custom template names the secrets; re-creating updates the value', async () => {
    const options = { ...BASE_OPTIONS, name: 'custom', secretIdTemplate: 'pm/{accountId}/api' };
    await createLocalStack(local.clients, options);
    const updated = await createLocalStack(local.clients, {
      ...options,
      credentials: { '1001': { apiKey: 'rotated', apiSecret: 'rotated-secret' } },
    });

    expect(updated.secretIds).toEqual({ '1001': 'pm/1001/api' });
    expect(await readSecret('pm/1001/api')).toEqual({ apiKey: 'rotated', apiSecret: 'rotated-secret' });
  });
});

describe('EventBridge risk-event rule', () => {
  const entry = (source: string, detailType: string, id: string): PutEventsRequestEntry => ({
    EventBusName: stack.eventBusName,
    Source: source,
    DetailType: detailType,
    Detail: JSON.stringify({ id }),
  });

  test('matching events reach the target queue; other sources and detail-types do not', async () => {
    const { FailedEntryCount } = await local.clients.eventBridge.send(
      new PutEventsCommand({
        Entries: [
          entry(RISK_EVENT_SOURCE, 'RiskLimitBreached', 'match-1'),
          entry('someone.else', 'RiskLimitBreached', 'wrong-source'),
          entry(RISK_EVENT_SOURCE, 'SomethingElse', 'wrong-type'),
          entry(RISK_EVENT_SOURCE, 'DeleverageRequested', 'match-2'),
        ],
      }),
    );
    expect(FailedEntryCount).toBe(0);

    const matched = await readMatchedEvents<{ id: string }>(local.clients.sqs, stack.eventTargetQueueUrl, {
      count: 2,
      timeoutMs: 3000,
    });
    expect(matched.map((e) => [e.source, e['detail-type'], e.detail.id]).sort()).toEqual([
      [RISK_EVENT_SOURCE, 'DeleverageRequested', 'match-2'],
      [RISK_EVENT_SOURCE, 'RiskLimitBreached', 'match-1'],
    ]);
    // The full EventBridge envelope a directly invoked handler receives (account restored).
    expect(matched[0]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': expect.any(String),
      source: RISK_EVENT_SOURCE,
      account: '123456789012',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'us-east-1',
      resources: [],
      detail: { id: expect.any(String) },
    });
    expect(await drainQueue(local.clients.sqs, stack.eventTargetQueueUrl)).toEqual([]);
  });

  test('the pattern constants come from infra/risk-event-pattern.json', () => {
    expect(RISK_EVENT_SOURCE).toBe('leverage-guard.risk');
    expect(RISK_EVENT_DETAIL_TYPES).toEqual(['RiskLimitBreached', 'DeleverageRequested']);
  });
});

describe('re-creating the stack', () => {
  test('over an existing stack: same URLs, new redrive policy and visibility timeout', async () => {
    const again = await createLocalStack(local.clients, { ...BASE_OPTIONS, maxReceiveCount: 5, visibilityTimeoutSeconds: 2 });

    expect(again.queueUrl).toBe(stack.queueUrl);
    expect(again.topicArn).toBe(stack.topicArn);
    const attributes = await queueAttributes(again.queueUrl);
    expect(JSON.parse(attributes.RedrivePolicy ?? '{}')).toEqual({ deadLetterTargetArn: again.dlqArn, maxReceiveCount: 5 });
    expect(attributes.VisibilityTimeout).toBe('2');
  });

  test('after resetMoto everything is gone, and the stack can be built again', async () => {
    await resetMoto(local.endpoint);
    await expect(
      local.clients.sqs.send(new GetQueueUrlCommand({ QueueName: 'resources-test-risk-events' })),
    ).rejects.toThrow();

    stack = await createLocalStack(local.clients, BASE_OPTIONS);
    expect(await readSecret('leverage-guard/1002')).toEqual(CREDENTIALS['1002']);
    expect(JSON.parse((await queueAttributes(stack.queueUrl)).RedrivePolicy ?? '{}').maxReceiveCount).toBe(3);
  });
});
