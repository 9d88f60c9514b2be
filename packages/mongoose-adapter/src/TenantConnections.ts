import { type AdapterHost, type PoolView, redactText, type TenantHandle } from '@polymongo/core';
import type { NativePool } from '@polymongo/native';
import type { Db } from 'mongodb';
import type { Connection, Mongoose } from 'mongoose';

interface TenantConnection {
  /** The core's cached handle of the tenant: its route, and the Db the connection uses (see shareDb). */
  handle: TenantHandle<NativePool, Db>;
  conn: Connection;
  base: Connection;
}

/**
 * Mongoose connections for tenants: one base Connection per PolyMongo pool, bound to that pool's MongoClient
 * with `setClient` (so Mongoose and native access share sockets), and one `useDb` connection per tenant.
 *
 * A tenant's connection lives exactly as long as the core's cached handle of that tenant: its entry names that
 * handle (one LRU for both, so a lookup relinks one list node, not two), and when the core evicts the tenant, for any
 * reason, the connection is removed from Mongoose's own caches too.
 */
export class TenantConnections {
  private readonly bases = new WeakMap<NativePool, Connection>();
  /** Valid while its `handle` is the core's cached one: a new handle means the tenant was evicted meanwhile. */
  private readonly byTenant = new Map<string, TenantConnection>();

  constructor(
    private readonly host: AdapterHost<NativePool, Db>,
    private readonly mongoose: Mongoose,
  ) {
    host.on('tenantEvicted', ({ tenantId }) => this.release(tenantId));
  }

  /** The tenant's Mongoose connection (a `useDb` child of its pool's base connection). */
  connectionFor(tenant?: string | null): TenantConnection {
    const handle = this.host.acquire(tenant);
    const cached = this.byTenant.get(handle.route.tenantId);
    if (cached?.handle === handle) return cached;
    const base = this.baseOf(handle.pool);
    // Mongoose 9 dropped `noListener` (useDb registers no listeners any more); useCache shares one child per name.
    const conn = base.useDb(handle.route.dbName, { useCache: true });
    const entry: TenantConnection = { handle, conn, base };
    if (this.host.admission) useAdmittedDb(conn, handle.handle);
    else shareDb(conn, handle.handle);
    this.release(handle.route.tenantId);
    this.byTenant.set(handle.route.tenantId, entry);
    return entry;
  }

  /** The base connection of a cluster's shared pool (default: the default cluster). */
  baseFor(clusterId?: string): Connection {
    return this.baseOf(this.host.sharedPool(clusterId));
  }

  /** The base connection of a pool, created on first use and bound to the pool's client once it connects. */
  private baseOf(entry: PoolView<NativePool>): Connection {
    const pool = entry.pool;
    let base = this.bases.get(pool);
    if (!base) {
      const created = this.mongoose.createConnection();
      base = created;
      this.bases.set(pool, created);
      const bind = () => {
        if (created.readyState !== 0) return;
        created.setClient(pool.client);
        // setClient has just wired the tenant connections made before it, each with a Db of its own.
        if (this.host.admission) return;
        for (const t of this.byTenant.values()) if (t.base === created) shareDb(t.conn, t.handle.handle);
      };
      this.host
        .connectPool(entry)
        .then(bind)
        .catch((error: unknown) => {
          // A failed connect leaves the pool's topology open (native): bound, buffered operations run and fail with
          // their own cause (e.g. authentication), and succeed once it is gone, as native handles do.
          if ((pool.client as unknown as { topology?: unknown }).topology != null) return bind();
          this.host.logger.warn({ pool: pool.spec.key, err: redactText(String(error)) }, 'mongoose base connection not bound');
        });
    }
    return base;
  }

  /**
   * The tenant a connection of this class serves (what `Model.db(t).watch()` tracks its stream under): looked up
   * rather than stored on each tenant model, since a field per model is memory per tenant and watch() is rare.
   */
  tenantOf(conn: Connection): string | undefined {
    for (const [tenantId, entry] of this.byTenant) if (entry.conn === conn) return tenantId;
    return this.host.tenantForDatabase(conn.name);
  }

  /** Drops a tenant's connection from every Mongoose cache that would keep it (and its models) alive. */
  release(tenantId: string): boolean {
    const entry = this.byTenant.get(tenantId);
    if (!entry) return false;
    this.byTenant.delete(tenantId);
    const { base, conn } = entry;
    const internal = base as unknown as { relatedDbs: Record<string, Connection>; otherDbs: Connection[] };
    if (internal.relatedDbs[conn.name] === conn) delete internal.relatedDbs[conn.name];
    const at = internal.otherDbs.indexOf(conn);
    if (at !== -1) internal.otherDbs.splice(at, 1);
    const child = conn as unknown as { otherDbs: Connection[]; models: Record<string, unknown>; collections: Record<string, unknown> };
    child.otherDbs = [];
    for (const model of Object.keys(child.models)) delete child.models[model];
    for (const coll of Object.keys(child.collections)) delete child.collections[coll];
    return true;
  }

  get size(): number {
    return this.byTenant.size;
  }
}

/**
 * Once Mongoose has wired a tenant connection, it uses the core's cached Db of the tenant, the same
 * `client.db(name)` Mongoose made for it: one Db per tenant instead of two. Collections already opened on Mongoose's
 * Db move to the core's (a plain field write: an accessor here would turn every connection into a slow object).
 */
function shareDb(conn: Connection, db: Db): void {
  const c = conn as unknown as { db?: Db | null; collections: Record<string, { name: string; collection?: unknown }> };
  if (c.db == null || c.db === db) return;
  c.db = db;
  for (const coll of Object.values(c.collections)) if (coll.collection) coll.collection = db.collection(coll.name);
}

/**
 * With fairness or quotas configured, the tenant connection's collections run on the tenant's admitted Db (the
 * core's cached handle), so model queries, saves, aggregates and bulk writes are admitted like native operations.
 * Mongoose still decides when the connection is wired up: until it sets its own Db, `db` stays unset.
 */
function useAdmittedDb(conn: Connection, admitted: Db): void {
  let wired = (conn as unknown as { db?: unknown }).db != null;
  Object.defineProperty(conn, 'db', {
    configurable: true,
    enumerable: true,
    get: () => (wired ? admitted : undefined),
    set: (db: unknown) => {
      wired = db != null;
    },
  });
}
