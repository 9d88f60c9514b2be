/**
 * What a value carries to live in an LruCache: its key and its recency links (written by the cache only). The value
 * is its own list node, so a cached entry costs one object and one Map entry.
 */
export interface LruEntry<K> {
  readonly key: K;
  newer: LruEntry<K> | undefined;
  older: LruEntry<K> | undefined;
}

/**
 * A least-recently-used map with a size bound: a Map for lookup plus a doubly linked list through the values for
 * recency, so a hit moves an entry with a few pointer writes and allocates nothing, and eviction takes the oldest
 * entry in O(1).
 */
export class LruCache<K, V extends LruEntry<K>> {
  private readonly map = new Map<K, V>();
  private newest: LruEntry<K> | undefined;
  private oldest: LruEntry<K> | undefined;

  constructor(
    private readonly capacity: number,
    /** Called for each entry pushed out by the bound; return false to keep it (a pinned entry). */
    private readonly onEvict?: (value: V) => boolean | undefined,
  ) {}

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry !== this.newest) {
      this.unlink(entry);
      this.linkNewest(entry);
    }
    return entry;
  }

  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  /**
   * Adds `value` under its key as the newest entry, replacing an entry of the same key. `value` itself is never
   * pushed out by its own insertion: when every other entry is kept (pinned), the cache holds one entry over the bound
   * (the next insertion pushes that one out), so a caller never gets back a value already dropped.
   */
  set(value: V): void {
    const existing = this.map.get(value.key);
    if (existing !== undefined) this.unlink(existing);
    this.map.set(value.key, value);
    this.linkNewest(value);
    if (existing === undefined && this.map.size > this.capacity) this.shrink(value);
  }

  delete(key: K): boolean {
    const entry = this.map.get(key);
    if (entry === undefined) return false;
    this.unlink(entry);
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.newest = undefined;
    this.oldest = undefined;
  }

  get size(): number {
    return this.map.size;
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  private shrink(inserted: V): void {
    // Kept (pinned) entries move to the newest end, so each is looked at once per pass; once the entry just inserted
    // is the oldest, every other one was kept.
    let budget = this.map.size;
    while (this.map.size > this.capacity && budget-- > 0 && this.oldest !== inserted) {
      const entry = this.oldest as V;
      this.unlink(entry);
      if (this.onEvict?.(entry) === false) {
        this.linkNewest(entry);
        continue;
      }
      this.map.delete(entry.key);
    }
  }

  private unlink(entry: LruEntry<K>): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }

  private linkNewest(entry: LruEntry<K>): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
  }
}
