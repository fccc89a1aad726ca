/**
 * One validated command against the exchange: credentials, the change, and, when the exchange
 * cannot say whether the change executed, a read-back before anything is reported.
 */
import { ExecutionUnknownError, RetryableError } from './errors.ts';
import type { RiskCommand } from './risk-event.ts';
import type { CredentialStore, Deadline, Exchange, LeverageSetting, Log } from './ports.ts';

export interface ChangeLeverageDeps {
  credentials: CredentialStore;
  exchange: Exchange;
  deadline: Deadline;
  log: Log;
}

export async function changeLeverage(command: RiskCommand, deps: ChangeLeverageDeps): Promise<LeverageSetting> {
  const credentials = await deps.credentials.forAccount(command.accountId);
  try {
    return await deps.exchange.changeLeverage(credentials, command.symbol, command.leverage, deps.deadline);
  } catch (error) {
    if (!(error instanceof ExecutionUnknownError)) throw error;
    deps.log.warn('execution status unknown; reading leverage back', { code: error.code, detail: error.message });
    return confirmByReadBack(command, error, () =>
      deps.exchange.readLeverage(credentials, command.symbol, deps.deadline),
    );
  }
}

/**
 * APPLIED only when the exchange confirms the requested leverage is in force. Setting the same
 * leverage twice is harmless, so a mismatch (or a failed read) hands the event back for a retry.
 */
async function confirmByReadBack(
  command: RiskCommand,
  unknown: ExecutionUnknownError,
  readBack: () => Promise<LeverageSetting>,
): Promise<LeverageSetting> {
  let setting: LeverageSetting;
  try {
    setting = await readBack();
  } catch (readError) {
    const why = readError instanceof Error ? readError.message : String(readError);
    throw new ExecutionUnknownError(unknown.code, `${unknown.message}; read-back failed: ${why}`, undefined, {
      cause: readError,
    });
  }
  if (setting.leverage === command.leverage) return setting;
  throw new RetryableError(
    unknown.code,
    `${unknown.message}; read-back shows leverage ${setting.leverage}, so the change did not apply`,
  );
}
