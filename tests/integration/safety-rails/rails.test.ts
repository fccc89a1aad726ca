// The safety rails through the built bundle, with the state table and pause switch in moto:
// caps, reduce-only, multi-symbol events, freshness, ordering across invocations, duplicates,
// dry run and pause.
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { InvocationError, LambdaHost } from '../../../local/lambda/lambda-host.ts';
import { BUNDLE_PATH, type LocalLeverageGuard, startLocalLeverageGuard } from '../../../local/stack.ts';
import { enqueue, posts, riskEvent } from '../../support/events.ts';

jest.setTimeout(60_000);

let guard: LocalLeverageGuard;
const hosts: LambdaHost[] = [];

beforeAll(async () => {
  guard = await startLocalLeverageGuard({ name: 'rails', maxReceiveCount: 2, visibilityTimeoutSeconds: 1 });
});
afterAll(async () => {
  for (const host of hosts) host.stop();
  await guard?.close();
});
beforeEach(() => {
  guard.simulator.reset();
  guard.host.stop();
});

/** Another container of the same function, optionally with a different configuration. */
function container(env: Record<string, string> = {}): LambdaHost {
  const host = new LambdaHost({ bundlePath: BUNDLE_PATH, env: { ...guard.functionEnv, ...env }, timeoutMs: 15_000 });
  hosts.push(host);
  return host;
}

const isoAgo = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

async function outcomesOf(count: number) {
  const outcomes = (await guard.readOutcomes(count)).map((o) => o.body);
  expect(outcomes).toHaveLength(count);
  expect(await guard.readOutcomes(1, 1000)).toEqual([]);
  return outcomes;
}

describe('policy caps (LEVERAGE_CAPS)', () => {
  // Issue 8, case 5: a cap never blocks a reduction, and is never exceeded.
  test('above the cap: the cap is set when that lowers leverage (APPLIED, capped), else REJECTED ABOVE_CAP; at the cap is applied', async () => {
    const capped = container({ LEVERAGE_CAPS: '{"BTCUSDT": 20, "*": 5}' });
    guard.simulator.setLeverage('desk-1', 'BTCUSDT', 50);
    guard.simulator.setLeverage('desk-1', 'ETHUSDT', 3);
    guard.simulator.setLeverage('desk-1', 'SOLUSDT', 50);
    const lowersToCap = riskEvent({ symbol: 'BTCUSDT', leverage: 25 });
    const wouldRaise = riskEvent({ symbol: 'ETHUSDT', leverage: 10 });
    const deleverage = riskEvent({ symbol: 'SOLUSDT', leverage: 10, mode: 'reduce-only' });
    const atCap = riskEvent({ symbol: 'ETHUSDT', leverage: 5 });
    for (const event of [lowersToCap, wouldRaise, deleverage, atCap]) await capped.invoke(event);
    const byId = new Map((await outcomesOf(4)).map((o) => [o.eventId, o]));
    expect(byId.get(lowersToCap.eventId as string)).toMatchObject({ status: 'APPLIED', requestedLeverage: 25, leverage: 20, capped: true, currentLeverage: 50 });
    expect(byId.get(wouldRaise.eventId as string)).toMatchObject({
      status: 'REJECTED',
      error: { code: 'ABOVE_CAP', message: 'leverage 10 is above the cap of 5 for ETHUSDT, and setting the cap would not lower the current 3' },
    });
    expect(byId.get(deleverage.eventId as string)).toMatchObject({ status: 'APPLIED', requestedLeverage: 10, leverage: 5, capped: true });
    expect(byId.get(atCap.eventId as string)).toMatchObject({ status: 'APPLIED', leverage: 5 });
    expect(byId.get(atCap.eventId as string)).not.toHaveProperty('capped');
    expect(posts(guard).map((r) => `${r.query.symbol} ${r.query.leverage}`)).toEqual(['BTCUSDT 20', 'SOLUSDT 5', 'ETHUSDT 5']);
    expect(guard.simulator.leverageOf('desk-1', 'SOLUSDT')).toBe(5);
  });
});

