/**
 * Promises cached per key for a fixed time in a warm container (credentials, the pause switch).
 * Concurrent callers share the one in-flight promise, so a batch reads each value at most once. A
 * rejected promise is forgotten (unless a newer one has replaced it meanwhile): a failure is
 * never served from the cache, the next caller tries again.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { expiresAt: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The cached promise while it is fresh, else `load()`'s, cached from now on. */
  get(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.value;
    const entry = { expiresAt: this.now() + this.ttlMs, value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /** Drops the key's entry if `stale` says so of its value, unless a newer one has replaced it meanwhile. */
  async invalidateIf(key: K, stale: (value: V | undefined) => boolean): Promise<void> {
    const cached = this.entries.get(key);
    if (cached && stale(await cached.value.catch(() => undefined)) && this.entries.get(key) === cached) {
      this.entries.delete(key);
    }
  }
}
