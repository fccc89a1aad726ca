import {
  asGuardError,
  describeError,
  ExecutionUnknownError,
  GuardError,
  PermanentError,
  RetryableError,
  withoutAwsIdentifiers,
} from '../../../functions/domain/errors.ts';

describe('error taxonomy', () => {
  test.each([
    [new PermanentError(-1121, 'Binance -1121: Invalid symbol.'), 'PermanentError', false],
    [new RetryableError('TIMEOUT', 't', 1500), 'RetryableError', true],
    [new ExecutionUnknownError(-1007, 'Binance -1007: Timeout'), 'ExecutionUnknownError', true],
  ])('%p is named %s, retryable %p', (error, name, retryable) => {
    expect([error.name, error.retryable, error instanceof GuardError]).toEqual([name, retryable, true]);
  });

  test('RetryableError keeps retryAfterMs and the cause', () => {
    const cause = new Error('root');
    const error = new RetryableError(-1003, 'slow down', 30_000, { cause });
    expect([error.code, error.message, error.retryAfterMs, error.cause]).toEqual([-1003, 'slow down', 30_000, cause]);
  });

  test('asGuardError returns our own errors untouched', () => {
    const own = new PermanentError(-2015, 'Binance -2015: Invalid API-key, IP, or permissions for action.');
    expect(asGuardError(own)).toBe(own);
  });

  test.each([
    [new TypeError('x is not a function'), 'TypeError: x is not a function'],
    ['plain text', 'plain text'],
    [undefined, 'undefined'],
    [{ code: 5 }, '[object Object]'],
  ])('asGuardError(%p) is a retryable INTERNAL_ERROR %p keeping the cause', (thrown, message) => {
    const error = asGuardError(thrown);
    expect(error).toBeInstanceOf(RetryableError);
    expect([error.code, error.message, error.retryable, error.cause]).toEqual(['INTERNAL_ERROR', message, true, thrown]);
  });
});

describe('foreign errors never carry AWS identifiers', () => {
  test.each([
    [
      'an IAM denial naming the role and the resource',
      'User: arn:aws:sts::123456789012:assumed-role/leverage-guard-prod/fn is not authorized to perform: sns:Publish on resource: arn:aws:sns:ap-northeast-1:123456789012:outcomes',
      'User: <arn> is not authorized to perform: sns:Publish on resource: <arn>',
    ],
    ['a GovCloud/China partition ARN in quotes', 'Secret "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x" not found', 'Secret "<arn>" not found'],
    ['a bare account id', 'account 123456789012 is suspended', 'account <account> is suspended'],
    ['a Binance-sized timestamp is left alone', 'timestamp 1764064800000 outside recvWindow', 'timestamp 1764064800000 outside recvWindow'],
  ])('%s', (_what, text, expected) => {
    expect(withoutAwsIdentifiers(text)).toBe(expected);
    expect(describeError(Object.assign(new Error(text), { name: 'AccessDeniedException' }))).toBe(`AccessDeniedException: ${expected}`);
  });
});
