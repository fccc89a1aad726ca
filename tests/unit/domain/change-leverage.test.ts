import { changeLeverage } from '../../../functions/domain/change-leverage.ts';
import { ExecutionUnknownError, PermanentError, RetryableError } from '../../../functions/domain/errors.ts';
import {
  answer,
  FakeCredentialStore,
  FakeExchange,
  fixedDeadline,
  raise,
  rejectionOf,
  setting,
  silentLog,
} from '../../support/fakes.ts';

const command = { eventId: 'evt-1', accountId: 'desk-2', symbol: 'ETHUSDT', leverage: 10 };

function depsWith(exchange: FakeExchange) {
  return { credentials: new FakeCredentialStore(), exchange, deadline: fixedDeadline(10_000), log: silentLog };
}

describe('changeLeverage', () => {
  test('uses the account credentials and returns what the exchange set, without reading back', async () => {
    const exchange = new FakeExchange().onChange(answer(setting(10, '50000')));
    const deps = depsWith(exchange);
    await expect(changeLeverage(command, deps)).resolves.toEqual({ leverage: 10, maxNotionalValue: '50000' });
    expect(deps.credentials.accountIds).toEqual(['desk-2']);
    expect(exchange.calls).toEqual([{ method: 'changeLeverage', apiKey: 'key-desk-2', symbol: 'ETHUSDT', leverage: 10 }]);
  });

  test.each([
    ['PermanentError', new PermanentError(-4028, 'Binance -4028: Invalid leverage')],
    ['RetryableError', new RetryableError('NETWORK_ERROR', 'ECONNREFUSED')],
  ])('a %s is passed through untouched, with no read-back', async (_name, error) => {
    const exchange = new FakeExchange().onChange(raise(error));
    expect(await rejectionOf(changeLeverage(command, depsWith(exchange)))).toBe(error);
    expect(exchange.callsOf('readLeverage')).toEqual([]);
  });

  test('unknown execution confirmed by the read-back: the read-back setting', async () => {
    const exchange = new FakeExchange().onChange(raise(new ExecutionUnknownError(-1007, 'Binance -1007: Timeout'))).onRead(answer(setting(10, '75000')));
    await expect(changeLeverage(command, depsWith(exchange))).resolves.toEqual({ leverage: 10, maxNotionalValue: '75000' });
    expect(exchange.callsOf('readLeverage')).toEqual([{ method: 'readLeverage', apiKey: 'key-desk-2', symbol: 'ETHUSDT' }]);
  });

  test('unknown execution, read-back shows another leverage: a plain RetryableError (known not applied)', async () => {
    const exchange = new FakeExchange().onChange(raise(new ExecutionUnknownError(-1007, 'Binance -1007: Timeout'))).onRead(answer(setting(20)));
    const error = await rejectionOf<RetryableError>(changeLeverage(command, depsWith(exchange)));
    expect(error).not.toBeInstanceOf(ExecutionUnknownError);
    expect([error.constructor.name, error.code, error.message]).toEqual([
      'RetryableError',
      -1007,
      'Binance -1007: Timeout; read-back shows leverage 20, so the change did not apply',
    ]);
  });

  test('unknown execution, read-back failed: still ExecutionUnknownError, with the read failure as cause', async () => {
    const readFailure = new RetryableError('TIMEOUT', 'no response within 5000 ms');
    const exchange = new FakeExchange().onChange(raise(new ExecutionUnknownError('TIMEOUT', 'no response within 5000 ms'))).onRead(raise(readFailure));
    const error = await rejectionOf<ExecutionUnknownError>(changeLeverage(command, depsWith(exchange)));
    expect(error).toBeInstanceOf(ExecutionUnknownError);
    expect([error.code, error.message, error.cause]).toEqual([
      'TIMEOUT',
      'no response within 5000 ms; read-back failed: no response within 5000 ms',
      readFailure,
    ]);
  });
});
