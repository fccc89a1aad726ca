/**
 * Issue 8 ("never act wrongly"): each of its nine cases, replayed exactly as the issue describes
 * it, through the real handler wired as index.ts wires it (real credential store, publisher, state
 * store and pause switch over in-memory AWS fakes; tests/support/chaos/model-world.ts), with
 * containers that have their own caches and clocks, a person changing leverage in the UI, and
 * time that passes between deliveries. Each test states the rule it holds the code to.
 */
import '../support/chaos/quiet-logs.ts';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Outcome } from '../../functions/domain/outcome.ts';
import { type Delivery, type Instance, World } from '../support/chaos/model-world.ts';

const ACCOUNT = 'desk-1';
const MAX_RECEIVE_COUNT = 3;
/** SQS visibility timeout between two receives of a handed-back record. */
const VISIBILITY_TIMEOUT_MS = 30_000;

function world(options: { leverage?: Record<string, number>; openPositions?: string[]; env?: Record<string, string | undefined> } = {}): World {
  return new World({
    accounts: [
      {
        name: ACCOUNT,
        leverage: { BTCUSDT: 20, ETHUSDT: 25, SOLUSDT: 50, ...options.leverage },
        openPositions: options.openPositions ?? ['BTCUSDT', 'ETHUSDT'],
      },
    ],
    env: options.env,
  });
}

const delivery = (messageId: string, event: Record<string, unknown>, receiveCount = 1): Delivery => ({
  messageId,
  body: JSON.stringify({ accountId: ACCOUNT, ...event }),
  receiveCount,
});

/**
 * Receives the record again (a visibility timeout apart) until it is acknowledged or has had its
 * final receive; returns, per receive, whether it was handed back.
 */
async function deliverUntilSettled(instance: Instance, messageId: string, event: Record<string, unknown>, firstReceive = 1): Promise<boolean[]> {
  const handedBack: boolean[] = [];
  for (let receive = firstReceive; receive <= MAX_RECEIVE_COUNT; receive++) {
    const back = (await instance.handedBack([delivery(messageId, event, receive)])).includes(messageId);
    handedBack.push(back);
    if (!back) break;
    instance.world.advance(VISIBILITY_TIMEOUT_MS);
  }
  return handedBack;
}

const guardWrites = (w: World) => w.exchange.writes.filter((write) => write.actor === 'guard');
const brief = (outcomes: Outcome[]) => outcomes.map((o) => ({ symbol: o.symbol, status: o.status, code: o.error?.code, leverage: o.leverage }));

describe('1. reduce-only never raises: the decision uses the leverage read just before the change', () => {
  it.each([
    ['with a state table', {}],
    ['without a state table', { STATE_TABLE_NAME: '' }],
  ])('ALL_OPEN_POSITIONS "at most 10x" does not raise a symbol a person lowered to 3x after positionRisk was read (%s)', async (_setup, env) => {
    const w = world({ env });
    // positionRisk answers BTCUSDT at 20x; before the rule acts on it, a person lowers it to 3x.
    w.exchange.intercept({ operation: 'positions', when: 'after', run: () => w.exchange.personSets(ACCOUNT, 'BTCUSDT', 3) });
    await w.instance('a').handedBack([delivery('m1', { eventId: 'all-to-10', symbols: 'ALL_OPEN_POSITIONS', leverage: 10, mode: 'reduce-only', issuedAt: w.iso() })]);

    for (const write of guardWrites(w)) expect(write.to).toBeLessThanOrEqual(write.from);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(3);
    expect(w.exchange.leverageOf(ACCOUNT, 'ETHUSDT')).toBe(10);
    const [btc] = w.outcomesOf('all-to-10', 'BTCUSDT');
    expect(btc).toMatchObject({ status: 'SKIPPED', error: { code: 'NOT_A_REDUCTION' }, currentLeverage: 3 });
    expect(brief(w.outcomesOf('all-to-10', 'ETHUSDT'))).toEqual([{ symbol: 'ETHUSDT', status: 'APPLIED', code: undefined, leverage: 10 }]);
  });
});

