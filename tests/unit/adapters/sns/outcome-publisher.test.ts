import { attributesOf, MAX_BATCH_BYTES, payloadBytes, SnsOutcomePublisher } from '../../../../functions/adapters/sns/outcome-publisher.ts';
import type { PublishBatchCall, PublishBatchInput } from '../../../../functions/adapters/sns/publish-batch.ts';
import type { Deadline } from '../../../../functions/domain/ports.ts';
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

/** SNS accepting every entry. */
const acceptAll: PublishBatchCall = async (input) => ({
  Successful: input.PublishBatchRequestEntries.map((entry) => ({ Id: entry.Id, MessageId: `m-${entry.Id}` })),
  Failed: [],
});

/** The publisher over a fake PublishBatch call (publish-batch.ts's own tests cover the wire). */
function publisherWith(call: PublishBatchCall = acceptAll) {
  const commands: { input: PublishBatchInput; deadline: Deadline | undefined }[] = [];
  const publishBatch: PublishBatchCall = (input, deadline) => {
    commands.push({ input, deadline });
    return call(input, deadline);
  };
  const entriesOf = (n: number) => commands[n]?.input.PublishBatchRequestEntries ?? [];
  return { commands, entriesOf, publisher: new SnsOutcomePublisher(publishBatch, TOPIC) };
}

const string = (value: string) => ({ DataType: 'String' as const, StringValue: value });
const outcomeOf = (n: number): Outcome => ({ ...applied, eventId: `evt-${n}`, symbol: `SYM${n}USDT` });
/** How each caller's promise ended, in call order. */
const fates = (promises: Promise<void>[]) => Promise.allSettled(promises).then((results) => results.map((result) => (result.status === 'fulfilled' ? 'published' : (result.reason as RetryableError))));

