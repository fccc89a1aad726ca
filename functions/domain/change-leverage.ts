/**
 * One event against the exchange: which symbols it touches, and for each one the decision, in
 * this order, because each step depends on the one before:
 * 1. the claim on the account+symbol, which also answers what an earlier delivery already decided
 *    (its outcome is published, or still owed): only a newer APPLIED change supersedes; a newer
 *    one in flight is waited for, or, when its fate is unknown, read back. The claim overlaps the
 *    pause switch, the credentials and the exchange clock: one AWS round trip before the change;
 * 2. whether this event's own change is already in force (a redelivery after a lost outcome);
 * 3. freshness, then cap and reduce-only on the leverage read after the claim, never on an
 *    earlier snapshot (another container or a person may have changed it meanwhile);
 * 4. the change, with a read-back whenever the exchange cannot say whether it executed.
 */
import { AuthenticationError, ExecutionUnknownError, type GuardError, PermanentError, RetryableError, SkipDecision, asGuardError } from './errors.ts';
import { checkCappedChange, checkNotFromFuture, checkNotStale, checkReduction, isFromFuture, isStale, type LeveragePlan, planLeverage, type Policy } from './policy.ts';
import { commandFingerprint, type RiskCommand, type Target } from './risk-event.ts';
import type { Verdict } from './outcome.ts';
import type { ApiCredentials, Claim, ClaimEnd, CredentialStore, Deadline, EarlierDecision, Exchange, LeverageSetting, Log, OpenPosition, StateStore, TargetRef } from './ports.ts';

export interface ExecutionDeps {
  exchange: Exchange;
  credentials: CredentialStore;
  state?: StateStore;
  policy: Policy;
  deadline: Deadline;
  log: Log;
  now(): number;
  /**
   * Resolves once the exchange may be used in this invocation; throws PAUSED (retryable) when the
   * operators' switch says stop or cannot be read. Awaited before the first exchange call, so the
   * switch is read while the claim is made, not before it.
   */
  cleared(): Promise<void>;
}

/** A lease outlives the invocation holding it, so a crashed holder blocks the key only briefly. */
const LEASE_MARGIN_MS = 5_000;

/** `ALREADY_PUBLISHED`: an earlier delivery decided this target and published its outcome. */
export type TargetVerdict = Verdict | { status: 'RETRY'; error: GuardError } | { status: 'ALREADY_PUBLISHED' };

export type HeldClaim = Extract<Claim, { status: 'claimed' }>;

/** What one target came to. The key stays claimed until the outcome is out (see process-batch). */
export interface TargetWork {
  verdict: TargetVerdict;
  claim?: HeldClaim;
  /** What an earlier delivery recorded for this target: the verdict comes from it (unless held by the pause). */
  earlier?: EarlierDecision;
  /** Published but never recorded: the decision item belongs to another command under this eventId. */
  unrecorded?: true;
}

/** The exchange as one account sees it: credentials fetched (cached) per call, a refused key fetched anew once. */
export interface AccountExchange {
  readLeverage(symbol: string): Promise<LeverageSetting>;
  changeLeverage(symbol: string, leverage: number): Promise<LeverageSetting>;
  readOpenPositions(): Promise<OpenPosition[]>;
}

/** @param prefetched the account's credentials, already being fetched while the targets are claimed */
export function accountExchange(
  accountId: string,
  deps: Pick<ExecutionDeps, 'exchange' | 'credentials' | 'deadline' | 'log'>,
  prefetched?: Promise<ApiCredentials>,
): AccountExchange {
  // A rotated key or a fixed IP whitelist must take effect now, not when the cache expires: on a
  // refusal the cached credentials are dropped and the call is made once more with fresh ones.
  const withCredentials = async <T>(call: (credentials: ApiCredentials) => Promise<T>): Promise<T> => {
    const credentials = await (prefetched ?? deps.credentials.forAccount(accountId, deps.deadline));
    try {
      return await call(credentials);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      deps.log.warn('the exchange refused the account credentials; fetching them again and retrying once', { code: error.code });
      await deps.credentials.invalidate(accountId, credentials);
      prefetched = undefined;
      return call(await deps.credentials.forAccount(accountId, deps.deadline));
    }
  };
  return {
    readLeverage: (symbol) => withCredentials((credentials) => deps.exchange.readLeverage(credentials, symbol, deps.deadline)),
    changeLeverage: (symbol, leverage) => withCredentials((credentials) => deps.exchange.changeLeverage(credentials, symbol, leverage, deps.deadline)),
    readOpenPositions: () => withCredentials((credentials) => deps.exchange.readOpenPositions(credentials, deps.deadline)),
  };
}

