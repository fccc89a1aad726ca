import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { HandedBackError, normalise, respond } from '../../../functions/change-leverage/lambda-events.ts';
import { PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import type { RecordResult } from '../../../functions/domain/process-batch.ts';
import { thrownBy } from '../../support/fakes.ts';

const MAX_RECEIVE_COUNT = 3;
const context = { awsRequestId: 'req-1' };
const riskEvent = { eventId: 'evt-1', symbol: 'BTCUSDT', leverage: 5 };

function sqsRecord(messageId: string, receiveCount: number | string, body = JSON.stringify(riskEvent)): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1764064800000',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '1764064800001',
    },
    messageAttributes: {},
    md5OfBody: 'md5',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:1:risk-events',
    awsRegion: 'eu-west-1',
  };
}

const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const eventBridgeEvent: EventBridgeEvent<string, unknown> = {
  version: '0',
  id: 'eb-1',
  'detail-type': 'RiskEvent',
  source: 'risk.engine',
  account: '123456789012',
  time: '2026-11-25T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: riskEvent,
};

describe('normalise', () => {
  test('SQS: one record per message; the attempt is the receive count; the final attempt is the one reaching maxReceiveCount', () => {
    const event = sqsEvent(sqsRecord('m-1', 1), sqsRecord('m-2', 2, 'not json'), sqsRecord('m-3', 3), sqsRecord('m-4', 7));
    const text = JSON.stringify(riskEvent);
    expect(normalise(event, context, MAX_RECEIVE_COUNT)).toStrictEqual([
      { recordId: 'm-1', trigger: 'sqs', body: { text }, finalAttempt: false, attempt: 1, orderingGroup: undefined },
      { recordId: 'm-2', trigger: 'sqs', body: { text: 'not json' }, finalAttempt: false, attempt: 2, orderingGroup: undefined },
      { recordId: 'm-3', trigger: 'sqs', body: { text }, finalAttempt: true, attempt: 3, orderingGroup: undefined },
      { recordId: 'm-4', trigger: 'sqs', body: { text }, finalAttempt: true, attempt: 7, orderingGroup: undefined },
    ]);
  });

  test.each([
    ['empty', ''],
    ['not a number', 'many'],
    ['zero', '0'],
    ['negative', '-1'],
    ['fractional', '1.5'],
  ])('SQS: an unreadable receive count (%s) counts as a redelivery (attempt 2) and as the final attempt: both fail closed', (_name, count) => {
    const [record] = normalise(sqsEvent(sqsRecord('m-1', count)), context, MAX_RECEIVE_COUNT);
    expect([record?.attempt, record?.finalAttempt]).toEqual([2, true]);
  });

  test('SQS: a record without ApproximateReceiveCount counts as a redelivery too', () => {
    const base = sqsRecord('m-1', 1);
    const { ApproximateReceiveCount: _count, ...attributes } = base.attributes;
    const [record] = normalise(sqsEvent({ ...base, attributes: attributes as SQSRecord['attributes'] }), context, MAX_RECEIVE_COUNT);
    expect([record?.attempt, record?.finalAttempt]).toEqual([2, true]);
  });

  test('SQS FIFO: the MessageGroupId is the ordering group', () => {
    const fifo = (messageId: string, group: string): SQSRecord => {
      const base = sqsRecord(messageId, 1);
      return { ...base, attributes: { ...base.attributes, MessageGroupId: group, MessageDeduplicationId: `d-${messageId}`, SequenceNumber: '1' } };
    };
    expect(normalise(sqsEvent(fifo('m-1', 'desk-2'), fifo('m-2', 'desk-3'), sqsRecord('m-3', 1)), context, MAX_RECEIVE_COUNT).map((r) => r.orderingGroup)).toEqual([
      'desk-2',
      'desk-3',
      undefined,
    ]);
  });

  test('EventBridge: the detail, identified by the event id', () => {
    expect(normalise(eventBridgeEvent, context, MAX_RECEIVE_COUNT)).toStrictEqual([
      { recordId: 'eb-1', trigger: 'eventbridge', body: { value: riskEvent }, finalAttempt: false, attempt: 1 },
    ]);
  });

  const { detail: _detail, ...withoutDetail } = eventBridgeEvent;
  test.each([
    ['a risk event', riskEvent],
    ['null', null],
    ['a string', 'hello'],
    ['an EventBridge envelope without detail', withoutDetail],
    ['an SQS-like event with no records', { Records: [] }],
    ['records that are not all from SQS', { Records: [sqsRecord('m-1', 1), { ...sqsRecord('m-2', 1), eventSource: 'aws:sns' }] }],
  ])('direct: %s is the event itself, identified by the request id', (_name, event) => {
    expect(normalise(event, context, MAX_RECEIVE_COUNT)).toStrictEqual([
      { recordId: 'req-1', trigger: 'direct', body: { value: event }, finalAttempt: false, attempt: 1 },
    ]);
  });
});

