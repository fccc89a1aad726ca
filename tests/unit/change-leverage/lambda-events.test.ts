import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { HandedBackError, normalise, respond } from '../../../functions/change-leverage/lambda-events.ts';
import { PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import type { RecordResult } from '../../../functions/domain/process-batch.ts';
import { thrownBy } from '../../support/fakes.ts';

const MAX_RECEIVE_COUNT = 3;
const context = { awsRequestId: 'req-1' };
const riskEvent = { eventId: 'evt-1', symbol: 'BTCUSDT', leverage: 5 };

function sqsRecord(messageId: string, receiveCount: number, body = JSON.stringify(riskEvent)): SQSRecord {
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
  test('SQS: one record per message; the final attempt is the one reaching maxReceiveCount', () => {
    const event = sqsEvent(sqsRecord('m-1', 1), sqsRecord('m-2', 2, 'not json'), sqsRecord('m-3', 3), sqsRecord('m-4', 7));
    expect(normalise(event, context, MAX_RECEIVE_COUNT)).toStrictEqual([
      { recordId: 'm-1', trigger: 'sqs', body: { text: JSON.stringify(riskEvent) }, finalAttempt: false },
      { recordId: 'm-2', trigger: 'sqs', body: { text: 'not json' }, finalAttempt: false },
      { recordId: 'm-3', trigger: 'sqs', body: { text: JSON.stringify(riskEvent) }, finalAttempt: true },
      { recordId: 'm-4', trigger: 'sqs', body: { text: JSON.stringify(riskEvent) }, finalAttempt: true },
    ]);
  });

  test('EventBridge: the detail, identified by the event id', () => {
    expect(normalise(eventBridgeEvent, context, MAX_RECEIVE_COUNT)).toStrictEqual([
      { recordId: 'eb-1', trigger: 'eventbridge', body: { value: riskEvent }, finalAttempt: false },
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
      { recordId: 'req-1', trigger: 'direct', body: { value: event }, finalAttempt: false },
    ]);
  });
});

describe('respond', () => {
  const acknowledged = (recordId: string, status: RecordResult['status']): RecordResult => ({
    recordId,
    eventId: `evt-${recordId}`,
    disposition: 'acknowledge',
    status,
  });
  const handedBack = (recordId: string, status?: RecordResult['status']): RecordResult => ({
    recordId,
    eventId: `evt-${recordId}`,
    disposition: 'retry',
    status,
    error: new RetryableError('TIMEOUT', 'no response within 5000 ms'),
  });

  test.each([
    ['nothing handed back', [acknowledged('m-1', 'APPLIED'), acknowledged('m-2', 'REJECTED')], []],
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

  test.each([
    ['REJECTED', eventBridgeEvent],
    ['APPLIED', riskEvent],
  ])('a terminal %s result returns normally', (status, event) => {
    const result = acknowledged('r-1', status as RecordResult['status']);
    expect(respond(event, [result])).toStrictEqual({ eventId: 'evt-r-1', status });
  });

  test('a permanent error that could not be published is still handed back', () => {
    const unpublished: RecordResult = { ...handedBack('r-1'), error: new PermanentError('X', 'y') };
    expect(thrownBy(() => respond(riskEvent, [unpublished])).message).toBe('event evt-r-1 handed back for retry: X: y');
  });

  test('no result at all is an error, not a silent success', () => {
    expect(thrownBy(() => respond(riskEvent, [])).message).toBe('no result for the invocation event');
  });
});