/** Positions only say which symbols are open; their leverage is read again after each claim. */
export async function resolveTargets(command: RiskCommand, account: AccountExchange): Promise<Target[]> {
  if (command.scope.kind === 'targets') return command.scope.targets;
  const { leverage } = command.scope;
  const positions = await account.readOpenPositions();
  return positions.map((position) => ({ symbol: position.symbol, leverage }));
}

/**
 * While paused nothing is decided, whatever the claim found (the operators may be fixing what
 * would decide it); the claim only overlaps the switch's read.
 * @param redelivered an earlier delivery of this record may have acted (SQS receive count above 1).
 */
export async function executeTarget(
  command: RiskCommand,
  target: Target,
  account: AccountExchange,
  deps: ExecutionDeps,
  redelivered: boolean,
): Promise<TargetWork> {
  const work = await decideTarget(command, target, account, deps, redelivered);
  if (work.verdict.status === 'RETRY') return work;
  try {
    await deps.cleared();
    return work;
  } catch (thrown) {
    return { verdict: verdictForError(thrown), claim: work.claim, ...(work.earlier ? { earlier: work.earlier } : {}) };
  }
}

async function decideTarget(
  command: RiskCommand,
  target: Target,
  account: AccountExchange,
  deps: ExecutionDeps,
  redelivered: boolean,
): Promise<TargetWork> {
  const ref: TargetRef = { eventId: command.eventId, accountId: command.accountId, symbol: target.symbol };
  let claim: HeldClaim | undefined;
  try {
    const plan = planLeverage(deps.policy.caps, target.symbol, target.leverage);
    // Never claimed: such an event can never act. A redelivery still keeps its earlier decision.
    if (isFromFuture(command.issuedAtMs, deps.now())) {
      const earlier = await deps.state?.earlierDecision(ref, deps.deadline);
      if (earlier) return decidedEarlier(earlier, command, target, deps.log, plan);
      checkNotFromFuture(command.issuedAtMs, deps.now());
    }
    if (command.dryRun || deps.policy.dryRun) return await dryRun(command, plan, ref, account, deps);
    const claimed = deps.state ? await claimKey(deps.state, ref, command, plan, account, deps) : undefined;
    if (claimed?.status === 'decided-earlier') return decidedEarlier(claimed.decision, command, target, deps.log, plan);
    if (claimed?.status === 'event-id-reused') return eventIdReused(command, target, claimed.command, deps.log);
    if (claimed?.status === 'applied-earlier') {
      // The key remembers which command it applied: another one under this eventId is not done.
      if (claimed.command !== undefined && claimed.command !== commandFingerprint(command, target)) return eventIdReused(command, target, claimed.command, deps.log);
      return { verdict: appliedEarlier(plan) };
    }
    claim = claimed;
    await clearedFor(claim, deps);
    // Without a state table the receive count is the only hint that an earlier delivery acted: a
    // redelivery that would otherwise read the leverage, or skip as stale, first checks whether its
    // own change is in force (a plain `set` just sends again, which is harmless).
    const decidesOnCurrent = command.mode === 'reduce-only' || plan.capped || isStale(command.issuedAtMs, deps.now(), deps.policy.maxEventAgeMs);
    const ownChangeMayBeInForce = claim?.seenBefore === 'in-flight' || (!deps.state && redelivered && decidesOnCurrent);
    return { verdict: await decideAndApply(command, target, plan, account, deps, ownChangeMayBeInForce), claim };
  } catch (thrown) {
    return { verdict: verdictForError(thrown), claim };
  }
}

