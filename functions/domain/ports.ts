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

/** What an event finds when it asks for an account+symbol (one state-table request). */
export type Claim =
  | {
      status: 'claimed';
      /** This very event was left in flight by an earlier delivery: its change may be in force. */
      seenBefore?: 'in-flight';
      /**
       * Called once the outcome is out: frees the key and, with `decision`, records it in the same
       * write (bounded by the caller's deadline then, not the claim's).
       */
      release(end: ClaimEnd, decision: EarlierDecision | undefined, deadline?: Deadline): Promise<void>;
    }
  /** An earlier delivery decided this target; nothing was claimed. */
  | { status: 'decided-earlier'; decision: EarlierDecision }
  /** This very event's change is the last one applied (an earlier delivery's outcome was lost); another event holds the key now. */
  | { status: 'applied-earlier'; command?: string }
  /** Another command under this eventId is in flight on the key (a producer reused the eventId). */
  | { status: 'event-id-reused'; command: string }
  /** A newer event's change was applied. */
  | { status: 'superseded'; newerIssuedAtMs: number }
  /**
   * A newer event holds the key (`leaseActive`) or left it in flight with its fate unknown; its
   * leverage is what it was going to set.
   */
  | { status: 'newer-in-flight'; eventId: string; issuedAtMs: number; leverage?: number; leaseActive: boolean }
  /**
   * An event that is not newer left the key in flight and its lease ran out: its change may or
   * may not be in force. Read back before taking the key over (`replacing`).
   */
  | { status: 'older-in-flight'; eventId: string; issuedAtMs?: number; leverage?: number; command?: string };

export interface ClaimRequest {
  issuedAtMs?: number;
  /** The leverage this event will set if it acts (after its cap). */
  leverage: number;
  leaseMs: number;
  /** Take the key over from this in-flight event (read back: a newer one's change is not in force). */
  replacing?: string;
  /**
   * The replaced (older) event's change was found in force: the claim records it as the key's last
   * applied change (its issuedAt, so no still older event undoes it) and as that event's decision
   * (APPLIED at this leverage), so its own redelivery reports it applied, not superseded.
   */
  replacedApplied?: { leverage: number; issuedAtMs?: number; command?: string };
  /** What this event asks of the symbol (risk-event.ts commandFingerprint), kept with its marker and its applied change. */
  command?: string;
}

/**
 * A target decided on an earlier delivery: its outcome was published, or is still owed. `command`
 * (risk-event.ts commandFingerprint) says what that delivery was asked; unknown when another event
 * recorded the decision (a take-over) or an older version did.
 */
export type EarlierDecision = ({ published: true; status?: Verdict['status'] } | { published: false; verdict: Verdict }) & { command?: string };

/**
 * What is known of a target without claiming it (a dry run; a final receive that cannot act): its
 * earlier decision, the key's last applied change, and whether the key is in flight for this event.
 */
export interface TargetHistory {
  earlier?: EarlierDecision;
  lastAppliedIssuedAtMs?: number;
  /** The key's in-flight marker is this event's: its change may have executed. */
  ownInFlight?: boolean;
}

/**
 * Shared state across invocations and containers (DynamoDB). Without it (STATE_TABLE_NAME unset)
 * ordering holds within a batch only and redeliveries are processed again. A target that changes
 * leverage costs two requests: the claim (which also answers "was this decided earlier?") and its
 * release (which also records the decision).
 */
export interface StateStore {
  /**
   * Takes the account+symbol for one change, unless this target was decided earlier or a newer
   * event was applied or is in flight. Throws a RetryableError while an event that is not newer
   * holds it.
   */
  claim(ref: TargetRef, request: ClaimRequest, deadline?: Deadline): Promise<Claim>;
  /** What an earlier delivery decided for this target (kept 15 days: longer than a DLQ keeps the event). */
  earlierDecision(ref: TargetRef, deadline?: Deadline): Promise<EarlierDecision | undefined>;
  /** Remembers a decision made without a claim; `published: false` keeps the verdict so a redelivery republishes it unchanged. */
  recordDecision(ref: TargetRef, decision: EarlierDecision, deadline?: Deadline): Promise<void>;
  /** The earlier decision and the last applied change's issuedAt, read together (dry run). */
  history(ref: TargetRef, deadline?: Deadline): Promise<TargetHistory>;
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
