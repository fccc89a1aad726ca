/**
 * What the domain needs from the outside world. Adapters (Binance HTTP, Secrets Manager, SNS)
 * implement these at the edge; tests swap in fakes. Nothing here knows about AWS or HTTP.
 */
import type { Outcome } from './outcome.ts';

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

/** One event's work on one symbol (symbol `*` for an outcome about the whole event). */
export interface TargetRef {
  eventId: string;
  accountId: string;
  symbol: string;
}

/**
 * How a claim ends: `applied` records the change; `not-applied` forgets the event; `retrying`
 * keeps its issuedAt as in flight (its change may have executed, and it will come back), so an
 * older event cannot slip in meanwhile.
 */
export type ClaimEnd = 'applied' | 'not-applied' | 'retrying';

export type Claim =
  | {
      claimed: true;
      /** This very event was applied, or in flight, on an earlier delivery. */
      seenBefore?: boolean;
      release(end: ClaimEnd): Promise<void>;
    }
  | { claimed: false; lastIssuedAt: string };

/**
 * Shared state across invocations and containers (DynamoDB). Without it (STATE_TABLE_NAME unset)
 * ordering holds within a batch only and redeliveries are processed again.
 */
export interface StateStore {
  /** Whether this target already ended with a published outcome (kept 24 h). */
  isCompleted(ref: TargetRef, deadline?: Deadline): Promise<boolean>;
  markCompleted(ref: TargetRef, deadline?: Deadline): Promise<void>;
  /**
   * Takes the account+symbol for one change, refusing events issued before the last applied one
   * (or before one in flight). Throws a RetryableError while another event holds it. The
   * claim's release is bounded by the same deadline.
   */
  claim(ref: TargetRef, issuedAt: string | undefined, leaseMs: number, deadline?: Deadline): Promise<Claim>;
  /** The issuedAt of the last applied change, for read-only checks (dry run). */
  lastAppliedIssuedAt(ref: TargetRef, deadline?: Deadline): Promise<string | undefined>;
}

/** The operators' pause switch. */
export interface PauseSwitch {
  isPaused(deadline?: Deadline): Promise<boolean>;
}

export interface CredentialStore {
  forAccount(accountId: string, deadline?: Deadline): Promise<ApiCredentials>;
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
