import { type Lanes, Sequencer } from '../../../functions/domain/sequencer.ts';
import { type Deferred, deferred, rejectionOf, settleUntil } from '../../support/fakes.ts';

/**
 * Tasks the test finishes by hand: `started` lists [name, blocked] in start order; each task's
 * result is 'retry' (handed back) or 'done'.
 */
function harness() {
  const sequencer = new Sequencer();
  const started: [string, boolean][] = [];
  const gates = new Map<string, Deferred<string>>();
  const run = (name: string, lanes: Lanes) => {
    const gate = deferred<string>();
    gates.set(name, gate);
    return sequencer.run(
      lanes,
      (blocked) => {
        started.push([name, blocked]);
        return gate.promise;
      },
      (result) => result === 'retry',
    );
  };
  const finish = async (name: string, result: string) => {
    gates.get(name)!.resolve(result);
    await settleUntil(() => false, 5);
  };
  const fail = async (name: string, error: Error) => {
    gates.get(name)!.reject(error);
    await settleUntil(() => false, 5);
  };
  const names = () => started.map(([name]) => name);
  return { sequencer, started, run, finish, fail, names };
}

const lane = (...names: string[]): Lanes => ({ waitFor: names, occupy: names });

describe('Sequencer', () => {
  test('tasks of one lane run one after another, in the order they were given', async () => {
    const h = harness();
    const results = [h.run('a', lane('x')), h.run('b', lane('x')), h.run('c', lane('x'))];
    await settleUntil(() => false, 5);
    expect(h.names()).toEqual(['a']);
    await h.finish('a', 'done');
    expect(h.names()).toEqual(['a', 'b']);
    await h.finish('b', 'done');
    await h.finish('c', 'done');
    expect(h.started).toEqual([['a', false], ['b', false], ['c', false]]);
    await expect(Promise.all(results)).resolves.toEqual(['done', 'done', 'done']);
  });

  test('tasks with no lane in common run concurrently, and finish in any order', async () => {
    const h = harness();
    const first = h.run('a', lane('x'));
    const second = h.run('b', lane('y'));
    await settleUntil(() => h.started.length === 2);
    expect(h.names()).toEqual(['a', 'b']);
    await h.finish('b', 'done-b');
    await expect(second).resolves.toBe('done-b');
    await h.finish('a', 'done-a');
    await expect(first).resolves.toBe('done-a');
  });

  test('a task waiting on two lanes starts only after both are free', async () => {
    const h = harness();
    h.run('a', lane('x'));
    h.run('b', lane('y'));
    h.run('c', lane('x', 'y'));
    await settleUntil(() => false, 5);
    expect(h.names()).toEqual(['a', 'b']);
    await h.finish('a', 'done');
    expect(h.names()).toEqual(['a', 'b']);
    await h.finish('b', 'done');
    expect(h.names()).toEqual(['a', 'b', 'c']);
  });

  test('a lane waited for but not occupied does not hold back later tasks of that lane', async () => {
    const h = harness();
    h.run('a', lane('x'));
    h.run('b', { waitFor: ['x'], occupy: ['y'] });
    h.run('c', lane('x'));
    await settleUntil(() => false, 5);
    expect(h.names()).toEqual(['a']);
    await h.finish('a', 'done');
    // b and c both waited only for a; c does not wait for b (b occupies y, not x).
    expect(h.names()).toEqual(['a', 'b', 'c']);
  });

  test('after a handed-back result, later tasks of that lane start blocked; other lanes do not', async () => {
    const h = harness();
    h.run('a', lane('x'));
    h.run('b', lane('x'));
    h.run('c', lane('y'));
    h.run('d', lane('x', 'y'));
    await h.finish('a', 'retry');
    await h.finish('c', 'done');
    await h.finish('b', 'done');
    await h.finish('d', 'done');
    expect(h.started).toEqual([['a', false], ['c', false], ['b', true], ['d', true]]);
  });

  test('blocking propagates: a task started blocked that is handed back blocks the lanes it occupies', async () => {
    const h = harness();
    h.run('a', lane('x'));
    h.run('b', { waitFor: ['x'], occupy: ['y'] });
    h.run('c', lane('y'));
    await h.finish('a', 'retry');
    await h.finish('b', 'retry');
    await h.finish('c', 'done');
    expect(h.started).toEqual([['a', false], ['b', true], ['c', true]]);
  });

  test('a result that is not handed back leaves the lane unblocked', async () => {
    const h = harness();
    h.run('a', lane('x'));
    h.run('b', lane('x'));
    await h.finish('a', 'done');
    await h.finish('b', 'done');
    expect(h.started).toEqual([['a', false], ['b', false]]);
  });

  test('a rejected task rejects its own promise but does not poison the lane', async () => {
    const h = harness();
    const failing = rejectionOf(h.run('a', lane('x')));
    const next = h.run('b', lane('x'));
    const boom = new Error('boom');
    await h.fail('a', boom);
    expect(await failing).toBe(boom);
    expect(h.started).toEqual([['a', false], ['b', false]]);
    await h.finish('b', 'done');
    await expect(next).resolves.toBe('done');
  });

  test('knownLanes lists the lanes seen so far that start with a prefix', () => {
    const h = harness();
    h.run('a', lane('key\u0000desk-1\u0000BTCUSDT'));
    h.run('b', { waitFor: ['key\u0000desk-1\u0000SOLUSDT'], occupy: ['key\u0000desk-1\u0000ETHUSDT', 'key\u0000desk-2\u0000BTCUSDT'] });
    expect(h.sequencer.knownLanes('key\u0000desk-1\u0000')).toEqual(['key\u0000desk-1\u0000BTCUSDT', 'key\u0000desk-1\u0000ETHUSDT']);
    expect(h.sequencer.knownLanes('account\u0000')).toEqual([]);
  });
});
