/**
 * Adversary findings against the issue-13 state table (one claim transaction, one release
 * transaction, take-over of a marker left in flight after a read-back, pause overlapping the claim).
 * Each test states the rule it holds the code to and the exact interleaving; each failed on the
 * code it was written against (the adversary's report) and guards the fix since.
 */
import '../support/chaos/quiet-logs.ts';
import { ACCOUNT, AFTER_THE_LEASE_MS, brief, delivery, leftInFlight, world } from '../support/chaos/adversary-world.ts';
import type { World } from '../support/chaos/model-world.ts';


describe('B1. the APPLIED decision a taker-over records for an older event in flight', () => {
  // Found by `npm run chaos:long -- --model --seed 6` (invariant capsHold).
  it('keeps `capped` (was: dropped): the capped event\'s redelivery publishes APPLIED 10x for its 15x request as capped', async () => {
    const w = world({ env: { LEVERAGE_CAPS: '{"*": 10}' } });
    const capped = { eventId: 'cut-to-15', symbol: 'BTCUSDT', leverage: 15, issuedAt: w.iso() };
    await leftInFlight(w, capped, 10);

    // A newer event finds cut-to-15's marker, reads 10x back and records cut-to-15 as APPLIED 10x.
    w.advance(AFTER_THE_LEASE_MS);
    expect(await w.instance('b').handedBack([delivery('m-newer', { eventId: 'cut-to-8', symbol: 'BTCUSDT', leverage: 8, issuedAt: w.iso() }, 1)])).toEqual([]);

    w.advance(AFTER_THE_LEASE_MS);
    expect(await w.instance('a').handedBack([delivery('m-cut-to-15', capped, 2)])).toEqual([]);
    // Rule (issue 8 §5, README "caps"): a request above the cap that set the cap is APPLIED with `capped: true`.
    expect(w.outcomesOf('cut-to-15')).toEqual([expect.objectContaining({ status: 'APPLIED', leverage: 10, requestedLeverage: 15, capped: true })]);
  });
});

describe('B2. a taker-over that finds an older event\'s change in force records it for that event only, not on the key', () => {
  // Pre-existing (on main before issue 13 the older marker was overwritten unseen); the new claim
  // knows the older change applied (it records its decision), so it can now record it on the key.
  it('the newer event that took the key is then rejected by Binance; a still older "raise to 30x" is superseded (was: it found no applied change on the key and undid the cut)', async () => {
    const w = world();
    const t0 = w.iso();
    const cut = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: t0 };
    await leftInFlight(w, cut, 5);

    // A newer event takes the key: it reads 5x back, records cut-to-5 as APPLIED, and is refused by Binance.
    w.advance(AFTER_THE_LEASE_MS);
    w.exchange.inject({ operation: 'change', leverage: 3, fault: { kind: 'reject2027' } });
    expect(await w.instance('b').handedBack([delivery('m-newer', { eventId: 'set-to-3', symbol: 'BTCUSDT', leverage: 3, issuedAt: w.iso() }, 1)])).toEqual([]);
    expect(brief(w.outcomesOf('set-to-3'))).toEqual([{ status: 'REJECTED', code: -2027, leverage: undefined }]);

    // An event issued before cut-to-5 (a slow producer, a redrive) arrives.
    const older = { eventId: 'raise-to-30', symbol: 'BTCUSDT', leverage: 30, issuedAt: new Date(Date.parse(t0) - 30_000).toISOString() };
    await w.instance('c').handedBack([delivery('m-older', older, 1)]);
    // Rule (issue 8): an older event never overwrites a newer applied one. The state table knew
    // cut-to-5 was applied (it recorded its APPLIED decision), yet the key forgot its issuedAt.
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(5);
    expect(brief(w.outcomesOf('raise-to-30'))).toEqual([{ status: 'SKIPPED', code: 'SUPERSEDED', leverage: undefined }]);
  });

  it('the taker-over has no issuedAt and applies; a still older "raise to 30x" is superseded (was: it found no applied issuedAt on the key)', async () => {
    const w = world();
    const t0 = w.iso();
    await leftInFlight(w, { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: t0 }, 5);

    w.advance(AFTER_THE_LEASE_MS);
    expect(await w.instance('b').handedBack([delivery('m-unordered', { eventId: 'set-to-4', symbol: 'BTCUSDT', leverage: 4 }, 1)])).toEqual([]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(4);

    const older = { eventId: 'raise-to-30', symbol: 'BTCUSDT', leverage: 30, issuedAt: new Date(Date.parse(t0) - 30_000).toISOString() };
    await w.instance('c').handedBack([delivery('m-older', older, 1)]);
    // Rule (issue 8): an older event never overwrites a newer applied one (cut-to-5, recorded APPLIED).
    expect(brief(w.outcomesOf('raise-to-30'))).toEqual([{ status: 'SKIPPED', code: 'SUPERSEDED', leverage: undefined }]);
  });
});

