import { loggerFor, SERVICE_NAME } from '../../../functions/change-leverage/logger.ts';

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
});
