import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCredentials, SecretsManagerCredentialStore } from '../../../../functions/adapters/secrets-manager/credential-store.ts';
import { AuthenticationError, type GuardError, RetryableError } from '../../../../functions/domain/errors.ts';
import { answer, deferred, fixedDeadline, play, raise, rejectionOf, type Reply, settleUntil, thrownBy, waitFor } from '../../../support/fakes.ts';

type SecretReply = { SecretString?: string };

/** Stands in for SecretsManagerClient: records each GetSecretValue and answers from a script. */
class FakeSecretsManager {
  readonly commands: GetSecretValueCommand[] = [];
  readonly replies: Reply<SecretReply>[] = [];

  readonly signals: AbortSignal[] = [];

  send(command: GetSecretValueCommand, options: { abortSignal: AbortSignal }): Promise<SecretReply> {
    this.commands.push(command);
    this.signals.push(options.abortSignal);
    return play(this.replies.shift() ?? answer({ SecretString: HMAC_SECRET }));
  }

  secretIds(): (string | undefined)[] {
    return this.commands.map((command) => command.input.SecretId);
  }
}

const HMAC_SECRET = JSON.stringify({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
const EXPECTED = 'expected JSON {"apiKey","apiSecret"} or {"apiKey","privateKey"}';

function storeWith(ttlMs = 60_000, template = 'leverage-guard/{accountId}/binance') {
  const client = new FakeSecretsManager();
  const clock = { now: 1_000 };
  const store = new SecretsManagerCredentialStore(client as unknown as SecretsManagerClient, {
    secretIdTemplate: template,
    ttlMs,
    now: () => clock.now,
  });
  return { client, clock, store };
}

describe('SecretsManagerCredentialStore', () => {
  test('reads the secret named by the template and returns its credentials', async () => {
    const { client, store } = storeWith(60_000, 'arn:aws:secretsmanager:eu-west-1:1:secret:{accountId}/binance-{accountId}');
    await expect(store.forAccount('desk-2')).resolves.toEqual({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
    expect(client.commands[0]).toBeInstanceOf(GetSecretValueCommand);
    expect(client.secretIds()).toEqual(['arn:aws:secretsmanager:eu-west-1:1:secret:desk-2/binance-desk-2']);
  });

  test.each([
    [999, 1, true],
    [1000, 2, false],
  ])('with a 1000 ms TTL, a call %p ms later makes %p fetch(es) in all', async (later, fetches, sameObject) => {
    const { client, clock, store } = storeWith(1000);
    const first = await store.forAccount('default');
    clock.now += later;
    const second = await store.forAccount('default');
    expect(client.commands).toHaveLength(fetches);
    expect(second === first).toBe(sameObject);
  });

  test('each account has its own cache entry', async () => {
    const { client, store } = storeWith();
    await store.forAccount('a');
    await store.forAccount('b');
    await store.forAccount('a');
    expect(client.secretIds()).toEqual(['leverage-guard/a/binance', 'leverage-guard/b/binance']);
  });

  test('concurrent calls for one account share a single fetch', async () => {
    const { client, store } = storeWith();
    const pending = deferred<SecretReply>();
    client.replies.push(waitFor(pending));
    const calls = [store.forAccount('default'), store.forAccount('default'), store.forAccount('default')];
    await settleUntil(() => false, 5);
    expect(client.commands).toHaveLength(1);
    pending.resolve({ SecretString: HMAC_SECRET });
    const [a, b, c] = await Promise.all(calls);
    expect(a).toEqual({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
    expect([b, c]).toEqual([a, a]);
    expect(b).toBe(a);
  });

  test('a failed read is an AuthenticationError (retryable) CREDENTIALS_UNAVAILABLE naming the account and the cause, and is not cached', async () => {
    const { client, store } = storeWith();
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    client.replies.push(raise(denied));
    const error = await rejectionOf<GuardError>(store.forAccount('default'));
    expect([error instanceof AuthenticationError, error instanceof RetryableError, error.retryable]).toEqual([true, true, true]);
    expect([error.code, error.message, error.cause]).toEqual([
      'CREDENTIALS_UNAVAILABLE',
      'Secrets Manager could not return the credentials of account default (AccessDeniedException: User is not authorized)',
      denied,
    ]);
    await expect(store.forAccount('default')).resolves.toEqual({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
    expect(client.commands).toHaveLength(2);
  });

  test('a Secrets Manager that never answers is abandoned when the deadline runs out, and not cached', async () => {
    const { client, store } = storeWith();
    const hanging = deferred<SecretReply>();
    client.replies.push(waitFor(hanging));
    const reading = rejectionOf<GuardError>(store.forAccount('default', fixedDeadline(100)));
    // As the SDK does: an abort ends the call.
    client.signals[0]!.addEventListener('abort', () => hanging.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
    const error = await reading;
    expect([error.code, error.message]).toEqual(['CREDENTIALS_UNAVAILABLE', 'Secrets Manager could not return the credentials of account default (CallTimeoutError: no answer within 100 ms)']);
    await expect(store.forAccount('default')).resolves.toEqual({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
  });

  test('no time left: TIME_BUDGET_EXHAUSTED, nothing sent', async () => {
    const { client, store } = storeWith();
    const error = await rejectionOf<GuardError>(store.forAccount('default', fixedDeadline(0)));
    expect([error.code, client.commands]).toEqual(['TIME_BUDGET_EXHAUSTED', []]);
  });

  test('an ARN template and an AWS error naming the role: neither ARN nor AWS account id reaches the message', async () => {
    const { client, store } = storeWith(60_000, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:{accountId}');
    client.replies.push(raise(Object.assign(new Error('User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized'), { name: 'AccessDeniedException' })));
    const error = await rejectionOf<GuardError>(store.forAccount('desk-2'));
    expect(error.message).toBe('Secrets Manager could not return the credentials of account desk-2 (AccessDeniedException: User: <arn> is not authorized)');
  });

  test('a thrown non-Error is described as text', async () => {
    const { client, store } = storeWith();
    client.replies.push(raise('connection reset'));
    expect((await rejectionOf<GuardError>(store.forAccount('x'))).message).toBe('Secrets Manager could not return the credentials of account x (connection reset)');
  });

  test('neither the secret ARN nor the caller\'s assumed-role ARN nor the AWS account id appears in the error', async () => {
    const { client, store } = storeWith(60_000, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:leverage-guard/{accountId}');
    const denied = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/leverage-guard-prod-eu-west-1-lambdaRole/leverage-guard-prod-changeLeverage ' +
          'is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:leverage-guard/desk-2-AbCdEf ' +
          'because no identity-based policy allows the secretsmanager:GetSecretValue action',
      ),
      { name: 'AccessDeniedException' },
    );
    client.replies.push(raise(denied));
    const error = await rejectionOf<GuardError>(store.forAccount('desk-2'));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      'Secrets Manager could not return the credentials of account desk-2 (AccessDeniedException: User: <arn> is not authorized to perform: ' +
        'secretsmanager:GetSecretValue on resource: <arn> because no identity-based policy allows the secretsmanager:GetSecretValue action)',
    );
    for (const identity of ['arn:', '123456789012', 'assumed-role', 'lambdaRole']) expect(error.message).not.toContain(identity);
  });

  test('an unparsable secret fetched by ARN names the account, not the ARN', async () => {
    const { client, store } = storeWith(60_000, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:leverage-guard/{accountId}');
    client.replies.push(answer({ SecretString: 'not json' }));
    const error = await rejectionOf<GuardError>(store.forAccount('desk-2'));
    expect([error instanceof AuthenticationError, error.code, error.message]).toEqual([
      true,
      'INVALID_CREDENTIALS',
      `the credentials secret of account desk-2 is not JSON; ${EXPECTED}`,
    ]);
  });

  test('a secret that does not parse is not cached either: fixing it takes effect at once', async () => {
    const { client, store } = storeWith();
    client.replies.push(answer({ SecretString: '{"apiKey":"AK-1"}' }));
    expect((await rejectionOf<GuardError>(store.forAccount('default'))).code).toBe('INVALID_CREDENTIALS');
    await expect(store.forAccount('default')).resolves.toEqual({ apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
    expect(client.commands).toHaveLength(2);
  });
});

describe('parseCredentials', () => {
  test.each([
    ['HMAC', { apiKey: 'AK', apiSecret: 'SK' }, { apiKey: 'AK', apiSecret: 'SK' }],
    ['private key', { apiKey: 'AK', privateKey: '-----BEGIN PRIVATE KEY-----' }, { apiKey: 'AK', privateKey: '-----BEGIN PRIVATE KEY-----' }],
    ['HMAC, empty privateKey, extra field dropped', { apiKey: 'AK', apiSecret: 'SK', privateKey: '', note: 'n' }, { apiKey: 'AK', apiSecret: 'SK' }],
  ])('%s', (_name, secret, credentials) => {
    expect(parseCredentials('s', JSON.stringify(secret))).toStrictEqual(credentials);
  });

  const SECRET_VALUES = ['TOP-SECRET-HMAC', 'TOP-SECRET-PEM', 'TOP-SECRET-KEY'];
  test.each([
    ['both apiSecret and privateKey', JSON.stringify({ apiKey: 'TOP-SECRET-KEY', apiSecret: 'TOP-SECRET-HMAC', privateKey: 'TOP-SECRET-PEM' }), 'must hold exactly one of apiSecret and privateKey'],
    ['neither', JSON.stringify({ apiKey: 'TOP-SECRET-KEY' }), 'must hold exactly one of apiSecret and privateKey'],
    ['empty values', JSON.stringify({ apiKey: 'TOP-SECRET-KEY', apiSecret: '', privateKey: '' }), 'must hold exactly one of apiSecret and privateKey'],
    ['no apiKey', JSON.stringify({ apiSecret: 'TOP-SECRET-HMAC' }), 'has no apiKey'],
    ['an empty apiKey', JSON.stringify({ apiKey: '', apiSecret: 'TOP-SECRET-HMAC' }), 'has no apiKey'],
    ['a numeric apiKey', JSON.stringify({ apiKey: 7, apiSecret: 'TOP-SECRET-HMAC' }), 'has no apiKey'],
    ['a JSON array', JSON.stringify(['TOP-SECRET-KEY', 'TOP-SECRET-HMAC']), 'has no apiKey'],
    ['JSON null', 'null', 'is not a JSON object'],
    ['a JSON string', JSON.stringify('TOP-SECRET-HMAC'), 'is not a JSON object'],
    ['not JSON', 'apiKey=TOP-SECRET-KEY apiSecret=TOP-SECRET-HMAC', 'is not JSON'],
    ['a binary secret (no SecretString)', undefined, 'is not JSON'],
  ])('%s: AuthenticationError INVALID_CREDENTIALS naming the account, and no secret value in the message', (_name, secretString, why) => {
    const error = thrownBy<RetryableError>(() => parseCredentials('desk-2', secretString));
    expect([error instanceof AuthenticationError, error.retryable]).toEqual([true, true]);
    expect([error.code, error.message]).toEqual(['INVALID_CREDENTIALS', `the credentials secret of account desk-2 ${why}; ${EXPECTED}`]);
    for (const value of SECRET_VALUES) expect(error.message).not.toContain(value);
  });
});

test('a stale failing fetch does not evict the newer in-flight fetch', async () => {
  const { client, clock, store } = storeWith(1000);
  const stale = deferred<SecretReply>();
  const fresh = deferred<SecretReply>();
  client.replies.push(waitFor(stale), waitFor(fresh));
  const first = store.forAccount('default');
  clock.now += 1000;
  const second = store.forAccount('default');
  stale.reject(new Error('timeout'));
  await rejectionOf(first);
  const third = store.forAccount('default');
  fresh.resolve({ SecretString: HMAC_SECRET });
  expect(await third).toBe(await second);
  expect(client.commands).toHaveLength(2);
});

describe('SecretsManagerCredentialStore.invalidate', () => {
  const ROTATED_SECRET = JSON.stringify({ apiKey: 'AK-2', apiSecret: 'ROTATED' });

  test('drops the refused credentials: the next call fetches the rotated key at once, TTL or not', async () => {
    const { client, store } = storeWith();
    client.replies.push(answer({ SecretString: HMAC_SECRET }), answer({ SecretString: ROTATED_SECRET }));
    const refused = await store.forAccount('desk-2');
    await store.invalidate('desk-2', refused);
    await expect(store.forAccount('desk-2')).resolves.toEqual({ apiKey: 'AK-2', apiSecret: 'ROTATED' });
    expect(client.secretIds()).toEqual(['leverage-guard/desk-2/binance', 'leverage-guard/desk-2/binance']);
  });

  test('keeps credentials other than the refused ones (another record already fetched the new key)', async () => {
    const { client, store } = storeWith();
    const cached = await store.forAccount('desk-2');
    await store.invalidate('desk-2', { ...cached });
    expect(await store.forAccount('desk-2')).toBe(cached);
    expect(client.commands).toHaveLength(1);
  });

  test('keeps a newer fetch that already replaced the refused credentials', async () => {
    const { client, clock, store } = storeWith(1000);
    client.replies.push(answer({ SecretString: HMAC_SECRET }), answer({ SecretString: ROTATED_SECRET }));
    const refused = await store.forAccount('desk-2');
    clock.now += 1000;
    const newer = await store.forAccount('desk-2');
    await store.invalidate('desk-2', refused);
    expect(await store.forAccount('desk-2')).toBe(newer);
    expect(client.commands).toHaveLength(2);
  });

  test('keeps a newer fetch still in flight, and waits for it only to compare', async () => {
    const { client, clock, store } = storeWith(1000);
    const rotated = deferred<SecretReply>();
    client.replies.push(answer({ SecretString: HMAC_SECRET }), waitFor(rotated));
    const refused = await store.forAccount('desk-2');
    clock.now += 1000;
    const newer = store.forAccount('desk-2');
    const invalidated = store.invalidate('desk-2', refused);
    rotated.resolve({ SecretString: ROTATED_SECRET });
    await invalidated;
    expect(await store.forAccount('desk-2')).toBe(await newer);
    expect(client.commands).toHaveLength(2);
  });

  test('keeps a newer fetch started while it was comparing', async () => {
    const { client, clock, store } = storeWith(1000);
    client.replies.push(answer({ SecretString: HMAC_SECRET }), answer({ SecretString: ROTATED_SECRET }));
    const refused = await store.forAccount('desk-2');
    clock.now += 1000;
    const invalidated = store.invalidate('desk-2', refused);
    const newer = store.forAccount('desk-2');
    await invalidated;
    expect(await store.forAccount('desk-2')).toBe(await newer);
    expect(client.commands).toHaveLength(2);
  });

  test('touches only the refused account', async () => {
    const { client, store } = storeWith();
    const refused = await store.forAccount('desk-2');
    const other = await store.forAccount('desk-3');
    await store.invalidate('desk-2', refused);
    expect(await store.forAccount('desk-3')).toBe(other);
    await store.forAccount('desk-2');
    expect(client.secretIds()).toEqual(['leverage-guard/desk-2/binance', 'leverage-guard/desk-3/binance', 'leverage-guard/desk-2/binance']);
  });

  test('nothing cached, or a cached fetch that fails: nothing to drop, nothing fetched, no error', async () => {
    const { client, store } = storeWith();
    await expect(store.invalidate('desk-2', { apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' })).resolves.toBeUndefined();
    const failing = deferred<SecretReply>();
    client.replies.push(waitFor(failing));
    const fetch = store.forAccount('desk-2');
    const invalidated = store.invalidate('desk-2', { apiKey: 'AK-1', apiSecret: 'S3CR3T-VALUE' });
    failing.reject(new Error('timeout'));
    await rejectionOf(fetch);
    await expect(invalidated).resolves.toBeUndefined();
    expect(client.commands).toHaveLength(1);
  });
});
