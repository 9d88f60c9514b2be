/**
 * A least-recently-used map with a size bound. A Map keeps insertion order, so re-inserting on access makes the
 * first key the least recently used one.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(
    private readonly capacity: number,
    /** Called for each entry pushed out by the bound; return false to keep a pinned entry. */
    private readonly onEvict?: (key: K, value: V) => boolean | undefined,
  ) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined && this.map.size > 1) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) this.shrink();
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
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

  private shrink(): void {
    let budget = this.map.size;
    for (const [key, value] of this.map) {
      if (this.map.size <= this.capacity || budget-- <= 0) return;
      if (this.onEvict?.(key, value) === false) continue;
      this.map.delete(key);
    }
  }
}
