import type { LoggerLike } from '../config/schema.js';
import { redactText } from '../config/uri.js';
import type { PolyMongoEvents } from '../events/events.js';
import type { TypedEmitter } from '../events/TypedEmitter.js';
import type { DriverPort } from '../pools/DriverPort.js';
import { LruCache, type LruEntry } from '../pools/LruCache.js';
import type { PoolEntry, PoolRegistry } from '../pools/PoolRegistry.js';
import type { Route, TenantRouter } from '../tenancy/TenantRouter.js';
import type { TenantHandle } from './AdapterHost.js';

export type EvictionReason = PolyMongoEvents['tenantEvicted']['reason'];

/**
 * A cached tenant: its database, pool and driver handle, its LRU links and the adapter's slot, in one object (memory
 * per tenant counts: no separate route, list node or adapter entry). Core keeps the pool's mutable entry; adapters see
 * it read-only.
 */
class CachedHandle<Pool, Handle> implements TenantHandle<Pool, Handle>, LruEntry<string> {
  newer: LruEntry<string> | undefined = undefined;
  older: LruEntry<string> | undefined = undefined;
  attachment: unknown = undefined;
  #route: Route | undefined;

  constructor(
    /** The tenant id. */
    readonly key: string,
    readonly dbName: string,
    readonly pool: PoolEntry<Pool>,
    readonly handle: Handle,
    /** Kept only when the pool's spec would not give it back (see `get`). */
    route: Route | undefined,
  ) {
    this.#route = route;
  }

  get tenantId(): string {
    return this.key;
  }

  /** Built when first asked for (the hot path does not): the pool's spec holds the cluster and pool key. */
  get route(): Route {
    this.#route ??= { tenantId: this.key, dbName: this.dbName, clusterId: this.pool.spec.clusterId, poolKey: this.pool.spec.key };
    return this.#route;
  }
}

interface TenantHandlesOptions<Pool, Handle> {
  capacity: number;
  port: DriverPort<Pool, Handle>;
  registry: PoolRegistry<Pool, Handle>;
  router: TenantRouter;
  events: TypedEmitter<PolyMongoEvents>;
  logger: LoggerLike;
  /** Called with each handle dropped from the cache, before `tenantEvicted` (adapters free what they attached). */
  onRelease(handle: TenantHandle<Pool, Handle>): void;
}

/**
 * The bounded cache of per-tenant driver handles, and the pins (open streams, running transactions) that keep a
 * tenant in it. 100k tenants cost `capacity` handles; the least recently used unpinned tenant goes first. Pinned
 * tenants stay over the bound, and so does the tenant just acquired when every other one is pinned (until the next
 * miss): a handle `get` returns is cached, so what an adapter attaches to it is released with it.
 */
export class TenantHandles<Pool, Handle> {
  private readonly cache: LruCache<string, CachedHandle<Pool, Handle>>;
  private readonly pins = new Map<string, number>();
  evictions = 0;

  constructor(private readonly o: TenantHandlesOptions<Pool, Handle>) {
    this.cache = new LruCache(o.capacity, (entry) => {
      if (this.pins.has(entry.key)) return false;
      this.release(entry, 'lru');
      return true;
    });
  }

  /** The tenant's handle: the cached one, else a new handle on its pool. */
  get(tenantId: string): CachedHandle<Pool, Handle> {
    const cached = this.cache.get(tenantId);
    if (cached !== undefined) {
      this.o.registry.touch(cached.pool);
      return cached;
    }
    // The handle keeps what the route says: the router need not cache a copy (memory and time on every miss).
    const route = this.o.router.resolve(tenantId, { cache: false });
    const pool = this.o.registry.entryFor(route);
    // The route is rebuilt on demand from the pool's spec; kept now only where the spec says otherwise (a dedicated
    // pool still open after its tenant moved cluster).
    const kept = pool.spec.clusterId === route.clusterId && pool.spec.key === route.poolKey ? undefined : route;
    const entry = new CachedHandle(tenantId, route.dbName, pool, this.o.port.handle(pool.pool, route.dbName, tenantId), kept);
    this.cache.set(entry);
    return entry;
  }

  /** The route of a cached tenant, without touching recency. */
  peekRoute(tenantId: string): Route | undefined {
    return this.cache.peek(tenantId)?.route;
  }

  /** Pins a tenant (and its pool); the returned function unpins, once. */
  pin(route: Route): () => void {
    const handle = this.get(route.tenantId);
    this.pins.set(route.tenantId, (this.pins.get(route.tenantId) ?? 0) + 1);
    this.o.registry.pin(handle.pool);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.pins.get(route.tenantId) ?? 1) - 1;
      if (n <= 0) this.pins.delete(route.tenantId);
      else this.pins.set(route.tenantId, n);
      this.o.registry.unpin(handle.pool);
    };
  }

  /** Frees a tenant's handle. A pinned tenant is kept unless its database was dropped. */
  evict(tenantId: string, reason: Exclude<EvictionReason, 'lru'>): boolean {
    if (this.pins.has(tenantId) && reason !== 'dropped') return false;
    const entry = this.cache.peek(tenantId);
    this.o.router.invalidate(tenantId);
    if (!entry) return false;
    this.cache.delete(tenantId);
    this.release(entry, reason);
    return true;
  }

  /** Drops every handle on a pool that core closed (idle close, closePool). */
  dropPool(poolKey: string): void {
    const onPool: string[] = [];
    for (const entry of this.cache.values()) if (entry.pool.spec.key === poolKey) onPool.push(entry.key);
    for (const tenantId of onPool) {
      const entry = this.cache.peek(tenantId);
      if (!entry) continue;
      this.cache.delete(tenantId);
      this.release(entry, 'manual');
    }
  }

  clear(): void {
    this.cache.clear();
  }

  get size(): number {
    return this.cache.size;
  }

  get pinnedTenants(): number {
    return this.pins.size;
  }

  private release(entry: CachedHandle<Pool, Handle>, reason: EvictionReason): void {
    this.evictions += 1;
    try {
      this.o.port.releaseHandle?.(entry.pool.pool, entry.handle, entry.dbName);
    } catch (error) {
      this.o.logger.warn({ tenant: entry.key, err: redactText(String(error)) }, 'releasing a tenant handle failed');
    }
    this.o.onRelease(entry);
    this.o.events.emit('tenantEvicted', { tenantId: entry.key, reason });
  }
}