describe('2. one truthful terminal outcome per event and symbol: a redelivery first establishes whether its change is done', () => {
  it('a change applied on delivery 1 whose publish failed ends APPLIED on a redelivery after MAX_EVENT_AGE_SECONDS, not SKIPPED STALE_EVENT', async () => {
    const w = world();
    const a = w.instance('a');
    const event = { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() };
    w.sns.fail({ eventId: 'cut-btc' });
    expect(await a.handedBack([delivery('m1', event, 1)])).toEqual(['m1']);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);

    w.advance(1_000_000); // past MAX_EVENT_AGE_SECONDS (900 s)
    expect(await a.handedBack([delivery('m1', event, 2)])).toEqual([]);
    expect(brief(w.outcomesOf('cut-btc'))).toEqual([{ symbol: 'BTCUSDT', status: 'APPLIED', code: undefined, leverage: 5 }]);
  });

  it('with targets, the symbol applied on delivery 1 gets no second, contradicting outcome when the event is stale on redelivery', async () => {
    const w = world();
    const a = w.instance('a');
    const event = { eventId: 'cut-two', targets: [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'ETHUSDT', leverage: 6 }], issuedAt: w.iso() };
    // ETHUSDT meets a plain 503 (not executed) and is retried; BTCUSDT is applied and published.
    w.exchange.inject({ operation: 'change', symbol: 'ETHUSDT', fault: { kind: 'serviceUnavailable' } });
    expect(await a.handedBack([delivery('m1', event, 1)])).toEqual(['m1']);

    w.advance(1_000_000);
    expect(await a.handedBack([delivery('m1', event, 2)])).toEqual([]);
    expect(brief(w.outcomesOf('cut-two', 'BTCUSDT'))).toEqual([{ symbol: 'BTCUSDT', status: 'APPLIED', code: undefined, leverage: 5 }]);
    expect(brief(w.outcomesOf('cut-two', 'ETHUSDT'))).toEqual([{ symbol: 'ETHUSDT', status: 'SKIPPED', code: 'STALE_EVENT', leverage: undefined }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'ETHUSDT')).toBe(25);
  });
});

describe('3. fail closed on an issuedAt that cannot be interpreted', () => {
  it.each([
    ['from 2020', '2020-01-01T10:00:00+05', {}],
    ['from 2099', '2099-01-01T10:00:00+05', {}],
    ['from 2020, without a state table', '2020-01-01T10:00:00+05', { STATE_TABLE_NAME: '' }],
  ])('an ISO-looking issuedAt that does not parse (%s: %s) is REJECTED INVALID_EVENT naming issuedAt, and changes nothing', async (_what, issuedAt, env) => {
    const w = world({ env });
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'odd-time', symbol: 'BTCUSDT', leverage: 5, issuedAt })])).toEqual([]);
    expect(guardWrites(w)).toEqual([]);
    const outcomes = w.outcomesOf('odd-time');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'REJECTED', error: { code: 'INVALID_EVENT', retryable: false } });
    expect(outcomes[0]!.error!.message).toMatch(/issuedAt/);
  });
});

