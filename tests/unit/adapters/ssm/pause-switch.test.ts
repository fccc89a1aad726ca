import { AwsServiceError, type AwsJsonCall } from '../../../../functions/adapters/aws-json/aws-json-client.ts';
import { PAUSE_CACHE_MS, SsmPauseSwitch } from '../../../../functions/adapters/ssm/pause-switch.ts';
import { RetryableError } from '../../../../functions/domain/errors.ts';
import { answer, deferred, play, raise, rejectionOf, type Reply, waitFor } from '../../../support/fakes.ts';

const PARAMETER = '/leverage-guard/prod/paused';
const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

const value = (text: string) => answer({ Parameter: { Name: PARAMETER, Type: 'String', Value: text, Version: 3 } });

/** A switch over a scripted GetParameter (then "false"), with a clock the test moves. */
function switchWith(...replies: Reply<unknown>[]) {
  const requests: [string, object][] = [];
  const clock = { now: T0 };
  const call = (async (operation: string, input: object) => {
    requests.push([operation, input]);
    return play(replies.shift() ?? value('false'));
  }) as AwsJsonCall;
  return { requests, clock, pause: new SsmPauseSwitch(call, PARAMETER, () => clock.now) };
}

/** Only whether the switch pauses. */
const isPaused = (pause: SsmPauseSwitch) => pause.state().then((state) => state.paused);

describe('SsmPauseSwitch: the parameter value (fail closed)', () => {
  test.each(['true', ' true ', 'true\n'])('%p: paused', async (text) => {
    const { requests, pause } = switchWith(value(text));
    await expect(pause.state()).resolves.toEqual({ paused: true });
    expect(requests).toEqual([['GetParameter', { Name: PARAMETER }]]);
  });

  test.each(['false', ' false', 'false\n'])('%p: running', async (text) => {
    await expect(switchWith(value(text)).pause.state()).resolves.toEqual({ paused: false });
  });

  // Issue 8, case 8: these all read as "running" before; any value that is not exactly true or
  // false now pauses and is reported, so a typo can never turn the switch off.
  test.each(['ture', 'pause', 'stop', 'enabled', 'TRUE', 'False', 'FALSE', 'off', 'no', '0', '1', '', 'truee', 'true false'])(
    '%p: paused, and the value is reported as unrecognised',
    async (text) => {
      await expect(switchWith(value(text)).pause.state()).resolves.toEqual({ paused: true, unrecognisedValue: text.trim() });
    },
  );

  test.each([
    ['no Parameter', {}],
    ['a Parameter without Value', { Parameter: { Name: PARAMETER } }],
  ])('a reply with %s: paused (not understood)', async (_name, reply) => {
    await expect(switchWith(answer(reply)).pause.state()).resolves.toEqual({ paused: true, unrecognisedValue: '' });
  });

  test('a missing parameter (ParameterNotFound): not paused', async () => {
    const { pause } = switchWith(raise(new AwsServiceError('ParameterNotFound', 'Parameter /leverage-guard/prod/paused not found.', 400)));
    await expect(isPaused(pause)).resolves.toBe(false);
  });

  test.each([
    ['access denied', new AwsServiceError('AccessDeniedException', 'not authorized to perform ssm:GetParameter', 400),
      'AccessDeniedException: not authorized to perform ssm:GetParameter'],
    ['throttling', new AwsServiceError('ThrottlingException', 'Rate exceeded', 400), 'ThrottlingException: Rate exceeded'],
    ['a network error', new Error('connect ETIMEDOUT'), 'Error: connect ETIMEDOUT'],
    ['a thrown string', 'gone', 'gone'],
  ])('%s: RetryableError PAUSE_SWITCH_UNAVAILABLE naming the parameter, keeping the cause', async (_name, thrown, reason) => {
    const error = await rejectionOf<RetryableError>(switchWith(raise(thrown)).pause.state());
    expect([error.constructor.name, error.code, error.message, error.cause]).toEqual([
      'RetryableError',
      'PAUSE_SWITCH_UNAVAILABLE',
      `could not read ${PARAMETER} (${reason})`,
      thrown,
    ]);
  });
});

describe('SsmPauseSwitch: read at most every 10 s', () => {
  test.each([
    ['just after the read', 0, 1],
    ['10 s minus 1 ms later', 9_999, 1],
    ['exactly 10 s later', 10_000, 2],
    ['a minute later', 60_000, 2],
  ])('asked again %s: %p read(s) in all', async (_name, laterMs, reads) => {
    const { requests, clock, pause } = switchWith(value('true'), value('false'));
    await expect(isPaused(pause)).resolves.toBe(true);
    clock.now += laterMs;
    await expect(isPaused(pause)).resolves.toBe(reads === 1);
    expect(requests).toHaveLength(reads);
  });

  test('the cache period is exported as 10 s', () => {
    expect(PAUSE_CACHE_MS).toBe(10_000);
  });

  test('concurrent callers share one read', async () => {
    const reply = deferred<unknown>();
    const { requests, pause } = switchWith(waitFor(reply));
    const both = Promise.all([isPaused(pause), isPaused(pause)]);
    reply.resolve({ Parameter: { Value: 'true' } });
    await expect(both).resolves.toEqual([true, true]);
    expect(requests).toHaveLength(1);
  });

  test('a failed read is not cached: the next call reads again at once', async () => {
    const { requests, pause } = switchWith(raise(new Error('timeout')), value('true'));
    await expect(isPaused(pause)).rejects.toBeInstanceOf(RetryableError);
    await expect(isPaused(pause)).resolves.toBe(true);
    expect(requests).toHaveLength(2);
  });

  test('a missing parameter is cached like a value', async () => {
    const { requests, pause } = switchWith(raise(new AwsServiceError('ParameterNotFound', 'not found', 400)), value('true'));
    await isPaused(pause);
    await expect(isPaused(pause)).resolves.toBe(false);
    expect(requests).toHaveLength(1);
  });
});

test('the read is bounded by the caller\'s deadline', async () => {
  const deadlines: unknown[] = [];
  const call = (async (_operation: string, _input: object, deadline?: unknown) => {
    deadlines.push(deadline);
    return { Parameter: { Value: 'false' } };
  }) as AwsJsonCall;
  const deadline = { remainingMs: () => 1234 };
  await new SsmPauseSwitch(call, PARAMETER, () => T0).state(deadline);
  expect(deadlines).toEqual([deadline]);
});

test('a parameter given by ARN is not named in the error (it would carry the AWS account id)', async () => {
  const call = (async () => {
    throw new AwsServiceError('AccessDeniedException', 'denied', 400);
  }) as AwsJsonCall;
  const error = await rejectionOf<RetryableError>(new SsmPauseSwitch(call, 'arn:aws:ssm:eu-west-1:123456789012:parameter/leverage-guard/paused', () => T0).state());
  expect(error.message).toBe('could not read <arn> (AccessDeniedException: denied)');
});
