/**
 * The operators' pause switch: an SSM parameter whose value `true` stops all exchange traffic,
 * with no deploy. Read at most every 10 s per container; a missing parameter means "not paused",
 * any other failure to read it is an error (the caller then stays paused: fail closed).
 */
import { describeError, RetryableError, withoutAwsIdentifiers } from '../../domain/errors.ts';
import type { Deadline, PauseSwitch } from '../../domain/ports.ts';
import { type AwsJsonCall, AwsServiceError } from '../aws-json/aws-json-client.ts';

export const PAUSE_CACHE_MS = 10_000;
const PAUSED_VALUES = /^\s*(true|paused|on|yes|1)\s*$/i;

export class SsmPauseSwitch implements PauseSwitch {
  private cached: { at: number; paused: Promise<boolean> } | undefined;

  constructor(
    private readonly call: AwsJsonCall,
    private readonly parameterName: string,
    private readonly now: () => number = Date.now,
  ) {}

  isPaused(deadline?: Deadline): Promise<boolean> {
    if (this.cached && this.now() - this.cached.at < PAUSE_CACHE_MS) return this.cached.paused;
    const entry = { at: this.now(), paused: this.read(deadline) };
    this.cached = entry;
    entry.paused.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return entry.paused;
  }

  private async read(deadline: Deadline | undefined): Promise<boolean> {
    try {
      const reply = await this.call<{ Parameter?: { Value?: string } }>('GetParameter', { Name: this.parameterName }, deadline);
      return PAUSED_VALUES.test(reply.Parameter?.Value ?? '');
    } catch (error) {
      if (error instanceof AwsServiceError && error.errorName === 'ParameterNotFound') return false;
      const reason = describeError(error);
      throw new RetryableError('PAUSE_SWITCH_UNAVAILABLE', `could not read ${withoutAwsIdentifiers(this.parameterName)} (${reason})`, undefined, { cause: error });
    }
  }
}