describe('4. SUPERSEDED only by a newer change that was applied', () => {
  it('an older "cut to 5x" that meets a newer "cut to 2x" in flight, which Binance then rejects (-2027), ends APPLIED at 5x', async () => {
    const w = world();
    const [a, b] = [w.instance('a'), w.instance('b', 700)];
    const older = { eventId: 'cut-to-5', symbol: 'SOLUSDT', leverage: 5, issuedAt: w.iso(-1000) };
    const newer = { eventId: 'cut-to-2', symbol: 'SOLUSDT', leverage: 2, issuedAt: w.iso() };
    w.exchange.inject({ operation: 'change', symbol: 'SOLUSDT', leverage: 2, fault: { kind: 'reject2027' } });
    let olderDeliveries: Promise<boolean[]> | undefined;
    // While container a holds the newer event's claim and waits for Binance, container b receives
    // the older one: a's request is answered once b's first receive is over, or (should b wait
    // within its invocation) once b has tried to claim the key and had every chance to act on it.
    w.exchange.intercept({
      operation: 'change',
      when: 'before',
      leverage: 2,
      run: async () => {
        const firstReceive = b.handedBack([delivery('m-older', older, 1)]);
        // The redelivery comes a visibility timeout later, when a's invocation has long ended.
        olderDeliveries = firstReceive.then(async (back) => (back.includes('m-older') ? [true, ...(await newerDone.then(redeliver))] : [false]));
        const triedToClaim = async () => {
          while (!w.state.calls.some((c) => c.instance === 'b' && c.operation === 'TransactWriteItems' && c.pk.includes('key#desk-1#SOLUSDT'))) await Promise.resolve();
          for (let i = 0; i < 1000; i++) await Promise.resolve();
        };
        await Promise.race([firstReceive, triedToClaim()]);
      },
    });
    const redeliver = () => {
      w.advance(VISIBILITY_TIMEOUT_MS);
      return deliverUntilSettled(b, 'm-older', older, 2);
    };
    const newerDone = a.handedBack([delivery('m-newer', newer)]);
    expect(await newerDone).toEqual([]);
    await olderDeliveries;

    expect(brief(w.outcomesOf('cut-to-2'))).toEqual([{ symbol: 'SOLUSDT', status: 'REJECTED', code: -2027, leverage: undefined }]);
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ symbol: 'SOLUSDT', status: 'APPLIED', code: undefined, leverage: 5 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'SOLUSDT')).toBe(5);
  });

  it('a newer event that ended FAILED after plain 503s (never executed) does not block an older event, which ends APPLIED', async () => {
    const w = world();
    const a = w.instance('a');
    const older = { eventId: 'cut-to-5', symbol: 'SOLUSDT', leverage: 5, issuedAt: w.iso(-1000) };
    const newer = { eventId: 'cut-to-2', symbol: 'SOLUSDT', leverage: 2, issuedAt: w.iso() };
    w.exchange.inject({ operation: 'change', symbol: 'SOLUSDT', leverage: 2, fault: { kind: 'serviceUnavailable' }, times: MAX_RECEIVE_COUNT });
    expect(await deliverUntilSettled(a, 'm-newer', newer)).toEqual([true, true, true]);
    expect(brief(w.outcomesOf('cut-to-2'))).toEqual([{ symbol: 'SOLUSDT', status: 'FAILED', code: 'HTTP_503', leverage: undefined }]);

    await deliverUntilSettled(a, 'm-older', older);
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ symbol: 'SOLUSDT', status: 'APPLIED', code: undefined, leverage: 5 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'SOLUSDT')).toBe(5);
  });
});

describe('5. a cap never blocks a reduction, and is never exceeded', () => {
  it('with caps {"*": 5}, a 10x event on a symbol at 50x sets the cap (APPLIED 5x, capped: true)', async () => {
    const w = world({ env: { LEVERAGE_CAPS: '{"*": 5}' } });
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'cut-sol', symbol: 'SOLUSDT', leverage: 10, issuedAt: w.iso() })])).toEqual([]);
    expect(w.exchange.leverageOf(ACCOUNT, 'SOLUSDT')).toBe(5);
    expect(w.outcomesOf('cut-sol')).toMatchObject([{ status: 'APPLIED', leverage: 5, requestedLeverage: 10, capped: true }]);
  });

  it('with caps {"*": 5}, a 10x event on a symbol at 3x is still REJECTED ABOVE_CAP (the cap would not lower it)', async () => {
    const w = world({ env: { LEVERAGE_CAPS: '{"*": 5}' }, leverage: { BTCUSDT: 3 } });
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'raise-btc', symbol: 'BTCUSDT', leverage: 10, issuedAt: w.iso() })])).toEqual([]);
    expect(guardWrites(w)).toEqual([]);
    expect(brief(w.outcomesOf('raise-btc'))).toEqual([{ symbol: 'BTCUSDT', status: 'REJECTED', code: 'ABOVE_CAP', leverage: undefined }]);
  });
});

