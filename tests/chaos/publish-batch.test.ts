/**
 * Issue 13: the outcomes of one invocation go out in SNS PublishBatch requests, and a record is
 * still never acknowledged without its own outcome: SNS refusing one entry of a request hands back
 * that record alone. Through the real handler and publisher, wired as index.ts wires them, over
 * the in-memory SNS (tests/support/chaos/aws-fakes.ts ModelSns), which refuses single entries.
 */
import '../support/chaos/quiet-logs.ts';
import { type Delivery, World } from '../support/chaos/model-world.ts';

const ACCOUNT = 'desk-1';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];

function world(): World {
  return new World({ accounts: [{ name: ACCOUNT, leverage: { BTCUSDT: 20, ETHUSDT: 25, SOLUSDT: 50 }, openPositions: SYMBOLS }] });
}

const delivery = (w: World, symbol: string, receiveCount = 1): Delivery => ({
  messageId: `m-${symbol}`,
  body: JSON.stringify({ eventId: `cut-${symbol}`, accountId: ACCOUNT, symbol, leverage: 5, issuedAt: w.iso() }),
  receiveCount,
});

test('a batch of records publishes its outcomes in one request; the record whose entry SNS refused is handed back alone, and published on redelivery', async () => {
  const w = world();
  const a = w.instance('a');
  w.sns.fail({ eventId: 'cut-ETHUSDT' });

  expect(await a.handedBack(SYMBOLS.map((symbol) => delivery(w, symbol)))).toEqual(['m-ETHUSDT']);
  expect(w.sns.requests).toEqual([3]);
  expect(w.sns.refused.map((refused) => refused.eventId)).toEqual(['cut-ETHUSDT']);
  expect(w.sns.published.map((p) => [p.outcome.eventId, p.outcome.status]).sort()).toEqual([
    ['cut-BTCUSDT', 'APPLIED'],
    ['cut-SOLUSDT', 'APPLIED'],
  ]);
  for (const symbol of SYMBOLS) expect(w.exchange.leverageOf(ACCOUNT, symbol)).toBe(5);

  expect(await a.handedBack([delivery(w, 'ETHUSDT', 2)])).toEqual([]);
  expect(w.outcomesOf('cut-ETHUSDT').map((o) => [o.symbol, o.status, o.leverage])).toEqual([['ETHUSDT', 'APPLIED', 5]]);
});
