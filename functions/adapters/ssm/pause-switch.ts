/**
 * The operators' pause switch: an SSM parameter whose value `true` stops all exchange traffic,
 * with no deploy. Read at most every 10 s per container. Fail closed: only a missing parameter or
 * exactly `false` means running; any other value (`ture`, `stop`, `enabled`…) pauses, and any other
 * failure to read it is an error (the caller then stays paused).
 */
import { describeError, RetryableError } from '../../domain/errors.ts';
import type { Deadline, PauseState, PauseSwitch } from '../../domain/ports.ts';
import { type AwsJsonCall, type AwsJsonService, AwsServiceError, createAwsJsonClient } from '../aws-json/aws-json-client.ts';
import { TtlCache } from '../ttl-cache.ts';

/** SSM's wire protocol: JSON 1.1, targets `AmazonSSM.<Operation>`. */
export const SSM_JSON: AwsJsonService = { service: 'ssm', targetPrefix: 'AmazonSSM', jsonVersion: '1.1', endpointId: 'SSM' };

/** The signed SSM call the pause switch runs on (endpoint from the SDK's variables). */
export function createSsmCall(env: Record<string, string | undefined> = process.env): AwsJsonCall {
  return createAwsJsonClient(SSM_JSON, env);
}

export const PAUSE_CACHE_MS = 10_000;
const RUNNING_VALUE = 'false';
const PAUSED_VALUE = 'true';

export class SsmPauseSwitch implements PauseSwitch {
  private readonly cache: TtlCache<'state', PauseState>;

  constructor(
    private readonly call: AwsJsonCall,
    private readonly parameterName: string,
    now: () => number = Date.now,
  ) {
    this.cache = new TtlCache(PAUSE_CACHE_MS, now);
  }

  state(deadline?: Deadline): Promise<PauseState> {
    return this.cache.get('state', () => this.read(deadline));
  }

  private async read(deadline: Deadline | undefined): Promise<PauseState> {
    try {
      const reply = await this.call<{ Parameter?: { Value?: string } }>('GetParameter', { Name: this.parameterName }, deadline);
      // Surrounding whitespace is how `aws ssm put-parameter --value "false "` typos look; case is not.
      const value = (reply.Parameter?.Value ?? '').trim();
      if (value === RUNNING_VALUE) return { paused: false };
      return value === PAUSED_VALUE ? { paused: true } : { paused: true, unrecognisedValue: value };
    } catch (error) {
      if (error instanceof AwsServiceError && error.errorName === 'ParameterNotFound') return { paused: false };
      const reason = describeError(error);
      throw new RetryableError('PAUSE_SWITCH_UNAVAILABLE', `could not read ${this.parameterName} (${reason})`, undefined, { cause: error });
    }
  }
}
