/** 32-bit FNV-1a followed by murmur3's finaliser, so near-identical ids spread evenly. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A consistent-hash ring with virtual nodes: adding a node to a ring of N moves about 1/(N+1) of the keys.
 */
export class HashRing {
  private points: Uint32Array = new Uint32Array(0);
  private owners: string[] = [];
  private readonly nodes = new Set<string>();

  constructor(
    nodes: Iterable<string>,
    private readonly virtualNodes = 160,
  ) {
    for (const n of nodes) this.nodes.add(n);
    this.rebuild();
  }

  /** The node owning `key`: the first ring point at or after the key's hash, wrapping around. */
  nodeFor(key: string): string {
    const points = this.points;
    if (points.length === 0) throw new Error('HashRing has no nodes');
    const h = hash32(key);
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return this.owners[lo === points.length ? 0 : lo] as string;
  }

  private rebuild(): void {
    const entries: Array<[number, string]> = [];
    for (const node of this.nodes) for (let v = 0; v < this.virtualNodes; v++) entries.push([hash32(`${node}#${v}`), node]);
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = entries.map((e) => e[1]);
  }
}