describe('B3. a marker left by an event that decided NOT to change (its release failed) is read back as that event\'s change', () => {
  /** reduce-only "at most 5x" on BTCUSDT at 5x: SKIPPED NOT_A_REDUCTION, published; the release (one transaction) fails. */
  const notAReduction = (w: World, extra: Record<string, unknown> = {}) => {
    // The next transaction on the key after reduce-only's read (the claim came before it) is the release.
    w.exchange.intercept({ operation: 'readLeverage', when: 'after', symbol: 'BTCUSDT', run: () => w.state.fail({ operation: 'TransactWriteItems', pkPrefix: `key#${ACCOUNT}#BTCUSDT`, when: 'before' }) });
    return { eventId: 'at-most-5', mode: 'reduce-only', issuedAt: w.iso(), ...extra };
  };

  // New with issue 13 (the owed APPLIED recorded by a taker-over); passes on main before it.
  it('one failed release is retried, so a newer event never records it APPLIED (was: its redelivery published APPLIED after SKIPPED NOT_A_REDUCTION)', async () => {
    const w = world({ leverage: { BTCUSDT: 5 } });
    const event = notAReduction(w, { targets: [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'ETHUSDT', leverage: 6 }] });
    w.exchange.inject({ operation: 'change', symbol: 'ETHUSDT', fault: { kind: 'serviceUnavailable' } });
    expect(await w.instance('a').handedBack([delivery('m1', event, 1)])).toEqual(['m1']);
    expect(brief(w.outcomesOf('at-most-5', 'BTCUSDT'))).toEqual([{ status: 'SKIPPED', code: 'NOT_A_REDUCTION', leverage: undefined }]);

    w.advance(AFTER_THE_LEASE_MS);
    expect(await w.instance('b').handedBack([delivery('m2', { eventId: 'set-to-3', symbol: 'BTCUSDT', leverage: 3, issuedAt: w.iso() }, 1)])).toEqual([]);
    w.advance(AFTER_THE_LEASE_MS);
    expect(await w.instance('a').handedBack([delivery('m1', event, 2)])).toEqual([]);
    expect(w.exchange.writes.filter((write) => write.actor === 'guard' && write.symbol === 'BTCUSDT').map((write) => write.instance)).toEqual(['b']);
    // Rule: one truthful terminal outcome per event and symbol; a redelivery never contradicts it.
    expect(brief(w.outcomesOf('at-most-5', 'BTCUSDT'))).toEqual([{ status: 'SKIPPED', code: 'NOT_A_REDUCTION', leverage: undefined }]);
  });

  // Pre-existing (the same read-back on main before issue 13, with the release's UpdateItem failing); not closed by the redesign.
  it('one failed release is retried, so an older "cut to 3x" is applied (was: SKIPPED SUPERSEDED by it, BTCUSDT left at 5x)', async () => {
    const w = world({ leverage: { BTCUSDT: 5 } });
    const t0 = w.iso();
    const event = notAReduction(w, { symbol: 'BTCUSDT', leverage: 5 });
    expect(await w.instance('a').handedBack([delivery('m1', event, 1)])).toEqual([]);
    expect(brief(w.outcomesOf('at-most-5'))).toEqual([{ status: 'SKIPPED', code: 'NOT_A_REDUCTION', leverage: undefined }]);

    w.advance(AFTER_THE_LEASE_MS);
    const older = { eventId: 'cut-to-3', symbol: 'BTCUSDT', leverage: 3, issuedAt: new Date(Date.parse(t0) - 30_000).toISOString() };
    await w.instance('b').handedBack([delivery('m2', older, 1)]);
    // Rule (issue 8 §4): SUPERSEDED only by a newer change that was applied. at-most-5 changed nothing.
    expect(brief(w.outcomesOf('cut-to-3'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 3 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(3);
  });
});

describe('B5. a claim whose transaction applied but whose reply was lost, on the final receive', () => {
  // Was (before the fix): the event ended FAILED STATE_STORE_UNAVAILABLE without sending, its marker
  // stayed, and an older "cut to 1x" was SKIPPED SUPERSEDED by a change that never happened.
  // Fixed: an unanswered claim reads the key back; its own lockToken there means the claim was made.
  it('the claim is recognised as made (its own token on the key): the event applies, and the older "cut to 1x" is truthfully superseded', async () => {
    const w = world({ leverage: { BTCUSDT: 20 }, env: { MAX_RECEIVE_COUNT: '3' } });
    const t0 = w.iso();
    const newer = { eventId: 'set-to-10', symbol: 'BTCUSDT', leverage: 10, issuedAt: t0 };
    w.state.fail({ operation: 'TransactWriteItems', pkPrefix: `done#${ACCOUNT}#BTCUSDT#set-to-10`, when: 'after' });
    expect(await w.instance('a').handedBack([delivery('m-newer', newer, 3)])).toEqual([]);
    expect(brief(w.outcomesOf('set-to-10'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 10 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(10);

    w.advance(AFTER_THE_LEASE_MS);
    const older = { eventId: 'cut-to-1', symbol: 'BTCUSDT', leverage: 1, issuedAt: new Date(Date.parse(t0) - 30_000).toISOString() };
    await w.instance('b').handedBack([delivery('m-older', older, 1)]);
    // Rule (issue 8 §4): SUPERSEDED only by a newer change that was applied: set-to-10 was.
    expect(brief(w.outcomesOf('cut-to-1'))).toEqual([{ status: 'SKIPPED', code: 'SUPERSEDED', leverage: undefined }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(10);
  });
});

describe('B4. a take-over that loses its marker to the marker\'s own redelivery', () => {
  // New with issue 13: before it, a newer event overwrote an older marker without reading it back.
  it('the marker is gone when the claim names it: the claim is made on the key as it is (was: KEY_BUSY, and on the final receive FAILED in the DLQ)', async () => {
    const w = world({ env: { MAX_RECEIVE_COUNT: '3' } });
    const cut = { eventId: 'cut-to-5', symbol: 'BTCUSDT', leverage: 5, issuedAt: w.iso() };
    await leftInFlight(w, cut, 5);
    w.advance(AFTER_THE_LEASE_MS);

    // The newer event's read-back of cut-to-5's marker is in flight when cut-to-5's redelivery
    // (another container) re-claims its own marker, reads 5x back, publishes APPLIED and frees the key.
    w.exchange.intercept({
      operation: 'readLeverage',
      when: 'before',
      symbol: 'BTCUSDT',
      run: async () => {
        expect(await w.instance('c').handedBack([delivery('m-cut-to-5', cut, 2)])).toEqual([]);
      },
    });
    const newer = { eventId: 'cut-to-3', symbol: 'BTCUSDT', leverage: 3, issuedAt: w.iso() };
    await w.instance('b').handedBack([delivery('m-newer', newer, 3)]);
    expect(brief(w.outcomesOf('cut-to-5'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 5 }]);
    // Rule: nothing stood in cut-to-3's way once the marker was gone (cut-to-5 applied, and is older):
    // a claim that meets a key freed meanwhile tries again instead of failing the event.
    expect(brief(w.outcomesOf('cut-to-3'))).toEqual([{ status: 'APPLIED', code: undefined, leverage: 3 }]);
    expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(3);
  });
});
