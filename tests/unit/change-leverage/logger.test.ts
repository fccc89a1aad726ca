import type { Context } from 'aws-lambda';
import { logger, loggerFor, SERVICE_NAME } from '../../../functions/change-leverage/logger.ts';

describe('loggerFor', () => {
  let lines: string[];
  beforeEach(() => {
    lines = [];
    // Powertools prints info to stdout and warn/error to stderr.
    for (const stream of [process.stdout, process.stderr]) {
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => jest.restoreAllMocks());

  test('every line carries the eventId and passes through redaction', () => {
    loggerFor('evt-42').warn('retrying', { apiSecret: 'S3CR3T', url: '/papi/v1/um/leverage?symbol=BTCUSDT&signature=deadbeef' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '');
    expect(line).toMatchObject({
      level: 'WARN',
      message: 'retrying',
      service: SERVICE_NAME,
      eventId: 'evt-42',
      apiSecret: '[REDACTED]',
      url: '/papi/v1/um/leverage?symbol=BTCUSDT&signature=[REDACTED]',
    });
    expect(lines[0]).not.toContain('S3CR3T');
    expect(lines[0]).not.toContain('deadbeef');
  });

  test('info, warn and error lines of interleaved records each carry their own eventId, and nothing else leaks between them', () => {
    const first = loggerFor('evt-1');
    const second = loggerFor('evt-2');
    first.info('one', { symbol: 'BTCUSDT' });
    second.warn('two');
    first.error('three', { eventIdOfOther: 'x' });
    second.info('four', { symbol: 'ETHUSDT' });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => [line.level, line.message, line.eventId])).toEqual([
      ['INFO', 'one', 'evt-1'],
      ['WARN', 'two', 'evt-2'],
      ['ERROR', 'three', 'evt-1'],
      ['INFO', 'four', 'evt-2'],
    ]);
    expect(parsed[1]).not.toHaveProperty('symbol');
    expect(parsed[3]).not.toHaveProperty('eventIdOfOther');
  });

  test('record lines carry the invocation\'s Lambda context, as the handler\'s own lines do', () => {
    logger.addContext({ functionName: 'change-leverage', awsRequestId: 'req-7', memoryLimitInMB: '128', functionVersion: '$LATEST', invokedFunctionArn: 'arn' } as Context);
    loggerFor('evt-3').info('outcome published');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ eventId: 'evt-3', function_request_id: 'req-7', function_name: 'change-leverage' });
  });
});
