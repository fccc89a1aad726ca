/**
 * Account credentials from Secrets Manager, cached per secret id across warm invocations
 * (TtlCache: concurrent records of one account share one fetch, a failed fetch is not cached).
 * Secret values never appear in errors.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuthenticationError, describeError, RetryableError } from '../../domain/errors.ts';
import type { ApiCredentials, CredentialStore, Deadline } from '../../domain/ports.ts';
import { sendWithin } from '../aws-sdk/bounded-call.ts';
import { TtlCache } from '../ttl-cache.ts';

export interface CredentialStoreOptions {
  /** Secret id or ARN; `{accountId}` is replaced by the event's account. */
  secretIdTemplate: string;
  ttlMs: number;
  now?: () => number;
}

export class SecretsManagerCredentialStore implements CredentialStore {
  private readonly cache: TtlCache<string, ApiCredentials>;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: CredentialStoreOptions,
  ) {
    this.cache = new TtlCache(options.ttlMs, options.now ?? Date.now);
  }

  /** A fetch shared by concurrent callers is bounded by the first caller's deadline (one invocation's). */
  forAccount(accountId: string, deadline?: Deadline): Promise<ApiCredentials> {
    const secretId = this.secretIdOf(accountId);
    return this.cache.get(secretId, () => this.fetch(secretId, accountId, deadline));
  }

  /** Drops the cached credentials if they are still the refused ones (a newer fetch is kept). */
  invalidate(accountId: string, refused: ApiCredentials): Promise<void> {
    return this.cache.invalidateIf(this.secretIdOf(accountId), (cached) => cached === refused);
  }

  private secretIdOf(accountId: string): string {
    return this.options.secretIdTemplate.replaceAll('{accountId}', accountId);
  }

  /**
   * Errors name the account, not the secret: its id may be an ARN, and AWS's own messages name the
   * caller's role; both are scrubbed (see withoutAwsIdentity).
   */
  private async fetch(secretId: string, accountId: string, deadline: Deadline | undefined): Promise<ApiCredentials> {
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await sendWithin(deadline, 'reading the credentials', (options) =>
        this.client.send(new GetSecretValueCommand({ SecretId: secretId }), options),
      ));
    } catch (error) {
      if (error instanceof RetryableError) throw error;
      const reason = describeError(error);
      throw new AuthenticationError('CREDENTIALS_UNAVAILABLE', `Secrets Manager could not return the credentials of account ${accountId} (${reason})`, undefined, { cause: error });
    }
    return parseCredentials(accountId, secretString);
  }
}

/** `{"apiKey","apiSecret"}` (HMAC) or `{"apiKey","privateKey"}` (Ed25519/RSA PKCS#8 PEM). */
export function parseCredentials(accountId: string, secretString: string | undefined): ApiCredentials {
  const invalid = (why: string) =>
    new AuthenticationError('INVALID_CREDENTIALS', `the credentials secret of account ${accountId} ${why}; expected JSON {"apiKey","apiSecret"} or {"apiKey","privateKey"}`);
  let value: unknown;
  try {
    value = JSON.parse(secretString ?? '');
  } catch {
    throw invalid('is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw invalid('is not a JSON object');
  const { apiKey, apiSecret, privateKey } = value as Record<string, unknown>;
  if (!isFilled(apiKey)) throw invalid('has no apiKey');
  if (isFilled(apiSecret) === isFilled(privateKey)) throw invalid('must hold exactly one of apiSecret and privateKey');
  return isFilled(apiSecret) ? { apiKey, apiSecret } : { apiKey, privateKey: privateKey as string };
}

function isFilled(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