/**
 * The pause holds this target. If an earlier delivery left its own change in flight, that change
 * may be in force and is not read back while paused: its fate stays unknown (the claim keeps the
 * marker, and a final receive's FAILED says so), instead of a plain PAUSED.
 */
async function clearedFor(claim: HeldClaim | undefined, deps: ExecutionDeps): Promise<void> {
  try {
    await deps.cleared();
  } catch (thrown) {
    if (claim?.seenBefore !== 'in-flight') throw thrown;
    const error = asGuardError(thrown);
    throw new ExecutionUnknownError('EXECUTION_UNKNOWN', `an earlier delivery's change may have executed, and it was not read back (${error.code}: ${error.message})`, undefined, { cause: thrown });
  }
}

/**
 * An earlier delivery decided this target: nothing more is published if it was, else that very
 * verdict. An APPLIED at the cap was capped, even when another event recorded it (a take-over
 * knows the leverage in force, not the request). A decision made for another command under the
 * same eventId is not this event's: it is REJECTED (never recorded, so the first one's stands).
 */
function decidedEarlier(earlier: EarlierDecision, command: RiskCommand, target: Target, log: Log, plan: LeveragePlan): TargetWork {
  if (earlier.command !== undefined && earlier.command !== commandFingerprint(command, target)) return eventIdReused(command, target, earlier.command, log);
  if (earlier.published) {
    log.info('already decided and published on an earlier delivery', { symbol: target.symbol });
    return { verdict: { status: 'ALREADY_PUBLISHED' }, earlier };
  }
  log.info('decided on an earlier delivery; publishing that decision', { symbol: target.symbol, status: earlier.verdict.status });
  const { verdict } = earlier;
  const cappedHere = plan.capped && verdict.status === 'APPLIED' && verdict.leverage === plan.leverage && !verdict.capped;
  return { verdict: cappedHere ? { ...verdict, capped: true } : verdict, earlier };
}

/** Another command holds this eventId on the symbol: this one is REJECTED, never recorded (the first one's decision stands). */
function eventIdReused(command: RiskCommand, target: Target, earlier: string, log: Log): TargetWork {
  const asked = commandFingerprint(command, target);
  const error = new PermanentError('EVENT_ID_REUSED', `eventId ${command.eventId} was already used on ${target.symbol} for another command (${earlier}); this one (${asked}) is not executed: send it with a new eventId`);
  log.warn('eventId reused for another command', { symbol: target.symbol, earlier, asked });
  return { verdict: { status: 'REJECTED', error }, unrecorded: true };
}

/** The taxonomy as a verdict: retryable → RETRY, a skip decision → SKIPPED, any other → REJECTED. */
export function verdictForError(thrown: unknown): Verdict | { status: 'RETRY'; error: GuardError } {
  const error = asGuardError(thrown);
  if (error.retryable) return { status: 'RETRY', error };
  if (error instanceof SkipDecision) return { status: 'SKIPPED', error, currentLeverage: error.currentLeverage };
  return { status: 'REJECTED', error };
}

/** How a claim ends for a verdict: only an unresolved "may have executed" stays in flight. */
export function claimEndFor(verdict: TargetVerdict): ClaimEnd {
  if (verdict.status === 'APPLIED') return 'applied';
  if (verdict.status === 'RETRY' && verdict.error instanceof ExecutionUnknownError) return 'retrying';
  return 'not-applied';
}

/**
 * The claim serialises changes to one account+symbol across containers. Only a newer change that
 * was applied supersedes this event; a newer one still in flight is waited for (this event is
 * retried). A key left in flight by an event whose fate is unknown (its holder crashed, or is
 * being retried) is read back before it is taken over: a newer event's leverage in force means it
 * applied, so this one is superseded; an older event's leverage in force is recorded as that
 * event's APPLIED decision, so its own redelivery cannot contradict what happened.
 */
