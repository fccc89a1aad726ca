import { TtlCache } from '../../../functions/adapters/ttl-cache.ts';

function cacheAt(start: number) {
  const clock = { now: start };
  return { clock, cache: new TtlCache<string, string>(1000, () => clock.now) };
}

test('a value is shared while fresh and loaded again once its time is up', async () => {
  const { clock, cache } = cacheAt(0);
  const load = jest.fn(async () => `value at ${clock.now}`);
  await expect(cache.get('k', load)).resolves.toBe('value at 0');
  clock.now = 999;
  await expect(cache.get('k', load)).resolves.toBe('value at 0');
  clock.now = 1000;
  await expect(cache.get('k', load)).resolves.toBe('value at 1000');
  expect(load).toHaveBeenCalledTimes(2);
});

test('a rejected load is forgotten: the next caller loads again', async () => {
  const { cache } = cacheAt(0);
  await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  await expect(cache.get('k', async () => 'back')).resolves.toBe('back');
});

test('invalidateIf drops the entry only when the predicate says its value is stale', async () => {
  const { cache } = cacheAt(0);
  await cache.get('k', async () => 'old');
  await cache.invalidateIf('k', (value) => value === 'other');
  await expect(cache.get('k', async () => 'new')).resolves.toBe('old');
  await cache.invalidateIf('k', (value) => value === 'old');
  await expect(cache.get('k', async () => 'new')).resolves.toBe('new');
});
