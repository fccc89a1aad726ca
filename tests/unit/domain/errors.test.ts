import {
  asGuardError,
  AuthenticationError,
  describeError,
  ExecutionUnknownError,
  GuardError,
  PermanentError,
  RetryableError,
  SkipDecision,
  withoutAwsIdentity,
} from '../../../functions/domain/errors.ts';

describe('error taxonomy', () => {
  test.each([
    [new PermanentError(-1121, 'Binance -1121: Invalid symbol.'), 'PermanentError', false],
    [new RetryableError('TIMEOUT', 't', 1500), 'RetryableError', true],
    [new ExecutionUnknownError(-1007, 'Binance -1007: Timeout'), 'ExecutionUnknownError', true],
    [new AuthenticationError(-2015, 'Binance -2015: Invalid API-key, IP, or permissions for action.'), 'AuthenticationError', true],
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

test('AuthenticationError is retryable (a RetryableError), never permanent: the key, not the event, is at fault', () => {
  const error = new AuthenticationError('CREDENTIALS_UNAVAILABLE', 'x', undefined, { cause: 'c' });
  expect([error instanceof RetryableError, error instanceof PermanentError, error.retryable, error.cause]).toEqual([true, false, true, 'c']);
});

describe('withoutAwsIdentity', () => {
  test.each([
    ['an assumed-role caller',
      'User: arn:aws:sts::123456789012:assumed-role/leverage-guard-prod-lambdaRole/leverage-guard-prod-changeLeverage is not authorized to perform: sns:Publish',
      'User: <arn> is not authorized to perform: sns:Publish'],
    ['a resource ARN with a path and a suffix', 'on resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:leverage-guard/desk-2-AbCdEf because',
      'on resource: <arn> because'],
    ['ARNs of other partitions', 'arn:aws-cn:iam::123456789012:role/a and arn:aws-us-gov:iam::123456789012:user/b', '<arn> and <arn>'],
    ['an ARN without an account (S3)', 'bucket arn:aws:s3:::leverage-guard-artifacts/key', 'bucket <arn>'],
    ['an ARN in quotes, in parentheses, before a comma', `"arn:aws:sns:eu-west-1:123456789012:outcomes" (arn:aws:sqs:eu-west-1:123456789012:q), arn:aws:iam::123456789012:root;`,
      '"<arn>" (<arn>), <arn>;'],
    ['an ARN at the end of a sentence (the full stop goes with it)', 'denied by arn:aws:iam::123456789012:role/x.', 'denied by <arn>'],
    ['a bare account id', 'account 123456789012 is not subscribed', 'account <account> is not subscribed'],
    ['an account id in a queue URL', 'https://sqs.eu-west-1.amazonaws.com/123456789012/risk-events', 'https://sqs.eu-west-1.amazonaws.com/<account>/risk-events'],
    ['an account id between separators', 'owner=123456789012,region=eu-west-1', 'owner=<account>,region=eu-west-1'],
    ['several of each', 'arn:aws:iam::111111111111:role/a 222222222222 arn:aws:iam::333333333333:role/b 444444444444',
      '<arn> <account> <arn> <account>'],
  ])('%s: removed', (_name, text, scrubbed) => {
    expect(withoutAwsIdentity(text)).toBe(scrubbed);
  });

  test.each([
    ['epoch milliseconds (13 digits)', 'timestamp 1764064800000'],
    ['11 digits', 'order 12345678901'],
    ['a 12-digit fraction', 'notional 0.123456789012'],
    ['a decimal with 12 integer digits', 'notional 123456789012.5'],
    ['Binance codes and leverage', 'Binance -2015: Invalid API-key, IP, or permissions for action. leverage 125'],
    ['the words arn and aws', 'a warning about aws quotas'],
  ])('%s: kept', (_name, text) => {
    expect(withoutAwsIdentity(text)).toBe(text);
  });

  test.each([
    ['PermanentError', (message: string) => new PermanentError('X', message)],
    ['SkipDecision', (message: string) => new SkipDecision('X', message)],
    ['RetryableError', (message: string) => new RetryableError('X', message)],
    ['ExecutionUnknownError', (message: string) => new ExecutionUnknownError('X', message)],
    ['AuthenticationError', (message: string) => new AuthenticationError('X', message)],
  ])('every %s message is scrubbed when it is made', (_name, make) => {
    expect(make('topic arn:aws:sns:eu-west-1:123456789012:outcomes of 123456789012').message).toBe('topic <arn> of <account>');
  });

  test('describeError scrubs what a foreign error says', () => {
    const denied = Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized in 123456789012'), { name: 'AccessDeniedException' });
    expect(describeError(denied)).toBe('AccessDeniedException: User: <arn> is not authorized in <account>');
    expect(describeError('arn:aws:iam::123456789012:role/r')).toBe('<arn>');
  });

  test('asGuardError wraps a foreign error without its identities', () => {
    const error = asGuardError(new Error('no access to arn:aws:dynamodb:eu-west-1:123456789012:table/state'));
    expect([error.code, error.message]).toEqual(['INTERNAL_ERROR', 'Error: no access to <arn>']);
  });
});

test('an account id ending a sentence is scrubbed too', () => {
  expect(withoutAwsIdentity('denied for account 123456789012.')).toBe('denied for account <account>.');
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
    expect(withoutAwsIdentity(text)).toBe(expected);
    expect(describeError(Object.assign(new Error(text), { name: 'AccessDeniedException' }))).toBe(`AccessDeniedException: ${expected}`);
  });
});