async function claimKey(
  state: StateStore,
  ref: TargetRef,
  command: RiskCommand,
  plan: LeveragePlan,
  account: AccountExchange,
  deps: ExecutionDeps,
): Promise<HeldClaim | Extract<Claim, { status: 'decided-earlier' | 'applied-earlier' | 'event-id-reused' }>> {
  const request = {
    issuedAtMs: command.issuedAtMs,
    leverage: plan.leverage,
    leaseMs: deps.deadline.remainingMs() + LEASE_MARGIN_MS,
    command: commandFingerprint(command, { symbol: ref.symbol, leverage: plan.requested }),
  };
  let claim = await state.claim(ref, request, deps.deadline);
  if ((claim.status === 'newer-in-flight' && !claim.leaseActive) || claim.status === 'older-in-flight') {
    await deps.cleared();
    const inForce = (await account.readLeverage(ref.symbol)).leverage === claim.leverage;
    if (claim.status === 'newer-in-flight' && inForce) throw superseded(claim.issuedAtMs, `its leverage ${claim.leverage} is in force`);
    deps.log.info('taking over a key left in flight', { symbol: ref.symbol, leftBy: claim.eventId, newer: claim.status === 'newer-in-flight', itsChangeInForce: inForce });
    const replacedApplied =
      inForce && claim.status === 'older-in-flight' && claim.leverage !== undefined ? { leverage: claim.leverage, issuedAtMs: claim.issuedAtMs, command: claim.command } : undefined;
    claim = await state.claim(ref, { ...request, replacing: claim.eventId, ...(replacedApplied ? { replacedApplied } : {}) }, deps.deadline);
  }
  // Decided earlier, or its own change is the last applied: done, whoever holds the key now.
  if (claim.status === 'decided-earlier' || claim.status === 'applied-earlier' || claim.status === 'event-id-reused') return claim;
  if (claim.status === 'superseded') throw superseded(claim.newerIssuedAtMs, 'it was applied');
  if (claim.status === 'newer-in-flight') {
    throw new RetryableError('NEWER_EVENT_IN_FLIGHT', `a newer event (issued ${new Date(claim.issuedAtMs).toISOString()}) is changing ${ref.symbol} on ${ref.accountId}; this one waits to learn whether it applied`);
  }
  if (claim.status === 'older-in-flight') {
    throw new RetryableError('KEY_BUSY', `event ${claim.eventId} left ${ref.symbol} on ${ref.accountId} in flight again while this one took it over`);
  }
  return claim;
}

/**
 * An earlier delivery of this event applied its change (its outcome was lost). Never sent again:
 * the change is done, and the leverage may have moved since (a person, another system).
 */
function appliedEarlier(plan: LeveragePlan): Verdict {
  return { status: 'APPLIED', leverage: plan.leverage, ...(plan.capped ? { capped: true } : {}) };
}

/** @param ownChangeMayBeInForce an earlier delivery may have applied it: read back before anything else */
async function decideAndApply(
  command: RiskCommand,
  target: Target,
  plan: LeveragePlan,
  account: AccountExchange,
  deps: ExecutionDeps,
  ownChangeMayBeInForce: boolean,
): Promise<Verdict> {
  const capped = plan.capped ? { capped: true } : {};
  let current: LeverageSetting | undefined;
  if (ownChangeMayBeInForce) {
    current = await readOwnChange(account, target.symbol);
    if (current.leverage === plan.leverage) return { status: 'APPLIED', ...current, ...capped };
  }
  checkNotStale(command.issuedAtMs, deps.now(), deps.policy.maxEventAgeMs);
  let currentLeverage: number | undefined;
  if (command.mode === 'reduce-only' || plan.capped) {
    currentLeverage = (current ?? (await account.readLeverage(target.symbol))).leverage;
    checkCappedChange(plan, target.symbol, currentLeverage);
    if (command.mode === 'reduce-only') checkReduction(currentLeverage, plan.leverage);
  }
  const setting = await changeLeverage(account, target.symbol, plan.leverage, deps.log);
  return { status: 'APPLIED', ...setting, currentLeverage, ...capped };
}

