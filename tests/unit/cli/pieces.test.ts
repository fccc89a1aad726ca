// The CLI's offline parts: reading events (one, an array, an npm start event file) with
// field-specific verdicts, and keeping account ids and principals out of its error output.
import { checkEvents } from '../../../cli/commands/validate.ts';
import { maskAccountIds } from '../../../cli/output.ts';

describe('checkEvents', () => {
  test('one event, an array, and an event file, each entry named by where it sits', () => {
    expect(checkEvents({ eventId: 'a', symbol: 'BTCUSDT', leverage: 5 })).toEqual([{ where: 'event', eventId: 'a', valid: true }]);
    expect(checkEvents([{ eventId: 'a', symbol: 'BTCUSDT', leverage: 5 }, { eventId: 'b', symbol: 'BTCUSDT', levrage: 5 }])).toEqual([
      { where: 'events[0]', eventId: 'a', valid: true },
      { where: 'events[1]', eventId: 'b', valid: false, message: expect.stringContaining('levrage: unknown field') },
    ]);
    const file = {
      sqs: [{ eventId: 's', symbol: 'BTCUSDT', leverage: 5 }, 'not json', '{"eventId":"raw","symbol":"ETHUSDT","leverage":0}'],
      eventBridge: [{ 'detail-type': 'RiskLimitBreached', detail: { eventId: 'eb', symbol: 'ETHUSDT', leverage: 3 } }],
      scheduled: [{ schedule: 'weekly', event: { eventId: 'w', symbols: 'ALL_OPEN_POSITIONS', leverage: 10 } }],
    };
    expect(checkEvents(file)).toEqual([
      { where: 'sqs[0]', eventId: 's', valid: true },
      { where: 'sqs[1]', valid: false, message: expect.stringContaining('body is not valid JSON') },
      { where: 'sqs[2]', eventId: 'raw', valid: false, message: 'leverage: must be at least 1, got 0' },
      { where: 'eventBridge[0].detail', eventId: 'eb', valid: true },
      { where: 'scheduled[0]', eventId: 'w', valid: true },
    ]);
  });
});

describe('maskAccountIds', () => {
  test('principals and account ids are masked; other numbers are kept', () => {
    const text = 'User: arn:aws:iam::123456789012:user/alice is not authorized to perform sqs:SendMessage on https://sqs.ap-northeast-1.amazonaws.com/123456789012/q (retry 3 of 1234567890123)';
    expect(maskAccountIds(text)).toBe('User: <principal> is not authorized to perform sqs:SendMessage on https://sqs.ap-northeast-1.amazonaws.com/<account>/q (retry 3 of 1234567890123)');
    expect(maskAccountIds('arn:aws:sts::210987654321:assumed-role/ops/bob')).toBe('<principal>');
  });
});
