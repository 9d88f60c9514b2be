interface LruNode<K, V> {
  key: K;
  value: V;
  newer: LruNode<K, V> | undefined;
  older: LruNode<K, V> | undefined;
}

/**
 * A least-recently-used map with a size bound: a Map for lookup plus a doubly linked list for recency, so a hit
 * moves a node with a few pointer writes and allocates nothing, and eviction takes the oldest node in O(1).
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, LruNode<K, V>>();
  private newest: LruNode<K, V> | undefined;
  private oldest: LruNode<K, V> | undefined;

  constructor(
    private readonly capacity: number,
    /** Called for each entry pushed out by the bound; return false to keep it (a pinned entry). */
    private readonly onEvict?: (key: K, value: V) => boolean | undefined,
  ) {}

  get(key: K): V | undefined {
    const node = this.map.get(key);
    if (node === undefined) return undefined;
    if (node !== this.newest) {
      this.unlink(node);
      this.linkNewest(node);
    }
    return node.value;
  }

  peek(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: K, value: V): void {
    const existing = this.map.get(key);
    if (existing) {
      existing.value = value;
      this.unlink(existing);
      this.linkNewest(existing);
      return;
    }
    const node: LruNode<K, V> = { key, value, newer: undefined, older: undefined };
    this.map.set(key, node);
    this.linkNewest(node);
    if (this.map.size > this.capacity) this.shrink();
  }

  delete(key: K): boolean {
    const node = this.map.get(key);
    if (!node) return false;
    this.unlink(node);
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

  private shrink(): void {
    // Kept (pinned) entries move to the newest end, so each is looked at once per pass.
    let budget = this.map.size;
    while (this.map.size > this.capacity && budget-- > 0) {
      const node = this.oldest as LruNode<K, V>;
      this.unlink(node);
      if (this.onEvict?.(node.key, node.value) === false) {
        this.linkNewest(node);
        continue;
      }
      this.map.delete(node.key);
    }
  }

  private unlink(node: LruNode<K, V>): void {
    if (node.newer) node.newer.older = node.older;
    else this.newest = node.older;
    if (node.older) node.older.newer = node.newer;
    else this.oldest = node.newer;
    node.newer = undefined;
    node.older = undefined;
  }

  private linkNewest(node: LruNode<K, V>): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest) this.newest.newer = node;
    this.newest = node;
    this.oldest ??= node;
  }
}
