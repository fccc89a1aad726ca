/**
 * Adversary, second round against issue 13: the outbox (one PublishBatch per batch), EVENT_ID_REUSED
 * (a decision remembers the command it decided), the release retried once, the unconfirmed change
 * kept in flight, and the pause overlapping the claim. Each test states the rule it holds the code
 * to; each failed on the code it was written against (the adversary's report) and guards the fix since.
 */
import '../support/chaos/quiet-logs.ts';
import { ACCOUNT, AFTER_THE_LEASE_MS, brief, delivery, leftInFlight, world } from '../support/chaos/adversary-world.ts';

const DAY_MS = 24 * 3600 * 1000;

describe('C1. a redelivery reading its own in-flight change back gets a permanent error from the read', () => {
  // Found by `npm run chaos:long -- --model --seed 64` and `--seed 76` (invariant outcomeAgreesWithExchange).
  // change-leverage.ts readOwnChange rethrows a non-retryable read error as it is: the verdict is
  // REJECTED (which says "not executed"), the claim is released `not-applied` (the marker is gone),
  // and the decision is recorded. The read failing says nothing about the earlier change's fate.
  it('is not REJECTED "not executed" while its change is in force (was: REJECTED -2027, marker released)', async () => {
    const w = world();
    const cut = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() };
    await leftInFlight(w, cut, 5);

    w.advance(AFTER_THE_LEASE_MS);
    // Any non-retryable answer to the read (here -2027; -1121 for a dated contract delisted meanwhile).
    w.exchange.inject({ operation: 'readLeverage', symbol: 'BTCUSDT', fault: { kind: 'reject2027' } });
    await w.instance('b').handedBack([delivery('m-cut-to-5', cut, 2)]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);
    // Rule (issue 8, README "Outcomes"): REJECTED/SKIPPED only for a change that did not happen;
    // a change whose fate is unknown stays in flight (or ends FAILED EXECUTION_UNKNOWN).
    expect(w.outcomesOf('cut-to-5').map((o) => o.status)).not.toContain('REJECTED');
  });
});

describe('C2. EVENT_ID_REUSED: a legitimate second delivery of one command is not "another command"', () => {
  // risk-event.ts commandFingerprint quotes `issuedAt` as the producer wrote it, although every
  // decision uses issuedAtMs. The same instant written twice (a producer that re-serialises on
  // its own retry, an SDK that adds milliseconds, a `+00:00` offset) is the same command.
  it('the same event sent again with issuedAt "…00.000Z" instead of "…00Z" is not REJECTED EVENT_ID_REUSED (was: REJECTED, after APPLIED)', async () => {
    const w = world();
    const at = new Date(Math.floor(w.nowMs / 1000) * 1000);
    const first = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: at.toISOString().replace('.000Z', 'Z') };
    expect(await w.instance('a').handedBack([delivery('m1', first)])).toEqual([]);
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 5 }]);

    const resent = { ...first, issuedAt: at.toISOString() };
    expect(resent.issuedAt).not.toBe(first.issuedAt);
    expect(await w.instance('b').handedBack([delivery('m2', resent)])).toEqual([]);
    // Rule (README "Idempotency"): a redelivered event publishes nothing new once its outcome is out.
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 5 }]);
  });
});

