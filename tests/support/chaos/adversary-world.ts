/**
 * The scenario helpers the issue-13 adversary tests share: one account (desk-1) with BTCUSDT and
 * ETHUSDT open, deliveries of its events, outcomes in brief, and an event left in flight.
 */
import type { Outcome } from '../../../functions/domain/outcome.ts';
import { type Delivery, World } from './model-world.ts';

export const ACCOUNT = 'desk-1';
/** Longer than any lease (the invocation's 30 s budget + 5 s): a key left in flight may be taken over. */
export const AFTER_THE_LEASE_MS = 60_000;

export function world(options: { leverage?: Record<string, number>; env?: Record<string, string | undefined> } = {}): World {
  return new World({
    accounts: [{ name: ACCOUNT, leverage: { BTCUSDT: 20, ETHUSDT: 25, ...options.leverage }, openPositions: ['BTCUSDT', 'ETHUSDT'] }],
    env: options.env,
  });
}

export const delivery = (messageId: string, event: Record<string, unknown>, receiveCount = 1): Delivery => ({
  messageId,
  body: JSON.stringify({ accountId: ACCOUNT, ...event }),
  receiveCount,
});

export const brief = (outcomes: Outcome[]) => outcomes.map((o) => ({ status: o.status, code: o.error?.code, leverage: o.leverage }));

/** Delivery 1 of `event` sends its change (it executes), and the read-back after -1006 fails: the key stays in flight. */
export async function leftInFlight(w: World, event: Record<string, unknown>, leverage: number): Promise<void> {
  w.exchange.inject({ operation: 'change', leverage, fault: { kind: 'unknown', apply: true } });
  w.exchange.intercept({ operation: 'change', when: 'after', leverage, run: () => w.exchange.inject({ operation: 'readLeverage', symbol: 'BTCUSDT', fault: { kind: 'serviceUnavailable' } }) });
  expect(await w.instance('a').handedBack([delivery(`m-${String(event.eventId)}`, event, 1)])).toEqual([`m-${String(event.eventId)}`]);
  expect(w.exchange.leverageOf(ACCOUNT, 'BTCUSDT')).toBe(leverage);
}
