import { LruCache, type PolyMongoCore, type Route } from '@polymongo/core';
import type { NativePool } from '@polymongo/native';
import type { Db } from 'mongodb';
import type { Connection, Mongoose } from 'mongoose';

/**
 * Mongoose connections for tenants: one base Connection per PolyMongo pool, bound to that pool's MongoClient
 * with `setClient` (so Mongoose and native access share sockets), and one `useDb` connection per tenant, kept in
 * a bounded LRU. Evicting a tenant removes its connection from Mongoose's own caches too.
 */
export class TenantConnections {
  private readonly bases = new WeakMap<NativePool, Connection>();
  private readonly tenants: LruCache<string, { route: Route; conn: Connection; base: Connection }>;

  constructor(
    private readonly core: PolyMongoCore<NativePool, Db>,
    private readonly mongoose: Mongoose,
  ) {
    this.tenants = new LruCache(core.config.maxCachedTenants, (tenantId, entry) => {
      if (core.isPinned(tenantId)) return false;
      release(entry.base, entry.conn);
      return true;
    });
    core.on('tenantEvicted', ({ tenantId, reason }) => {
      if (reason !== 'lru') this.evict(tenantId);
    });
  }

  /** The tenant's Mongoose connection (a `useDb` child of its pool's base connection). */
  connectionFor(tenant?: string | null): { route: Route; conn: Connection } {
    const { route, pool } = this.core.acquire(tenant);
    const cached = this.tenants.get(route.tenantId);
    if (cached && cached.route.poolKey === route.poolKey) return cached;
    const base = this.baseFor(pool.pool, pool);
    // Mongoose 9 dropped `noListener` (useDb registers no listeners any more); useCache shares one child per name.
    const conn = base.useDb(route.dbName, { useCache: true });
    this.tenants.set(route.tenantId, { route, conn, base });
    return { route, conn };
  }

  /** The base connection of a pool, created on first use and bound to the pool's client once it connects. */
  baseFor(pool: NativePool, entry: Parameters<PolyMongoCore<NativePool, Db>['registry']['connect']>[0]): Connection {
    let base = this.bases.get(pool);
    if (!base) {
      const created = this.mongoose.createConnection();
      base = created;
      this.bases.set(pool, created);
      this.core.registry
        .connect(entry)
        .then(() => {
          if (created.readyState === 0) created.setClient(pool.client);
        })
        .catch((error: unknown) =>
          this.core.logger.warn({ pool: pool.spec.key, err: String(error) }, 'mongoose base connection not bound'),
        );
    }
    return base;
  }

  evict(tenantId: string): boolean {
    const entry = this.tenants.peek(tenantId);
    if (!entry) return false;
    this.tenants.delete(tenantId);
    release(entry.base, entry.conn);
    return true;
  }

  get size(): number {
    return this.tenants.size;
  }
}

/** Drops a useDb connection from every Mongoose cache that would keep it (and its models) alive. */
function release(base: Connection, conn: Connection): void {
  const name = conn.name;
  const internal = base as unknown as { relatedDbs: Record<string, Connection>; otherDbs: Connection[] };
  if (internal.relatedDbs[name] === conn) delete internal.relatedDbs[name];
  internal.otherDbs = internal.otherDbs.filter((c) => c !== conn);
  const child = conn as unknown as { otherDbs: Connection[]; models: Record<string, unknown>; collections: Record<string, unknown> };
  child.otherDbs = [];
  for (const model of Object.keys(child.models)) delete child.models[model];
  for (const coll of Object.keys(child.collections)) delete child.collections[coll];
}