describe('C3. EVENT_ID_REUSED is not detected once the decision item expired (15 days) but the key still names the event (30 days)', () => {
  // state-store.ts: the claim's ConditionCheck ignores an expired decision item, the key's
  // `lastEventId <> :owner` refuses the claim, refusal() answers `applied-earlier`, and
  // change-leverage.ts appliedEarlier(plan) returns APPLIED at the NEW command's leverage without
  // sending anything and without comparing commands. A producer with deterministic eventIds
  // (one per rule and symbol) meets this after 15 quiet days on a symbol.
  it('a second command under the eventId, 16 days later, is not published APPLIED at a leverage never set (was: APPLIED 10x, BTCUSDT at 5x)', async () => {
    const w = world();
    expect(await w.instance('a').handedBack([delivery('m1', { eventId: 'btc-risk-limit', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() })])).toEqual([]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);

    w.advance(16 * DAY_MS);
    await w.instance('b').handedBack([delivery('m2', { eventId: 'btc-risk-limit', symbol: 'BTCUSDT', leverage: 10, issuedAt: w.iso() })]);
    const second = w.outcomesOf('btc-risk-limit').slice(1);
    // Rule (issue 8): APPLIED only when the exchange holds that leverage.
    expect(second.filter((o) => o.status === 'APPLIED').map((o) => o.leverage)).toEqual(second.filter((o) => o.status === 'APPLIED').map(() => w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')));
  });
});

describe('C4. a reused eventId takes over the first command\'s in-flight marker as its own', () => {
  // state-store.ts refusal(): `pendingEventId === ref.eventId` → 'own-in-flight', whatever the
  // command; the second command then records its decision under the eventId, and the first
  // command's redelivery is REJECTED EVENT_ID_REUSED "is not executed" although its change was
  // executed (it was in force until the second command replaced it).
  it('the first command, whose change executed, is not told REJECTED "not executed" (was: REJECTED EVENT_ID_REUSED)', async () => {
    const w = world();
    const first = { eventId: 'risk-1', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() };
    await leftInFlight(w, first, 5);

    w.advance(AFTER_THE_LEASE_MS);
    await w.instance('b').handedBack([delivery('m-other', { eventId: 'risk-1', symbol: 'BTCUSDT', leverage: 8, issuedAt: w.iso() })]);

    w.advance(AFTER_THE_LEASE_MS);
    await w.instance('a').handedBack([delivery('m-risk-1', first, 2)]);
    const firstOutcomes = w.outcomesOf('risk-1').filter((o) => o.requestedLeverage === 5);
    // Rule (issue 8): REJECTED says the change was not made; this one was made (write by instance a).
    expect(w.exchange.writes.some((write) => write.actor === 'guard' && write.instance === 'a' && write.to === 5)).toBe(true);
    expect(firstOutcomes.map((o) => o.status)).not.toContain('REJECTED');
  });
});

describe('C5. the final receive of an event whose own change is in flight, blocked behind an earlier record of its batch', () => {
  // Found by `npm run chaos:long -- --model --seed 72` (invariant outcomeAgreesWithExchange).
  // process-record.ts settle(): a blocked record's final-receive FAILED takes the blocking error
  // (EARLIER_EVENT_PENDING) unless a decision is recorded; the key's marker (this event's own
  // change, executed or not) is not consulted. A6 fixed the same hole for the pause only.
  it('its FAILED says the change may have executed (was: FAILED EARLIER_EVENT_PENDING, BTCUSDT at its 5x)', async () => {
    const w = world({ env: { MAX_RECEIVE_COUNT: '2' } });
    const t0 = w.iso();
    const cut = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: t0 };
    await leftInFlight(w, cut, 5);

    w.advance(AFTER_THE_LEASE_MS);
    // An older event on the same key comes first in the batch; its read-back of cut-to-5's marker fails: handed back.
    w.exchange.inject({ operation: 'readLeverage', symbol: 'BTCUSDT', fault: { kind: 'serviceUnavailable' } });
    const older = { eventId: 'set-to-7', symbol: 'BTCUSDT', leverage: 7, issuedAt: new Date(Date.parse(t0) - 10_000).toISOString() };
    expect(await w.instance('b').handedBack([delivery('m-older', older, 1), delivery('m-cut-to-5', cut, 2)])).toEqual(['m-older', 'm-cut-to-5']);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);
    // Rule (issue 9, README "Outcomes"): a FAILED that may follow an executed change says so
    // (EXECUTION_UNKNOWN), as the paused final receive does since A6.
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ status: 'FAILED', code: 'EXECUTION_UNKNOWN', leverage: undefined }]);
  });
});

describe('C7. an APPLIED decision written alone (its release failed twice) is not recorded on the key by a taker-over', () => {
  // state-store.ts release(): after two failed releases the decision is written alone; the key
  // keeps the marker. A newer event reads the change back (in force) and claims with
  // `replacedApplied`; that transaction's `attribute_not_exists(pk)` Put of the replaced decision
  // fails (the decision exists), and tryClaim retries WITHOUT replacedApplied, so the key's
  // lastEventId/lastIssuedAtMs never learn the applied change (B2 through the "written alone" path).
  it('an event older than the applied "cut to 5x" is superseded after the taker-over is rejected (was: it applied 30x over the newer cut)', async () => {
    const w = world();
    const t0 = w.iso();
    const cut = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: t0 };
    w.exchange.intercept({ operation: 'change', when: 'after', leverage: 5, run: () => w.state.fail({ operation: 'TransactWriteItems', pkPrefix: `key#${ACCOUNT}#BTCUSDT`, when: 'before', times: 2 }) });
    expect(await w.instance('a').handedBack([delivery('m-cut', cut, 1)])).toEqual([]);
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 5 }]);

    // A newer event takes the key over (reads 5x back) and is refused by Binance.
    w.advance(AFTER_THE_LEASE_MS);
    w.exchange.inject({ operation: 'change', leverage: 3, fault: { kind: 'reject2027' } });
    expect(await w.instance('b').handedBack([delivery('m-newer', { eventId: 'set-to-3', symbol: 'BTCUSDT', leverage: 3, issuedAt: w.iso() }, 1)])).toEqual([]);
    expect(brief(w.outcomesOf('set-to-3'))).toEqual([{ status: 'REJECTED', code: -2027, leverage: undefined }]);

    const older = { eventId: 'raise-to-30', symbol: 'BTCUSDT', leverage: 30, issuedAt: new Date(Date.parse(t0) - 30_000).toISOString() };
    await w.instance('c').handedBack([delivery('m-older', older, 1)]);
    // Rule (issue 8): an older event never overwrites a newer applied one.
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);
    expect(brief(w.outcomesOf('raise-to-30'))).toEqual([{ status: 'SKIPPED', code: 'SUPERSEDED', leverage: undefined }]);
  });
});
