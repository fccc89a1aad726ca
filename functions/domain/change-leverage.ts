/**
 * One event against the exchange: which symbols it touches, and for each one the guard rails
 * (cap, order, reduce-only, dry run) before the change itself, with a read-back whenever the
 * exchange cannot say whether the change executed.
 */
import { ExecutionUnknownError, type GuardError, RetryableError, SkipDecision, asGuardError } from './errors.ts';
import { checkCap, checkReduction, type Policy } from './policy.ts';
import type { RiskCommand, Target } from './risk-event.ts';
import type { Verdict } from './outcome.ts';
import type { ApiCredentials, ClaimEnd, Deadline, Exchange, LeverageSetting, Log, StateStore, TargetRef } from './ports.ts';

export interface ExecutionDeps {
  exchange: Exchange;
  state?: StateStore;
  policy: Policy;
  deadline: Deadline;
  log: Log;
}

/** A lease outlives the invocation holding it, so a crashed holder blocks the key only briefly. */
const LEASE_MARGIN_MS = 5_000;

/** `undefined`: this target already completed on an earlier delivery; nothing to do or report. */
export type TargetVerdict = Verdict | { status: 'RETRY'; error: GuardError } | undefined;

export async function resolveTargets(command: RiskCommand, credentials: ApiCredentials, deps: ExecutionDeps): Promise<Target[]> {
  if (command.scope.kind === 'targets') return command.scope.targets;
  const { leverage } = command.scope;
  const positions = await deps.exchange.readOpenPositions(credentials, deps.deadline);
  return positions.map((position) => ({ symbol: position.symbol, leverage, currentLeverage: position.leverage }));
}

export async function executeTarget(
  command: RiskCommand,
  target: Target,
  credentials: ApiCredentials,
  deps: ExecutionDeps,
): Promise<TargetVerdict> {
  const ref: TargetRef = { eventId: command.eventId, accountId: command.accountId, symbol: target.symbol };
  try {
    if (await deps.state?.isCompleted(ref, deps.deadline)) {
      deps.log.info('already completed on an earlier delivery', { symbol: target.symbol });
      return undefined;
    }
    checkCap(deps.policy.caps, target.symbol, target.leverage);
    return command.dryRun || deps.policy.dryRun
      ? await dryRun(command, target, ref, credentials, deps)
      : await applyWithClaim(command, target, ref, credentials, deps);
  } catch (thrown) {
    return verdictForError(thrown);
  }
}

/** The taxonomy as a verdict: retryable → RETRY, a skip decision → SKIPPED, any other → REJECTED. */
export function verdictForError(thrown: unknown): TargetVerdict {
  const error = asGuardError(thrown);
  if (error.retryable) return { status: 'RETRY', error };
  if (error instanceof SkipDecision) return { status: 'SKIPPED', error, currentLeverage: error.currentLeverage };
  return { status: 'REJECTED', error };
}

/** Everything but the change itself, including the read of the current leverage. */
async function dryRun(command: RiskCommand, target: Target, ref: TargetRef, credentials: ApiCredentials, deps: ExecutionDeps): Promise<Verdict> {
  if (command.issuedAt && deps.state) {
    const last = await deps.state.lastAppliedIssuedAt(ref, deps.deadline);
    if (last && Date.parse(last) > Date.parse(command.issuedAt)) throw superseded(last);
  }
  const currentLeverage = target.currentLeverage ?? (await deps.exchange.readLeverage(credentials, target.symbol, deps.deadline)).leverage;
  if (command.mode === 'reduce-only') checkReduction(currentLeverage, target.leverage);
  return { status: 'DRY_RUN', leverage: target.leverage, currentLeverage };
}

/**
 * The claim serialises changes to one account+symbol across concurrent invocations and refuses
 * an event issued before the last applied one, so an old "raise" can never undo a newer "lower".
 */
async function applyWithClaim(command: RiskCommand, target: Target, ref: TargetRef, credentials: ApiCredentials, deps: ExecutionDeps): Promise<Verdict> {
  const claim = deps.state ? await deps.state.claim(ref, command.issuedAt, deps.deadline.remainingMs() + LEASE_MARGIN_MS, deps.deadline) : undefined;
  if (claim && !claim.claimed) throw superseded(claim.lastIssuedAt);
  let end: ClaimEnd = 'not-applied';
  try {
    let currentLeverage = target.currentLeverage;
    if (command.mode === 'reduce-only') {
      const read = currentLeverage === undefined ? await deps.exchange.readLeverage(credentials, target.symbol, deps.deadline) : undefined;
      currentLeverage = read?.leverage ?? currentLeverage!;
      if (claim?.seenBefore && currentLeverage === target.leverage) {
        // This event's own change, from an earlier delivery whose outcome was lost, is in force:
        // that is APPLIED, not "not a reduction". (Never re-sent: a reduce-only must not raise.)
        const setting = read ?? (await deps.exchange.readLeverage(credentials, target.symbol, deps.deadline));
        end = 'applied';
        return { status: 'APPLIED', ...setting, currentLeverage };
      }
      checkReduction(currentLeverage, target.leverage);
    }
    const setting = await changeLeverage(credentials, target, deps);
    end = 'applied';
    return { status: 'APPLIED', ...setting, currentLeverage };
  } catch (error) {
    if (asGuardError(error).retryable) end = 'retrying';
    throw error;
  } finally {
    if (claim?.claimed) {
      await claim.release(end).catch((error: unknown) =>
        deps.log.warn('could not release the claim; it expires with its lease', { symbol: target.symbol, detail: String(error) }),
      );
    }
  }
}

async function changeLeverage(credentials: ApiCredentials, target: Target, deps: ExecutionDeps): Promise<LeverageSetting> {
  try {
    return await deps.exchange.changeLeverage(credentials, target.symbol, target.leverage, deps.deadline);
  } catch (error) {
    if (!(error instanceof ExecutionUnknownError)) throw error;
    deps.log.warn('execution status unknown; reading leverage back', { symbol: target.symbol, code: error.code, detail: error.message });
    return confirmByReadBack(target, error, () => deps.exchange.readLeverage(credentials, target.symbol, deps.deadline));
  }
}

/**
 * APPLIED only when the exchange confirms the requested leverage is in force. Setting the same
 * leverage twice is harmless, so a mismatch (or a failed read) hands the event back for a retry.
 */
async function confirmByReadBack(target: Target, unknown: ExecutionUnknownError, readBack: () => Promise<LeverageSetting>): Promise<LeverageSetting> {
  let setting: LeverageSetting;
  try {
    setting = await readBack();
  } catch (readError) {
    const why = readError instanceof Error ? readError.message : String(readError);
    throw new ExecutionUnknownError(unknown.code, `${unknown.message}; read-back failed: ${why}`, undefined, { cause: readError });
  }
  if (setting.leverage === target.leverage) return setting;
  throw new RetryableError(unknown.code, `${unknown.message}; read-back shows leverage ${setting.leverage}, so the change did not apply`);
}

function superseded(lastIssuedAt: string): SkipDecision {
  return new SkipDecision('SUPERSEDED', `a newer event (issued ${lastIssuedAt}) was already applied to this account and symbol`);
}
