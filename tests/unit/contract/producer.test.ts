// The producer helper: what it builds is what the function accepts, and what it sends lands where
// the function (and on FIFO, its ordering) expects it.
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { buildRiskEvent, InvalidRiskEventError, RISK_EVENT_DETAIL_TYPES, RISK_EVENT_SOURCE, sendRiskEvent, validateRiskEvent } from '../../../functions/contract/index.ts';

const NOW = new Date('2026-11-25T10:00:00.000Z');

/** A client that records the commands it is sent and answers like the service. */
function recordingClient(answer: unknown) {
  const sent: unknown[] = [];
  return { sent, client: { send: async (command: unknown) => (sent.push(command), answer) } as never };
}

describe('buildRiskEvent', () => {
  test('stamps issuedAt when absent (ordering needs it) and keeps the producer\'s own', () => {
    expect(buildRiskEvent({ eventId: 'e1', symbol: 'BTCUSDT', leverage: 5 }, NOW)).toEqual({ eventId: 'e1', symbol: 'BTCUSDT', leverage: 5, issuedAt: NOW.toISOString() });
    expect(buildRiskEvent({ eventId: 'e1', symbol: 'BTCUSDT', leverage: 5, issuedAt: '2026-11-25T09:00:00Z' }, NOW).issuedAt).toBe('2026-11-25T09:00:00Z');
  });

  test('what it returns passes the function\'s validation', () => {
    const event = buildRiskEvent({ eventId: 'e2', accountId: 'desk-1', symbols: 'ALL_OPEN_POSITIONS', leverage: 10, mode: 'reduce-only' }, NOW);
    expect(validateRiskEvent(event).ok).toBe(true);
  });

  test('an invalid event throws with the message a REJECTED outcome would carry', () => {
    const wrong = { eventId: 'e3', symbol: 'BTCUSDT', leverage: 2.5 };
    const expected = validateRiskEvent({ ...wrong, issuedAt: NOW.toISOString() });
    expect(expected.ok).toBe(false);
    expect(() => buildRiskEvent(wrong, NOW)).toThrow(new InvalidRiskEventError((expected as { message: string }).message));
    expect(() => buildRiskEvent(wrong, NOW)).toThrow(/leverage: must be a whole number, got 2.5/);
  });
});

describe('sendRiskEvent', () => {
  const event = { eventId: 'e4', accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5 };

  test('to a standard queue: the validated event as the body, nothing else', async () => {
    const { sent, client } = recordingClient({ MessageId: 'm-1' });
    await expect(sendRiskEvent({ sqs: client, queueUrl: 'https://sqs/q/risk-events' }, event, NOW)).resolves.toEqual({ id: 'm-1' });
    const [command] = sent as SendMessageCommand[];
    expect(command).toBeInstanceOf(SendMessageCommand);
    expect(command!.input).toEqual({ QueueUrl: 'https://sqs/q/risk-events', MessageBody: JSON.stringify({ ...event, issuedAt: NOW.toISOString() }) });
  });

  test('to a FIFO queue: group <accountId>:<symbol>, deduplicated by eventId', async () => {
    const { sent, client } = recordingClient({ MessageId: 'm-2' });
    await sendRiskEvent({ sqs: client, queueUrl: 'https://sqs/q/risk-events.fifo' }, { eventId: 'e5', symbol: 'ETHUSDT', leverage: 3 }, NOW);
    expect((sent[0] as SendMessageCommand).input).toMatchObject({ MessageGroupId: 'default:ETHUSDT', MessageDeduplicationId: 'e5' });
  });

  test('to a FIFO queue, an event spanning several symbols must name its group', async () => {
    const { sent, client } = recordingClient({ MessageId: 'm-3' });
    const targets = { eventId: 'e6', targets: [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'ETHUSDT', leverage: 3 }] };
    await expect(sendRiskEvent({ sqs: client, queueUrl: 'https://sqs/q/x.fifo' }, targets, NOW)).rejects.toThrow(/messageGroupId: required/);
    expect(sent).toEqual([]);
    await sendRiskEvent({ sqs: client, queueUrl: 'https://sqs/q/x.fifo', messageGroupId: 'desk-1' }, targets, NOW);
    expect((sent[0] as SendMessageCommand).input.MessageGroupId).toBe('desk-1');
  });

  test('to the bus: the source and detail-type the rule matches, the event as detail', async () => {
    const { sent, client } = recordingClient({ Entries: [{ EventId: 'eb-1' }], FailedEntryCount: 0 });
    await expect(sendRiskEvent({ eventBridge: client }, event, NOW)).resolves.toEqual({ id: 'eb-1' });
    const [command] = sent as PutEventsCommand[];
    expect(command!.input.Entries).toEqual([
      { EventBusName: undefined, Source: RISK_EVENT_SOURCE, DetailType: RISK_EVENT_DETAIL_TYPES[0], Detail: JSON.stringify({ ...event, issuedAt: NOW.toISOString() }) },
    ]);
  });

  test('a detail-type the rule would drop is refused, not sent into the void', async () => {
    const { sent, client } = recordingClient({ Entries: [{ EventId: 'eb-2' }] });
    await expect(sendRiskEvent({ eventBridge: client, detailType: 'RiskLimitBreach' }, event, NOW)).rejects.toThrow(/detailType: must be one of/);
    expect(sent).toEqual([]);
  });

  test('an entry EventBridge failed is an error, with its code', async () => {
    const { client } = recordingClient({ Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }], FailedEntryCount: 1 });
    await expect(sendRiskEvent({ eventBridge: client }, event, NOW)).rejects.toThrow('EventBridge refused the event: ThrottlingException slow down');
  });

  test('an invalid event is never sent', async () => {
    const { sent, client } = recordingClient({ MessageId: 'm-4' });
    await expect(sendRiskEvent({ sqs: client, queueUrl: 'q' }, { eventId: 'e7', symbol: 'btc', leverage: 5 }, NOW)).rejects.toThrow(InvalidRiskEventError);
    expect(sent).toEqual([]);
  });
});
