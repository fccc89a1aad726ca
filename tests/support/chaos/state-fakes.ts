/**
 * The safety rails' shared state, for chaos runs: the semantic in-memory StateStore of
 * tests/support/fakes.ts (it behaves like the DynamoDB one: completed targets, last applied
 * issuedAt per key, claims refused for older events) behind a decorator that fails calls per a
 * schedule the way the DynamoDB adapter reports an unusable table, and a pause switch the driver
 * sets per invocation.
 */
import { RetryableError } from '../../../functions/domain/errors.ts';
import type { Claim, PauseSwitch, StateStore, TargetRef } from '../../../functions/domain/ports.ts';
import { FakeStateStore } from '../fakes.ts';

export interface StateFailure {
  method: 'isCompleted' | 'markCompleted' | 'claim' | 'release' | 'lastAppliedIssuedAt';
  ref: TargetRef;
  invocation: number;
}

export class FlakyStateStore implements StateStore {
  readonly failures: StateFailure[] = [];
  /** Set by whoever drives invocations. */
  invocation = 0;
  private calls = 0;

  /**
   * @param spareRelease never fail a claim's release (the known bug in tests/chaos/known-bugs.test.ts
   *   makes any failed release after an applied change break the order).
   */
  constructor(
    private readonly schedule: readonly boolean[],
    private readonly spareRelease = false,
    readonly inner: StateStore = new FakeStateStore(),
  ) {}

  isCompleted(ref: TargetRef): Promise<boolean> {
    return this.guard('isCompleted', ref, () => this.inner.isCompleted(ref));
  }

  markCompleted(ref: TargetRef): Promise<void> {
    return this.guard('markCompleted', ref, () => this.inner.markCompleted(ref));
  }

  lastAppliedIssuedAt(ref: TargetRef): Promise<string | undefined> {
    return this.guard('lastAppliedIssuedAt', ref, () => this.inner.lastAppliedIssuedAt(ref));
  }

  async claim(ref: TargetRef, issuedAt: string | undefined, leaseMs: number): Promise<Claim> {
    const claim = await this.guard('claim', ref, () => this.inner.claim(ref, issuedAt, leaseMs));
    if (!claim.claimed) return claim;
    return { claimed: true, release: (applied) => (this.spareRelease ? claim.release(applied) : this.guard('release', ref, () => claim.release(applied))) };
  }

  private async guard<T>(method: StateFailure['method'], ref: TargetRef, call: () => Promise<T>): Promise<T> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.schedule[this.calls++] ?? false) {
      this.failures.push({ method, ref, invocation: this.invocation });
      throw new RetryableError('STATE_STORE_UNAVAILABLE', `the state table could not be used (chaos: ${method} failed)`);
    }
    return call();
  }
}

/** Paused, not paused or unreadable, as the driver says for the current invocation. */
export class ScriptedPauseSwitch implements PauseSwitch {
  state: 'no' | 'yes' | 'unreadable' = 'no';

  async isPaused(): Promise<boolean> {
    if (this.state === 'unreadable') throw new Error('ParameterNotFound (chaos)');
    return this.state === 'yes';
  }
}
