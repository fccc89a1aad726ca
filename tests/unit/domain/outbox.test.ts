import { LINGER_MS, Outbox } from '../../../functions/domain/outbox.ts';
import type { Outcome } from '../../../functions/domain/outcome.ts';
import type { Deadline, OutcomePublisher } from '../../../functions/domain/ports.ts';

const outcome = (eventId: string) => ({ eventId, status: 'APPLIED' }) as unknown as Outcome;

/** Records what reaches the real publisher; `fail` rejects the named events. */
function publisher(fail: string[] = []) {
  const received: string[] = [];
  const real: OutcomePublisher = {
    publish: async (o) => {
      received.push(o.eventId);
      if (fail.includes(o.eventId)) throw new Error(`refused ${o.eventId}`);
    },
  };
  return { real, received };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Outbox: the outcomes of one invocation leave together', () => {
  test('an outcome is held while another record is still working, and both leave when that one publishes', async () => {
    const { real, received } = publisher();
    const outbox = new Outbox(real);
    const slow = deferred();
    const second = outbox.run(async (p) => {
      await slow.promise;
      await p.publish(outcome('e2'));
    });
    const first = outbox.run((p) => p.publish(outcome('e1')));
    await turn();
    expect(received).toEqual([]);
    slow.resolve();
    await Promise.all([first, second]);
    expect(received).toEqual(['e1', 'e2']); // held first, sent first
  });

  test('a record alone is never held', async () => {
    const { real, received } = publisher();
    const outbox = new Outbox(real);
    const running = outbox.run((p) => p.publish(outcome('e1')));
    await Promise.resolve();
    expect(received).toEqual(['e1']);
    await running;
  });

  test('a record that finishes without publishing lets the held ones go', async () => {
    const { real, received } = publisher();
    const outbox = new Outbox(real);
    const done = deferred();
    const second = outbox.run(() => done.promise);
    const first = outbox.run((p) => p.publish(outcome('e1')));
    await turn();
    expect(received).toEqual([]);
    done.resolve();
    await Promise.all([first, second]);
    expect(received).toEqual(['e1']);
  });

  test(`an outcome waits at most ${LINGER_MS} ms for a record that is still working`, async () => {
    jest.useFakeTimers();
    try {
      const { real, received } = publisher();
      const outbox = new Outbox(real);
      const never = deferred();
      void outbox.run(() => never.promise);
      const first = outbox.run((p) => p.publish(outcome('e1')));
      await jest.advanceTimersByTimeAsync(LINGER_MS - 1);
      expect(received).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(received).toEqual(['e1']);
      await first;
      never.resolve();
    } finally {
      jest.useRealTimers();
    }
  });

  test('ten held outcomes leave at once, whoever is still working', async () => {
    const { real, received } = publisher();
    const outbox = new Outbox(real);
    const never = deferred();
    void outbox.run(() => never.promise);
    const ten = Array.from({ length: 10 }, (_, i) => outbox.run((p) => p.publish(outcome(`e${i}`))));
    await Promise.all(ten);
    expect(received).toHaveLength(10);
    never.resolve();
  });

  test('an outcome whose deadline leaves no time to wait is not held', async () => {
    const { real, received } = publisher();
    const outbox = new Outbox(real);
    const never = deferred();
    void outbox.run(() => never.promise);
    const tight: Deadline = { remainingMs: () => LINGER_MS };
    await outbox.run((p) => p.publish(outcome('e1'), tight));
    expect(received).toEqual(['e1']);
    never.resolve();
  });

  test('each caller learns its own outcome\'s fate', async () => {
    const { real } = publisher(['e2']);
    const outbox = new Outbox(real);
    const results = await Promise.allSettled(['e1', 'e2', 'e3'].map((id) => outbox.run((p) => p.publish(outcome(id)))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('refused e2'));
  });

  test('a publisher that throws instead of rejecting fails only that publish', async () => {
    const outbox = new Outbox({ publish: () => { throw new Error('sync'); } });
    await expect(outbox.run((p) => p.publish(outcome('e1')))).rejects.toThrow('sync');
  });
});