describe('6. an operator-side problem never destroys the event', () => {
  it('after a key rotation, a warm container drops its cached key on -2015, fetches the new one and applies the event in the same invocation', async () => {
    const w = world();
    const a = w.instance('a');
    expect(await a.handedBack([delivery('m1', { eventId: 'first', symbol: 'BTCUSDT', leverage: 7, issuedAt: w.iso() })])).toEqual([]);
    w.advance(10_000); // well within CREDENTIALS_CACHE_TTL_SECONDS (300)
    w.rotateKey(ACCOUNT);
    expect(await a.handedBack([delivery('m2', { eventId: 'second', symbol: 'BTCUSDT', leverage: 6, issuedAt: w.iso() })])).toEqual([]);
    expect(brief(w.outcomesOf('second'))).toEqual([{ symbol: 'BTCUSDT', status: 'APPLIED', code: undefined, leverage: 6 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(6);
  });

  it('a key the exchange keeps refusing (-2015) is retried, never REJECTED, and ends FAILED -2015 on its final receive, headed for the DLQ', async () => {
    const w = world();
    const a = w.instance('a');
    w.exchange.revokeAllKeys(ACCOUNT);
    const event = { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() };
    expect(await deliverUntilSettled(a, 'm1', event)).toEqual([true, true, true]);
    expect(w.outcomesOf('cut-btc')).toMatchObject([{ status: 'FAILED', error: { code: -2015, retryable: true } }]);
  });
});

describe('7. a new run is never mistaken for a redelivery', () => {
  type Generate = (context: { resolveVariable: (variable: string) => Promise<unknown> }) => Promise<Record<string, unknown>>;
  const generate = createRequire(path.join(process.cwd(), 'package.json'))('./infra/schedules.cjs') as Generate;
  const packageSchedules = (rules: unknown[]) => {
    const values: Record<string, unknown> = { 'file(infra/config/schedules.yml)': { rules }, 'sls:stage': 'prod', 'param:asyncMaximumEventAge': '3600' };
    return generate({ resolveVariable: async (variable) => values[variable] });
  };
  const rule = (expression: string) => ({
    name: 'hourly-btc',
    expression,
    event: { eventId: 'hourly-btc-cut', accountId: ACCOUNT, symbol: 'BTCUSDT', leverage: 5 },
  });

  it.each(['rate(1 hour)', 'cron(0 * * * ? *)'])('the package step refuses a recurring schedule (%s) whose eventId is constant', async (expression) => {
    await expect(packageSchedules([rule(expression)])).rejects.toThrow(/eventId/);
  });

  it('a one-time schedule (at(...)) may keep a constant eventId', async () => {
    await expect(packageSchedules([rule('at(2026-12-24T20:00:00)')])).resolves.toHaveProperty('ScheduleHourlyBtc');
  });
});

describe('8. the pause switch fails closed: only a missing parameter or exactly "false" means running', () => {
  it.each(['ture', 'pause', 'stop', 'enabled', 'off', 'no', '0'])('the value %j pauses: the record is handed back, nothing is sent or published', async (value) => {
    const w = world();
    w.state.pauseValue = value;
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() })])).toEqual(['m1']);
    expect(guardWrites(w)).toEqual([]);
    expect(w.sns.published).toEqual([]);
  });

  it.each([
    ['"false"', 'false'],
    ['a missing parameter', undefined],
  ])('%s means running', async (_what, value) => {
    const w = world();
    w.state.pauseValue = value;
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() })])).toEqual([]);
    expect(brief(w.outcomesOf('cut-btc'))).toEqual([{ symbol: 'BTCUSDT', status: 'APPLIED', code: undefined, leverage: 5 }]);
  });
});

describe('9. outcomes say what failed without exposing the account', () => {
  const exposes = /arn:aws|\b\d{12}\b|assumed-role/;

  it('a Secrets Manager access denial ends FAILED naming the dependency and its error code, with no account id, ARN or role', async () => {
    const w = world();
    w.secrets.fail({ error: 'accessDenied', times: 100 });
    await deliverUntilSettled(w.instance('a'), 'm1', { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() });
    const [failed, ...others] = w.outcomesOf('cut-btc');
    expect(others).toEqual([]);
    expect(failed).toMatchObject({ status: 'FAILED' });
    expect(JSON.stringify(failed)).not.toMatch(exposes);
    expect(failed!.error!.message).toMatch(/secret/i);
    expect(failed!.error!.message).toMatch(/AccessDeniedException/);
  });

  it('a DynamoDB access denial ends FAILED naming the dependency and its error code, with no account id, ARN or role', async () => {
    const w = world();
    w.state.fail({ when: 'before', error: 'accessDenied', times: 1000 });
    await deliverUntilSettled(w.instance('a'), 'm1', { eventId: 'cut-btc', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() });
    const outcomes = w.outcomesOf('cut-btc');
    expect(outcomes).toMatchObject([{ status: 'FAILED' }]);
    expect(JSON.stringify(outcomes[0])).not.toMatch(exposes);
    expect(outcomes[0]!.error!.message).toMatch(/state table|DynamoDB/i);
    expect(outcomes[0]!.error!.message).toMatch(/AccessDeniedException/);
  });
});
