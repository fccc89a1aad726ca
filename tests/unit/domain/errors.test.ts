import {
  asGuardError,
  ExecutionUnknownError,
  GuardError,
  PermanentError,
  RetryableError,
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