describe('reduce-only', () => {
  test.each([
    [5, 'APPLIED', undefined],
    [20, 'SKIPPED', 'NOT_A_REDUCTION'],
    [30, 'SKIPPED', 'NOT_A_REDUCTION'],
  ])('current 20x, requested %ix → %s', async (leverage, status, code) => {
    guard.simulator.setLeverage('desk-2', 'ADAUSDT', 20);
    await guard.invoke(riskEvent({ accountId: 'desk-2', symbol: 'ADAUSDT', leverage, mode: 'reduce-only' }));
    const [outcome] = await outcomesOf(1);
    expect(outcome).toMatchObject({ status, currentLeverage: 20, mode: 'reduce-only' });
    if (code) expect(outcome!.error).toMatchObject({ code, retryable: false });
    expect(posts(guard)).toHaveLength(status === 'APPLIED' ? 1 : 0);
    expect(guard.simulator.leverageOf('desk-2', 'ADAUSDT')).toBe(status === 'APPLIED' ? leverage : 20);
  });
});

describe('several symbols in one event', () => {
  test('targets: one outcome per symbol; only the failed symbol is retried, then FAILED on the final receive', async () => {
    guard.simulator.injectFault({ fault: { type: 'internalError' }, symbol: 'LINKUSDT', times: -1 });
    const event = riskEvent({
      accountId: 'desk-3',
      targets: [
        { symbol: 'XRPUSDT', leverage: 3 },
        { symbol: 'LINKUSDT', leverage: 4 },
        { symbol: 'AVAXUSDT', leverage: 5 },
      ],
    });
    delete event.symbol;
    delete event.leverage;
    await enqueue(guard, [event]);
    await guard.poller.runUntilDrained({ idleMs: 2500, maxMs: 20_000 });

    const outcomes = await outcomesOf(3);
    expect(outcomes.map((o) => [o.eventId, o.symbol, o.status]).sort()).toEqual(
      [
        [event.eventId, 'AVAXUSDT', 'APPLIED'],
        [event.eventId, 'LINKUSDT', 'FAILED'],
        [event.eventId, 'XRPUSDT', 'APPLIED'],
      ].sort(),
    );
    const sent = posts(guard).map((r) => r.query.symbol);
    expect(sent.filter((s) => s === 'XRPUSDT')).toHaveLength(1);
    expect(sent.filter((s) => s === 'AVAXUSDT')).toHaveLength(1);
    expect(sent.filter((s) => s === 'LINKUSDT')).toHaveLength(2);
  });

  test('ALL_OPEN_POSITIONS lowers every open position above the target and reports each one', async () => {
    // desk-1 holds BTCUSDT (10x) and SOLUSDT (20x) positions.
    guard.simulator.setLeverage('desk-1', 'SOLUSDT', 20);
    guard.simulator.setLeverage('desk-1', 'BTCUSDT', 10);
    const event = { eventId: `all-${Date.now()}`, accountId: 'desk-1', symbols: 'ALL_OPEN_POSITIONS', leverage: 10 };
    const reply = await guard.invoke<{ outcomes: { symbol: string; status: string }[] }>(event);
    expect(reply.outcomes.sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([
      { symbol: 'BTCUSDT', status: 'SKIPPED', code: 'NOT_A_REDUCTION' },
      { symbol: 'SOLUSDT', status: 'APPLIED' },
    ]);
    const bySymbol = new Map((await outcomesOf(2)).map((o) => [o.symbol, o]));
    expect(bySymbol.get('SOLUSDT')).toMatchObject({ status: 'APPLIED', leverage: 10, currentLeverage: 20, mode: 'reduce-only', requestedLeverage: 10 });
    expect(bySymbol.get('BTCUSDT')).toMatchObject({ status: 'SKIPPED', currentLeverage: 10, error: { code: 'NOT_A_REDUCTION' } });
    expect(posts(guard).map((r) => r.query.symbol)).toEqual(['SOLUSDT']);
    expect(posts(guard, '/papi/v1/um/positionRisk')).toHaveLength(1);
  });
});

describe('freshness', () => {
  test.each([
    ['older than MAX_EVENT_AGE_SECONDS', 'SKIPPED', 'STALE_EVENT', isoAgo(901)],
    ['more than 60 s in the future', 'REJECTED', 'ISSUED_IN_FUTURE', isoAgo(-120)],
  ])('an event issued %s is %s %s, without touching Binance', async (_name, status, code, issuedAt) => {
    await guard.invoke(riskEvent({ symbol: 'LTCUSDT', issuedAt }));
    const [outcome] = await outcomesOf(1);
    expect(outcome).toMatchObject({ status, error: { code } });
    expect(posts(guard)).toHaveLength(0);
  });

  test('within the limits it is applied', async () => {
    await guard.invoke(riskEvent({ symbol: 'LTCUSDT', issuedAt: isoAgo(-30) }));
    await guard.invoke(riskEvent({ symbol: 'LINKUSDT', issuedAt: isoAgo(890) }));
    expect((await outcomesOf(2)).map((o) => o.status)).toEqual(['APPLIED', 'APPLIED']);
  });
});

describe('ordering across invocations (state table)', () => {
  test('an older event than the last applied one is SKIPPED SUPERSEDED: an old raise never undoes a newer lower', async () => {
    const lower = riskEvent({ accountId: 'desk-2', symbol: 'DOGEUSDT', leverage: 3, issuedAt: isoAgo(10) });
    const olderRaise = riskEvent({ accountId: 'desk-2', symbol: 'DOGEUSDT', leverage: 25, issuedAt: isoAgo(60) });
    await guard.invoke(lower);
    await guard.invoke(olderRaise);
    const [first, second] = await outcomesOf(2);
    expect(first).toMatchObject({ eventId: lower.eventId, status: 'APPLIED' });
    expect(second).toMatchObject({ eventId: olderRaise.eventId, status: 'SKIPPED', error: { code: 'SUPERSEDED' } });
    expect(guard.simulator.leverageOf('desk-2', 'DOGEUSDT')).toBe(3);
    expect(posts(guard)).toHaveLength(1);
  });

  test.each([
    ['the older event takes the key first', 'older'],
    ['the newer event takes the key first', 'newer'],
  ])('two containers racing on one key: %s; the newer leverage wins', async (_name, first) => {
    const symbol = first === 'older' ? 'BNBUSDT' : 'XRPUSDT';
    const older = riskEvent({ accountId: 'desk-3', symbol, leverage: 30, issuedAt: isoAgo(20) });
    const newer = riskEvent({ accountId: 'desk-3', symbol, leverage: 2, issuedAt: isoAgo(5) });
    const [a, b] = [container(), container()];
    const [leader, follower] = first === 'older' ? [older, newer] : [newer, older];
    // Warm both containers first (clock offset, credentials), on keys of their own.
    await Promise.all([a.invoke(riskEvent({ symbol: 'LTCUSDT', leverage: 1 })), b.invoke(riskEvent({ symbol: 'ADAUSDT', leverage: 1 }))]);
    await guard.readOutcomes(2);
    guard.simulator.injectFault({ fault: { type: 'latency', ms: 1500 }, path: '/papi/v1/um/leverage', symbol, times: 1 });
    const leading = a.invoke(leader);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const follow = await b.invoke(follower).catch((error: unknown) => error);
    if (first === 'older') {
      // The newer event finds the key taken and is handed back (Lambda would retry it).
      expect(follow).toBeInstanceOf(InvocationError);
      expect((follow as InvocationError).message).toContain('KEY_BUSY');
      await leading;
      await b.invoke(follower); // the retry
    } else {
      // The older event waits its turn: a newer one is in flight, and may yet be rejected
      // (issue 8, case 4). Once the newer one is applied, the older one's retry is superseded.
      expect(follow).toBeInstanceOf(InvocationError);
      expect((follow as InvocationError).message).toContain('NEWER_EVENT_IN_FLIGHT');
      await leading;
      await b.invoke(follower); // the retry
    }
    const outcomes = await outcomesOf(2);
    expect(guard.simulator.leverageOf('desk-3', symbol)).toBe(2);
    const applied = posts(guard).filter((r) => r.query.symbol === symbol && r.status === 200).map((r) => r.query.leverage);
    expect(applied.at(-1)).toBe('2');
    if (first === 'newer') {
      expect(outcomes.find((o) => o.eventId === older.eventId)).toMatchObject({ status: 'SKIPPED', error: { code: 'SUPERSEDED' } });
      expect(applied).toEqual(['2']);
    } else {
      expect(applied).toEqual(['30', '2']);
    }
  });

  test('a redelivered, completed event is acknowledged without calling Binance or a second outcome', async () => {
    const event = riskEvent({ symbol: 'AVAXUSDT', leverage: 6 });
    await guard.invoke(event);
    await expect(guard.invoke(event)).resolves.toEqual({ eventId: event.eventId, outcomes: [] });
    await outcomesOf(1);
    expect(posts(guard)).toHaveLength(1);
  });
});

describe('dry run', () => {
  test.each([
    ['per event ("dryRun": true)', {}, { dryRun: true }],
    ['function-wide (DRY_RUN=true)', { DRY_RUN: 'true' }, {}],
  ])('%s: reads the current leverage, changes nothing, reports DRY_RUN', async (_name, env, fields) => {
    guard.simulator.setLeverage('desk-1', 'LINKUSDT', 15);
    await container(env).invoke(riskEvent({ symbol: 'LINKUSDT', leverage: 7, ...fields }));
    const [outcome] = await outcomesOf(1);
    expect(outcome).toMatchObject({ status: 'DRY_RUN', leverage: 7, currentLeverage: 15, requestedLeverage: 7 });
    expect(posts(guard)).toHaveLength(0);
    expect(posts(guard, '/papi/v1/um/symbolConfig')).toHaveLength(1);
    expect(guard.simulator.leverageOf('desk-1', 'LINKUSDT')).toBe(15);
  });
});

describe('pause switch (SSM)', () => {
  async function setPaused(value: string) {
    await guard.aws.clients.ssm.send(new PutParameterCommand({ Name: guard.resources.pauseParameterName, Value: value, Type: 'String', Overwrite: true }));
  }
  afterEach(() => setPaused('false'));

  test('while paused nothing signed reaches Binance, SQS records go back to the queue, direct invocations fail; resuming processes them', async () => {
    await setPaused('true');
    const queued = riskEvent({ symbol: 'ADAUSDT', leverage: 4 });
    const [id] = await enqueue(guard, [queued]);
    expect(await guard.poller.pollOnce()).toMatchObject({ received: 1, deleted: 0, retried: [id] });
    const direct = await guard.invoke(riskEvent()).catch((error: unknown) => error);
    expect((direct as InvocationError).message).toContain('PAUSED');
    // The exchange clock is read while the switch is (public, unsigned, weight 1); nothing else.
    expect(guard.simulator.requests().filter((request) => request.path !== '/fapi/v1/time')).toEqual([]);
    expect(await guard.readOutcomes(1, 1000)).toEqual([]);

    await setPaused('false');
    guard.host.stop(); // the switch is cached for up to 10 s per container
    await guard.poller.runUntilDrained({ idleMs: 2000, maxMs: 10_000 });
    const [outcome] = await outcomesOf(1);
    expect(outcome).toMatchObject({ eventId: queued.eventId, status: 'APPLIED' });
  });
});
