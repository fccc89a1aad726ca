/**
 * What the domain needs from the outside world. Adapters (Binance HTTP, Secrets Manager, SNS,
 * DynamoDB, SSM) implement these at the edge; tests swap in fakes. Nothing here knows about AWS or
 * HTTP.
 */
import type { Outcome, Verdict } from './outcome.ts';

/** The credential secret as operators store it (see README). The domain passes it through untouched. */
export type ApiCredentials =
  | { readonly apiKey: string; readonly apiSecret: string }
  | { readonly apiKey: string; readonly privateKey: string };

export interface LeverageSetting {
  leverage: number;
  maxNotionalValue: string;
}

/**
 * Time left in this invocation; adapters size their waits and timeouts from it. Every port call
 * that leaves the process takes one, so none can outlive the invocation (domain/time-budget.ts).
 */
export interface Deadline {
  remainingMs(): number;
}

export interface OpenPosition {
  symbol: string;
  leverage: number;
}

export interface Exchange {
  /** Throws ExecutionUnknownError when the change may or may not have happened. */
  changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number, deadline: Deadline): Promise<LeverageSetting>;
  readLeverage(credentials: ApiCredentials, symbol: string, deadline: Deadline): Promise<LeverageSetting>;
  /** Symbols with a non-zero position, and their leverage. */
  readOpenPositions(credentials: ApiCredentials, deadline: Deadline): Promise<OpenPosition[]>;
  /**
   * Optional: starts what the first request will need (Binance: its server time) while the
   * invocation does other start-up work. Returns at once and never fails.
   */
  prepare?(deadline: Deadline): void;
}

/** One event's work on one symbol. */
export interface TargetRef {
  eventId: string;
  accountId: string;
  symbol: string;
}

/**
 * How a claim ends: `applied` records the change; `not-applied` forgets the event (rejected,
 * skipped, or certainly not executed); `retrying` keeps it as in flight (its change may have
 * executed and it will come back), so an older event finds out before acting.
 */
export type ClaimEnd = 'applied' | 'not-applied' | 'retrying';

/** What an event finds when it asks for an account+symbol. */
export type Claim =
  | {
      status: 'claimed';
      /** This very event was applied (`applied`) or left in flight (`in-flight`) by an earlier delivery. */
      seenBefore?: 'applied' | 'in-flight';
      /** Called once the outcome is out: bounded by the caller's deadline then, not the claim's. */
      release(end: ClaimEnd, deadline?: Deadline): Promise<void>;
    }
  /** This very event's change is the last one applied (an earlier delivery's outcome was lost); another event holds the key now. */
  | { status: 'applied-earlier' }
  /** A newer event's change was applied. */
  | { status: 'superseded'; newerIssuedAtMs: number }
  /**
   * A newer event holds the key (`leaseActive`) or left it in flight with its fate unknown; its
   * leverage is what it was going to set.
   */
  | { status: 'newer-in-flight'; eventId: string; issuedAtMs: number; leverage?: number; leaseActive: boolean };

export interface ClaimRequest {
  issuedAtMs?: number;
  /** The leverage this event will set if it acts (after its cap). */
  leverage: number;
  leaseMs: number;
  /** Take the key over from this in-flight event, whose change was found not to be in force. */
  replacing?: string;
}

/** A target decided on an earlier delivery: its outcome was published, or is still owed. */
export type EarlierDecision = { published: true } | { published: false; verdict: Verdict };

/**
 * Shared state across invocations and containers (DynamoDB). Without it (STATE_TABLE_NAME unset)
 * ordering holds within a batch only and redeliveries are processed again.
 */
export interface StateStore {
  /** What an earlier delivery decided for this target (kept 15 days: longer than a DLQ keeps the event). */
  earlierDecision(ref: TargetRef, deadline?: Deadline): Promise<EarlierDecision | undefined>;
  /** Remembers the decision; `published: false` keeps the verdict so a redelivery republishes it unchanged. */
  recordDecision(ref: TargetRef, decision: EarlierDecision, deadline?: Deadline): Promise<void>;
  /**
   * Takes the account+symbol for one change, unless a newer event was applied or is in flight.
   * Throws a RetryableError while an event that is not newer holds it. The claim's release is
   * bounded by the same deadline.
   */
  claim(ref: TargetRef, request: ClaimRequest, deadline?: Deadline): Promise<Claim>;
  /** The issuedAt of the last applied change, for read-only checks (dry run). */
  lastAppliedIssuedAtMs(ref: TargetRef, deadline?: Deadline): Promise<number | undefined>;
}

/** `unrecognisedValue`: the switch held something other than true/false, and so pauses (fail closed). */
export type PauseState = { paused: false } | { paused: true; unrecognisedValue?: string };

/** The operators' pause switch. */
export interface PauseSwitch {
  state(deadline?: Deadline): Promise<PauseState>;
}

export interface CredentialStore {
  forAccount(accountId: string, deadline?: Deadline): Promise<ApiCredentials>;
  /** The exchange refused these credentials: forget them if still cached (a rotated key is fetched anew). */
  invalidate(accountId: string, refused: ApiCredentials): Promise<void>;
}

export interface OutcomePublisher {
  publish(outcome: Outcome, deadline?: Deadline): Promise<void>;
}

export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
