// Binance's server-time endpoint down or hanging, through the built bundle in one warm container:
// the changes still go out, signed with the local clock, and the dead endpoint is asked once per
// back-off period (30 s), so it costs one request timeout in all, not one per change.
import { type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

const REQUEST_TIMEOUT_MS = 1500;
let guard: LocalLeverageGuard;

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'time-endpoint', env: { BINANCE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
});
afterAll(() => guard?.close());
beforeEach(() => {
  guard.simulator.reset();
  guard.host.stop(); // a cold container: the clock offset is not known yet
});

const timeRequests = () => guard.simulator.requests().filter((r) => r.path === '/fapi/v1/time');
const leverageStatuses = () => guard.simulator.requests().filter((r) => r.path === '/papi/v1/um/leverage').map((r) => r.status);

test.each([
  ['hangs', { type: 'timeout', apply: true } as const],
  ['is down (503)', { type: 'serviceUnavailable' } as const],
])('the time endpoint %s: five changes, one measurement, all applied with the local clock', async (_name, fault) => {
  guard.simulator.injectFault({ fault, path: '/fapi/v1/time', times: -1 });
  const startedAt = Date.now();
  const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT'];
  for (const [index, symbol] of symbols.entries()) {
    await expect(guard.invoke(riskEvent({ symbol, leverage: 3 + index }))).resolves.toMatchObject({ outcomes: [{ status: 'APPLIED' }] });
  }
  const elapsedMs = Date.now() - startedAt;
  expect(timeRequests()).toHaveLength(1);
  expect(leverageStatuses()).toEqual([200, 200, 200, 200, 200]);
  await guard.readOutcomes(symbols.length);
  console.log(`time endpoint ${_name}: ${symbols.length} changes in ${elapsedMs} ms (request timeout ${REQUEST_TIMEOUT_MS} ms), ${timeRequests().length} time request(s)`);
});