describe('normalise: on-failure records (async invocations Lambda gave up on), on any queue', () => {
  const FUNCTION_ARN = 'arn:aws:lambda:ap-northeast-1:123456789012:function:leverage-guard-prod-change-leverage';
  const handedBackMessage = (eventId: string, code: string | number, message: string) =>
    new HandedBackError({ recordId: 'r', eventId, disposition: 'retry', outcomes: [], error: new RetryableError(code, message) }).message;

  /** What Lambda puts on its on-failure destination. */
  function onFailure(requestPayload: unknown, responsePayload?: unknown, condition = 'RetriesExhausted') {
    return {
      version: '1.0',
      timestamp: '2026-11-27T20:03:05.568Z',
      requestContext: { requestId: 'req-original', functionArn: `${FUNCTION_ARN}:$LATEST`, condition, approximateInvokeCount: 3 },
      requestPayload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload,
    };
  }
  const normaliseBody = (body: unknown, receiveCount = 1) =>
    normalise(sqsEvent(sqsRecord('m-1', receiveCount, typeof body === 'string' ? body : JSON.stringify(body))), context, MAX_RECEIVE_COUNT);

  test('an EventBridge event: reported under its trigger with its detail, and our own error code read back', () => {
    const lastError = { errorType: 'HandedBackError', errorMessage: handedBackMessage('evt-1', -1001, 'Binance -1001: Internal error'), trace: [] };
    expect(normaliseBody(onFailure(eventBridgeEvent, lastError), 3)).toStrictEqual([
      {
        recordId: 'm-1',
        trigger: 'eventbridge',
        body: {
          asyncFailure: {
            trigger: 'eventbridge',
            event: { value: riskEvent },
            fallbackEventId: 'eb-1',
            error: {
              code: -1001,
              message: 'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: Binance -1001: Internal error',
            },
          },
        },
        finalAttempt: true,
        attempt: 3,
        orderingGroup: undefined,
      },
    ]);
  });

  test('a Scheduler (direct) event: the payload itself, falling back on the original request id', () => {
    const lastError = { errorType: 'HandedBackError', errorMessage: handedBackMessage('weird: id handed back for retry: x', 'PAUSED', 'paused: by operators') };
    const [record] = normaliseBody(onFailure(riskEvent, lastError));
    expect(record!.trigger).toBe('direct');
    expect(record!.body).toStrictEqual({
      asyncFailure: {
        trigger: 'direct',
        event: { value: riskEvent },
        fallbackEventId: 'req-original',
        error: { code: 'PAUSED', message: 'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: paused: by operators' },
      },
    });
  });

  test.each([
    ['no error (the event aged out before it ran)', 'EventAgeExceeded', undefined, 'EVENT_AGE_EXCEEDED', 'Lambda gave up on the asynchronous invocation (EventAgeExceeded after 3 attempts)'],
    ['a timeout', 'RetriesExhausted', { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 30.00 seconds' }, 'RETRIES_EXHAUSTED',
      'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: Sandbox.Timedout: Task timed out after 30.00 seconds'],
    ['an error without a type', 'RetriesExhausted', { errorMessage: 'RequestId: abc Process exited before completing request' }, 'RETRIES_EXHAUSTED',
      'Lambda gave up on the asynchronous invocation (RetriesExhausted after 3 attempts); last error: RequestId: abc Process exited before completing request'],
  ])('%s: the code is Lambda\'s condition', (_name, condition, lastError, code, message) => {
    const [record] = normaliseBody(onFailure(riskEvent, lastError, condition));
    expect(record!.body).toMatchObject({ asyncFailure: { error: { code, message } } });
  });

  test('no account id and no ARN reaches the record: not the functionArn, not one inside the last error', () => {
    const denied = {
      errorType: 'HandedBackError',
      errorMessage: handedBackMessage('evt-1', 'OUTCOME_PUBLISH_FAILED',
        'could not publish the outcome (AuthorizationError: User: arn:aws:sts::123456789012:assumed-role/lg-role/lg is not authorized to perform: SNS:Publish on resource: arn:aws:sns:ap-northeast-1:123456789012:results because account 123456789012 said no)'),
    };
    const [record] = normaliseBody(onFailure(eventBridgeEvent, denied));
    const text = JSON.stringify(record);
    expect(text).not.toContain('123456789012');
    expect(text).not.toMatch(/arn:aws/);
    expect(record!.body).toMatchObject({
      asyncFailure: {
        error: { message: expect.stringContaining('(AuthorizationError: User: <arn> is not authorized to perform: SNS:Publish on resource: <arn> because account <account> said no)') },
      },
    });
  });

  test('a record without requestPayload is still recognised, with no event to report on', () => {
    const { requestPayload: _payload, ...withoutPayload } = onFailure(riskEvent);
    expect(normaliseBody(withoutPayload)[0]!.body).toMatchObject({ asyncFailure: { trigger: 'direct', event: undefined, fallbackEventId: 'req-original' } });
  });

  test.each([
    ['a risk event', JSON.stringify(riskEvent)],
    ['a risk event with a requestContext field (invalid, but a risk event)', JSON.stringify({ ...riskEvent, requestContext: 'x' })],
    ['a requestContext without a condition', JSON.stringify({ requestContext: { requestId: 'r', functionArn: 'f' }, requestPayload: riskEvent })],
    ['not JSON, though it mentions "requestContext"', '{"requestContext": '],
  ])('%s stays an ordinary SQS record', (_name, body) => {
    expect(normaliseBody(body)[0]).toMatchObject({ trigger: 'sqs', body: { text: body } });
  });

  test('only SQS carries them: invoked directly with one, it is a (invalid) direct event', () => {
    const record = onFailure(riskEvent);
    expect(normalise(record, context, MAX_RECEIVE_COUNT)).toStrictEqual([{ recordId: 'req-1', trigger: 'direct', body: { value: record }, finalAttempt: false, attempt: 1 }]);
  });
});

describe('respond', () => {
  type Status = RecordResult['outcomes'][number]['status'];
  const outcomes = (statuses: Status[]) => statuses.map((status, index) => ({ symbol: `SYM${index}USDT`, status }));
  const acknowledged = (recordId: string, ...statuses: Status[]): RecordResult => ({
    recordId,
    eventId: `evt-${recordId}`,
    disposition: 'acknowledge',
    outcomes: outcomes(statuses),
  });
  const handedBack = (recordId: string, ...statuses: Status[]): RecordResult => ({
    recordId,
    eventId: `evt-${recordId}`,
    disposition: 'retry',
    outcomes: outcomes(statuses),
    error: new RetryableError('TIMEOUT', 'no response within 5000 ms'),
  });

  test.each([
    ['nothing handed back', [acknowledged('m-1', 'APPLIED'), acknowledged('m-2', 'REJECTED', 'SKIPPED')], []],
    ['handed back, with and without a FAILED outcome', [handedBack('m-1'), acknowledged('m-2', 'APPLIED'), handedBack('m-3', 'FAILED')], [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-3' }]],
  ])('SQS, %s: a partial batch response', (_name, results, failures) => {
    expect(respond(sqsEvent(sqsRecord('m-1', 1)), results)).toStrictEqual({ batchItemFailures: failures });
  });

  test.each([
    ['EventBridge', eventBridgeEvent],
    ['direct', riskEvent],
  ])('%s, handed back: throws HandedBackError so Lambda retries', (_name, event) => {
    const error = thrownBy<HandedBackError>(() => respond(event, [handedBack('r-1')]));
    expect(error).toBeInstanceOf(HandedBackError);
    expect([error.name, error.message]).toEqual(['HandedBackError', 'event evt-r-1 handed back for retry: TIMEOUT: no response within 5000 ms']);
  });

  test.each<[string, unknown, Status[]]>([
    ['REJECTED', eventBridgeEvent, ['REJECTED']],
    ['APPLIED', riskEvent, ['APPLIED']],
    ['per-symbol', riskEvent, ['APPLIED', 'SKIPPED', 'DRY_RUN']],
    ['empty (every target completed before)', riskEvent, []],
  ])('a terminal %s result returns normally, with its outcomes', (_name, event, statuses) => {
    expect(respond(event, [acknowledged('r-1', ...statuses)])).toStrictEqual({ eventId: 'evt-r-1', outcomes: outcomes(statuses) });
  });

  test('a handed-back result that published some outcomes still throws', () => {
    expect(thrownBy(() => respond(riskEvent, [handedBack('r-1', 'APPLIED')]))).toBeInstanceOf(HandedBackError);
  });

  test('a permanent error that could not be published is still handed back', () => {
    const unpublished: RecordResult = { ...handedBack('r-1'), error: new PermanentError('X', 'y') };
    expect(thrownBy(() => respond(riskEvent, [unpublished])).message).toBe('event evt-r-1 handed back for retry: X: y');
  });

  test('no result at all is an error, not a silent success', () => {
    expect(thrownBy(() => respond(riskEvent, [])).message).toBe('no result for the invocation event');
  });
});
