import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { attributesOf, SnsOutcomePublisher } from '../../../../functions/adapters/sns/outcome-publisher.ts';
import { RetryableError } from '../../../../functions/domain/errors.ts';
import type { Outcome } from '../../../../functions/domain/outcome.ts';
import { fixedDeadline, rejectionOf } from '../../../support/fakes.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:leverage-guard-outcomes';

const applied: Outcome = {
  eventId: 'evt-1',
  accountId: 'desk-2',
  symbol: 'BTCUSDT',
  requestedLeverage: 5,
  status: 'APPLIED',
  leverage: 5,
  maxNotionalValue: '250000',
  trigger: 'sqs',
  processedAt: '2026-11-25T10:00:00.250Z',
  durationMs: 250,
};
const invalid: Outcome = {
  eventId: 'msg-1',
  status: 'REJECTED',
  error: { code: 'INVALID_EVENT', message: 'body is not valid JSON (x)', retryable: false },
  trigger: 'sqs',
  processedAt: '2026-11-25T10:00:00.250Z',
  durationMs: 0,
};

function publisherWith(send: (command: PublishCommand, options: { abortSignal: AbortSignal }) => Promise<unknown>) {
  const commands: PublishCommand[] = [];
  const client = {
    send: (command: PublishCommand, options: { abortSignal: AbortSignal }) => {
      commands.push(command);
      return send(command, options);
    },
  };
  return { commands, publisher: new SnsOutcomePublisher(client as unknown as SNSClient, TOPIC) };
}

const string = (value: string) => ({ DataType: 'String', StringValue: value });

describe('SnsOutcomePublisher', () => {
  test('publishes the outcome as JSON to the topic, with filterable attributes', async () => {
    const { commands, publisher } = publisherWith(async () => ({ MessageId: 'm-1' }));
    await expect(publisher.publish(applied)).resolves.toBeUndefined();
    expect(commands).toHaveLength(1);
    expect(commands[0]).toBeInstanceOf(PublishCommand);
    expect(commands[0]?.input).toStrictEqual({
      TopicArn: TOPIC,
      Message: JSON.stringify(applied),
      MessageAttributes: { status: string('APPLIED'), symbol: string('BTCUSDT'), accountId: string('desk-2') },
    });
  });

  test.each([
    ['every field', applied, { status: string('APPLIED'), symbol: string('BTCUSDT'), accountId: string('desk-2') }],
    ['no symbol or account', invalid, { status: string('REJECTED') }],
    ['an empty symbol', { ...invalid, symbol: '', accountId: 'default' }, { status: string('REJECTED'), accountId: string('default') }],
  ])('attributes for an outcome with %s: empty ones are omitted', (_name, outcome, attributes) => {
    expect(attributesOf(outcome)).toStrictEqual(attributes);
  });

  test.each([
    [Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 'could not publish the outcome (ThrottlingException: Rate exceeded)'],
    ['socket closed', 'could not publish the outcome (socket closed)'],
  ])('a failed publish (%p) is a RetryableError OUTCOME_PUBLISH_FAILED keeping the cause', async (thrown, message) => {
    const { publisher } = publisherWith(() => Promise.reject(thrown));
    const error = await publisher.publish(applied).then(
      () => undefined,
      (rejection: RetryableError) => rejection,
    );
    expect(error).toBeInstanceOf(RetryableError);
    expect([error?.code, error?.message, error?.cause]).toEqual(['OUTCOME_PUBLISH_FAILED', message, thrown]);
  });

  test('an SNS that never answers is abandoned when the deadline runs out (as the SDK does on abort)', async () => {
    const { publisher } = publisherWith(
      (_command, { abortSignal }) => new Promise((_resolve, reject) => abortSignal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })))),
    );
    const error = await rejectionOf<RetryableError>(publisher.publish(applied, fixedDeadline(100)));
    expect([error.constructor.name, error.code, error.message]).toEqual(['RetryableError', 'OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (CallTimeoutError: no answer within 100 ms)']);
  });

  test('no time left: TIME_BUDGET_EXHAUSTED, nothing sent', async () => {
    const { commands, publisher } = publisherWith(async () => ({}));
    const error = await rejectionOf<RetryableError>(publisher.publish(applied, fixedDeadline(0)));
    expect([error.code, commands]).toEqual(['TIME_BUDGET_EXHAUSTED', []]);
  });

  test('an authorization error does not carry the topic ARN or the caller\'s account into the outcome', async () => {
    const denied = Object.assign(new Error(`User: arn:aws:sts::123456789012:assumed-role/fn-role/fn is not authorized to perform: SNS:Publish on resource: ${TOPIC}`), {
      name: 'AuthorizationErrorException',
    });
    const error = await rejectionOf<RetryableError>(publisherWith(() => Promise.reject(denied)).publisher.publish(applied));
    expect(error.message).toBe('could not publish the outcome (AuthorizationErrorException: User: <arn> is not authorized to perform: SNS:Publish on resource: <arn>)');
  });
});