describe('SnsOutcomePublisher', () => {
  test('publishes the outcome as JSON to the topic, with filterable attributes, in a PublishBatch request', async () => {
    const { commands, publisher } = publisherWith();
    await expect(publisher.publish(applied)).resolves.toBeUndefined();
    expect(commands).toHaveLength(1);
    expect(commands[0]?.input).toStrictEqual({
      TopicArn: TOPIC,
      PublishBatchRequestEntries: [
        { Id: '0', Message: JSON.stringify(applied), MessageAttributes: { status: string('APPLIED'), symbol: string('BTCUSDT'), accountId: string('desk-2') } },
      ],
    });
  });

  test.each([
    ['every field', applied, { status: string('APPLIED'), symbol: string('BTCUSDT'), accountId: string('desk-2') }],
    ['no symbol or account', invalid, { status: string('REJECTED') }],
    ['an empty symbol', { ...invalid, symbol: '', accountId: 'default' }, { status: string('REJECTED'), accountId: string('default') }],
  ])('attributes for an outcome with %s: empty ones are omitted', (_name, outcome, attributes) => {
    expect(attributesOf(outcome)).toStrictEqual(attributes);
  });

  test('10 outcomes published on the same turn go out in one request, each with its own message and attributes', async () => {
    const { commands, entriesOf, publisher } = publisherWith();
    const outcomes = Array.from({ length: 10 }, (_, n) => outcomeOf(n));
    expect(await fates(outcomes.map((outcome) => publisher.publish(outcome)))).toEqual(Array(10).fill('published'));
    expect(commands).toHaveLength(1);
    expect(entriesOf(0).map((entry) => [entry.Message, entry.MessageAttributes])).toEqual(outcomes.map((outcome) => [JSON.stringify(outcome), attributesOf(outcome)]));
    // SNS: Ids unique within the request, alphanumeric, hyphens and underscores, up to 80 characters.
    const ids = entriesOf(0).map((entry) => entry.Id);
    expect(new Set(ids).size).toBe(10);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  test('11 outcomes: two requests, 10 entries and 1', async () => {
    const { commands, entriesOf, publisher } = publisherWith();
    const outcomes = Array.from({ length: 11 }, (_, n) => outcomeOf(n));
    expect(await fates(outcomes.map((outcome) => publisher.publish(outcome)))).toEqual(Array(11).fill('published'));
    expect([commands.length, entriesOf(0).length, entriesOf(1).length]).toEqual([2, 10, 1]);
    expect(entriesOf(1)[0]?.Message).toBe(JSON.stringify(outcomes[10]));
  });

  test('outcomes published on different turns are not held back waiting for others', async () => {
    const { commands, publisher } = publisherWith();
    await publisher.publish(outcomeOf(1));
    await publisher.publish(outcomeOf(2));
    expect(commands.map((command) => command.input.PublishBatchRequestEntries.length)).toEqual([1, 1]);
  });

  test('a request never carries more than 256 KiB of messages and attributes: large outcomes are split by size', async () => {
    const { commands, publisher } = publisherWith();
    // About 48 KB each, the most an outcome can echo (outcome.ts OUTCOME_CAPS): five fit in a request, not six.
    const large = Array.from({ length: 7 }, (_, n) => ({ ...outcomeOf(n), metadata: { note: 'x'.repeat(48 * 1024) } }));
    expect(await fates(large.map((outcome) => publisher.publish(outcome)))).toEqual(Array(7).fill('published'));
    const sizes = commands.map((command) =>
      command.input.PublishBatchRequestEntries.reduce((sum, entry) => sum + payloadBytes(entry.Message, entry.MessageAttributes), 0),
    );
    expect(commands.map((command) => command.input.PublishBatchRequestEntries.length)).toEqual([5, 2]);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(commands.flatMap((command) => command.input.PublishBatchRequestEntries.map((entry) => entry.Message))).toEqual(large.map((outcome) => JSON.stringify(outcome)));
  });

  test('payload bytes: message and every attribute name, type and value, in UTF-8', () => {
    expect(payloadBytes('é', { status: string('APPLIED') })).toBe(2 + 'status'.length + 'String'.length + 'APPLIED'.length);
  });

  test('an entry SNS lists as Failed rejects only its own caller, with OUTCOME_PUBLISH_FAILED naming the SNS code', async () => {
    const { publisher } = publisherWith(async (input) => {
      const [first, second, third] = input.PublishBatchRequestEntries;
      return {
        Successful: [first, third].map((entry) => ({ Id: entry!.Id, MessageId: 'm' })),
        Failed: [{ Id: second!.Id, Code: 'KMSThrottling', SenderFault: false, Message: `Rate exceeded for key on ${TOPIC}` }],
      };
    });
    const [first, second, third] = await fates([outcomeOf(1), outcomeOf(2), outcomeOf(3)].map((outcome) => publisher.publish(outcome)));
    expect([first, third]).toEqual(['published', 'published']);
    expect(second).toBeInstanceOf(RetryableError);
    const error = second as RetryableError;
    expect([error.code, error.message]).toEqual(['OUTCOME_PUBLISH_FAILED', 'could not publish the outcome (KMSThrottling: Rate exceeded for key on <arn>)']);
  });

  test('an entry SNS reports neither as Successful nor as Failed is not taken as published', async () => {
    const { publisher } = publisherWith(async (input) => ({ Successful: [{ Id: input.PublishBatchRequestEntries[0]!.Id, MessageId: 'm' }], Failed: [] }));
    const [first, second] = await fates([outcomeOf(1), outcomeOf(2)].map((outcome) => publisher.publish(outcome)));
    expect(first).toBe('published');
    expect([(second as RetryableError).code, (second as RetryableError).message]).toEqual([
      'OUTCOME_PUBLISH_FAILED',
      'could not publish the outcome (SNS did not report this entry of its batch)',
    ]);
  });

  test.each([
    [Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), 'could not publish the outcome (ThrottlingException: Rate exceeded)'],
    ['socket closed', 'could not publish the outcome (socket closed)'],
  ])('a failed request (%p) rejects every entry with a RetryableError OUTCOME_PUBLISH_FAILED keeping the cause', async (thrown, message) => {
    const { commands, publisher } = publisherWith(() => Promise.reject(thrown));
    const errors = (await fates([outcomeOf(1), outcomeOf(2), outcomeOf(3)].map((outcome) => publisher.publish(outcome)))) as RetryableError[];
    expect(commands).toHaveLength(1);
    for (const error of errors) {
      expect(error).toBeInstanceOf(RetryableError);
      expect([error.code, error.message, error.cause]).toEqual(['OUTCOME_PUBLISH_FAILED', message, thrown]);
    }
  });

  test('the request is bounded by the tightest deadline of its entries', async () => {
    const { commands, publisher } = publisherWith();
    await fates([publisher.publish(outcomeOf(1), fixedDeadline(60_000)), publisher.publish(outcomeOf(2), fixedDeadline(100)), publisher.publish(outcomeOf(3))]);
    expect(commands.map((command) => command.deadline?.remainingMs())).toEqual([100]);
    await publisher.publish(outcomeOf(4), fixedDeadline(700));
    expect(commands.map((command) => command.deadline?.remainingMs())).toEqual([100, 700]);
  });

  test('no time left: TIME_BUDGET_EXHAUSTED for that outcome, which stays out of the batch; the others are published', async () => {
    const { entriesOf, publisher } = publisherWith();
    const [late, onTime] = await fates([publisher.publish(outcomeOf(1), fixedDeadline(0)), publisher.publish(outcomeOf(2), fixedDeadline(5000))]);
    expect([(late as RetryableError).code, onTime]).toEqual(['TIME_BUDGET_EXHAUSTED', 'published']);
    expect(entriesOf(0).map((entry) => entry.Message)).toEqual([JSON.stringify(outcomeOf(2))]);
  });

  test('no time left for anyone: nothing sent', async () => {
    const { commands, publisher } = publisherWith();
    const error = await rejectionOf<RetryableError>(publisher.publish(applied, fixedDeadline(0)));
    await new Promise((resolve) => setImmediate(resolve));
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
