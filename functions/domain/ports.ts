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

/** Time left in this invocation; adapters size their waits and timeouts from it. */
export interface Deadline {
  remainingMs(): number;
}

export interface Exchange {
  /** Throws ExecutionUnknownError when the change may or may not have happened. */
  changeLeverage(credentials: ApiCredentials, symbol: string, leverage: number, deadline: Deadline): Promise<LeverageSetting>;
  readLeverage(credentials: ApiCredentials, symbol: string, deadline: Deadline): Promise<LeverageSetting>;
}

export interface CredentialStore {
  forAccount(accountId: string): Promise<ApiCredentials>;
}

export interface OutcomePublisher {
  publish(outcome: Outcome): Promise<void>;
}

export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