/** Everything but the change itself, including the read of the current leverage. */
async function dryRun(command: RiskCommand, plan: LeveragePlan, ref: TargetRef, account: AccountExchange, deps: ExecutionDeps): Promise<TargetWork> {
  const { earlier, lastAppliedIssuedAtMs } = (await deps.state?.history(ref, deps.deadline)) ?? {};
  if (earlier) return decidedEarlier(earlier, command, { symbol: ref.symbol, leverage: plan.requested }, deps.log, plan);
  if (command.issuedAtMs !== undefined && lastAppliedIssuedAtMs !== undefined && lastAppliedIssuedAtMs > command.issuedAtMs) {
    throw superseded(lastAppliedIssuedAtMs, 'it was applied');
  }
  checkNotStale(command.issuedAtMs, deps.now(), deps.policy.maxEventAgeMs);
  await deps.cleared();
  const currentLeverage = (await account.readLeverage(ref.symbol)).leverage;
  checkCappedChange(plan, ref.symbol, currentLeverage);
  if (command.mode === 'reduce-only') checkReduction(currentLeverage, plan.leverage);
  return { verdict: { status: 'DRY_RUN', leverage: plan.leverage, currentLeverage, ...(plan.capped ? { capped: true } : {}) } };
}

/**
 * The read that decides whether an earlier delivery's change is in force. If it fails, that change's
 * fate is still unknown: the event stays in flight (an older event keeps waiting or reads back) and
 * a FAILED on the final receive says so, instead of the read's own "not executed" code.
 */
async function readOwnChange(account: AccountExchange, symbol: string): Promise<LeverageSetting> {
  try {
    return await account.readLeverage(symbol);
  } catch (thrown) {
    // Whatever the read's error, it says nothing about whether the earlier change happened.
    const error = asGuardError(thrown);
    throw new ExecutionUnknownError('EXECUTION_UNKNOWN', `an earlier delivery's change may have executed, and reading the leverage back failed (${error.code}: ${error.message})`, undefined, { cause: thrown });
  }
}

async function changeLeverage(account: AccountExchange, symbol: string, leverage: number, log: Log): Promise<LeverageSetting> {
  try {
    return await account.changeLeverage(symbol, leverage);
  } catch (error) {
    if (!(error instanceof ExecutionUnknownError)) throw error;
    log.warn('execution status unknown; reading leverage back', { symbol, code: error.code, detail: error.message });
    return confirmByReadBack(leverage, error, () => account.readLeverage(symbol));
  }
}

/**
 * APPLIED only when the exchange confirms the requested leverage is in force. Setting the same
 * leverage twice is harmless, so a mismatch (or a failed read) hands the event back for a retry.
 * A mismatch does not prove the change will never happen: Binance may still execute a request
 * that timed out here until its recvWindow has passed. So the event stays in flight (the key's
 * marker is kept, and whoever meets it reads back again later), not released as not executed.
 */
async function confirmByReadBack(leverage: number, unknown: ExecutionUnknownError, readBack: () => Promise<LeverageSetting>): Promise<LeverageSetting> {
  let setting: LeverageSetting;
  try {
    setting = await readBack();
  } catch (readError) {
    const why = readError instanceof Error ? readError.message : String(readError);
    throw new ExecutionUnknownError(unknown.code, `${unknown.message}; read-back failed: ${why}`, undefined, { cause: readError });
  }
  if (setting.leverage === leverage) return setting;
  throw new ExecutionUnknownError(unknown.code, `${unknown.message}; read-back shows leverage ${setting.leverage}, so the change has not applied (yet: Binance may still execute it within its recvWindow)`);
}

function superseded(newerIssuedAtMs: number, how: string): SkipDecision {
  return new SkipDecision('SUPERSEDED', `a newer event (issued ${new Date(newerIssuedAtMs).toISOString()}) for this account and symbol takes precedence: ${how}`);
}
