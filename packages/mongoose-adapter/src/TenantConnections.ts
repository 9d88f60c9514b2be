import { type AdapterHost, type PoolView, redactText, type TenantHandle } from '@polymongo/core';
import type { NativePool } from '@polymongo/native';
import type { Db } from 'mongodb';
import type { Connection, Mongoose } from 'mongoose';

/**
 * Where a tenant connection names its tenant when its database name cannot (a function `tenantDb` without inverse),
 * so that a model kept past its tenant's eviction still knows it.
 */
const TENANT = Symbol('polymongo.tenant');

type TenantConnection = Connection & { [TENANT]?: string };
type Handle = TenantHandle<NativePool, Db>;

/** Clients whose handles' `attachment` slot an adapter uses: a second adapter on the same client keeps a map. */
const slotTaken = new WeakSet<object>();

/**
 * Mongoose connections for tenants: one base Connection per PolyMongo pool, bound to that pool's MongoClient
 * with `setClient` (so Mongoose and native access share sockets), and one `useDb` connection per tenant.
 *
 * A tenant's connection lives exactly as long as the core's cached handle of that tenant: it is kept in the handle's
 * `attachment` slot (no map of our own: memory per tenant counts), and when the core drops the handle, for any
 * reason, the connection is removed from Mongoose's own caches too.
 */
export class TenantConnections {
  private readonly bases = new WeakMap<NativePool, Connection>();
  /**
   * By base not yet bound: its live tenant connections, each with the core's Db it should use once wired (a released
   * connection leaves at once, so a base that never binds keeps no evicted tenant).
   */
  private readonly unbound = new WeakMap<Connection, Map<TenantConnection, Unbound>>();
  /** Only for a second adapter on the same client: its connections by handle. */
  private readonly byHandle: WeakMap<Handle, TenantConnection> | undefined;
  private count = 0;
  /** Identity and prefix naming always map a database name back to its tenant; a function may not (no inverse). */
  private readonly namingIsFunction: boolean;
  /** The class of this adapter's tenant connections, by the base connection class it extends (see `tenantClass`). */
  private readonly tenantClasses = new WeakMap<object, new () => Connection>();

  constructor(
    private readonly host: AdapterHost<NativePool, Db>,
    private readonly mongoose: Mongoose,
    /** Called with each model compiled on (or looked up through `model()` of) a tenant connection. */
    private readonly onModel: (model: unknown, conn: Connection) => void,
  ) {
    this.namingIsFunction = typeof host.settings.tenantDb === 'function';
    if (slotTaken.has(host)) this.byHandle = new WeakMap();
    else slotTaken.add(host);
    host.onHandleReleased((handle) => this.release(handle));
  }

  /** The tenant's Mongoose connection (a `useDb` child of its pool's base connection). */
  connectionFor(tenant?: string | null): Connection {
    const handle = this.host.acquire(tenant);
    const cached = this.byHandle === undefined ? (handle.attachment as TenantConnection | undefined) : this.byHandle.get(handle);
    if (cached !== undefined) return cached;
    const base = this.baseOf(handle.pool);
    // Not useCache: this class is the cache (by tenant, in the handle), so Mongoose's own by-name map would be a second
    // entry per tenant. The connection shares the base's relatedDbs object, as useCache's connections do.
    const waiting = this.unbound.get(base);
    const queue = (base as unknown as { _queue: unknown[] })._queue;
    const queued = waiting === undefined ? 0 : queue.length;
    const conn: TenantConnection = base.useDb(handle.dbName);
    const internal = conn as unknown as { relatedDbs: unknown; otherDbs: Connection[] };
    internal.relatedDbs = (base as unknown as { relatedDbs: unknown }).relatedDbs;
    // The same one-parent list, sized to it: Mongoose's push onto an empty array reserves 17 slots (128 B more).
    internal.otherDbs = [base];
    // A property costs memory per tenant: only where the database name may not lead back to the tenant.
    if (this.namingIsFunction && this.host.tenantForDatabase(handle.dbName) !== handle.tenantId) conn[TENANT] = handle.tenantId;
    if (this.host.admission) useAdmittedDb(conn, handle.handle);
    else shareDb(conn, handle.handle);
    // Before its base opens, Mongoose queues the connection's wiring on the base: kept to take it out on release.
    waiting?.set(conn, { db: handle.handle, wiring: queue.length > queued ? queue[queue.length - 1] : undefined });
    if (this.byHandle === undefined) handle.attachment = conn;
    else this.byHandle.set(handle, conn);
    this.count += 1;
    return conn;
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
      // useDb builds its connections with `new this.constructor()`: the tenant connections are of our class.
      (created as unknown as { constructor: unknown }).constructor = this.tenantClass(created);
      base = created;
      this.bases.set(pool, created);
      this.unbound.set(created, new Map());
      const bind = () => {
        const waiting = this.unbound.get(created) ?? new Map<TenantConnection, Unbound>();
        this.unbound.delete(created);
        if (created.readyState !== 0) return;
        created.setClient(pool.client);
        if (this.host.admission) return;
        // setClient has just wired the tenant connections made before it, each with a Db of its own.
        const live = new Set((created as unknown as { otherDbs: Connection[] }).otherDbs);
        for (const [conn, { db }] of waiting) if (live.has(conn)) shareDb(conn, db);
      };
      this.host
        .connectPool(entry)
        .then(bind)
        .catch((error: unknown) => {
          // A failed connect leaves the pool's topology open (native): bound, buffered operations run and fail with
          // their own cause (e.g. authentication), and succeed once it is gone, as native handles do.
          if (hasTopology(pool)) return bind();
          if (entry.state === 'closed') return;
          // It failed before the client had a topology (an SRV lookup, a TLS file): setClient would throw. Bound by
          // the pool's next successful connect instead (`poly.connect()`, a new tenant, the driver finding the server).
          this.host.logger.warn(
            { pool: pool.spec.key, err: redactText(String(error)) },
            'mongoose base connection not bound yet: it binds when the pool connects',
          );
          this.bindOnConnect(entry, bind);
        });
    }
    return base;
  }

  /** Calls `bind` once the pool next connects with a topology; gives up when the pool is closed for good. */
  private bindOnConnect(entry: PoolView<NativePool>, bind: () => void): void {
    const key = entry.spec.key;
    const stop = () => {
      offConnect();
      offClosed();
    };
    const offConnect = this.host.on('connect', (e) => {
      if (e.poolKey !== key || !hasTopology(entry.pool)) return;
      stop();
      bind();
    });
    const offClosed = this.host.on('poolClosed', (e) => {
      if (e.poolKey === key && e.reason === 'close') stop();
    });
  }

  /**
   * A subclass of the base's connection class whose `model()` hands every model compiled on a tenant connection to
   * `onModel`: by the adapter or by the application (`m.connection(t).model(name, schema)`), each is seen when it is
   * made, so `Model.db(t)` need not look at the model again (a read that is megamorphic across thousands of models). One
   * class for all tenants: nothing per tenant.
   */
  private tenantClass(base: Connection): new () => Connection {
    const Parent = base.constructor as unknown as new () => Connection;
    let Tenant = this.tenantClasses.get(Parent);
    if (Tenant === undefined) {
      const { onModel } = this;
      const Base = Parent as unknown as new () => { model(...args: unknown[]): unknown };
      Tenant = class PolyMongoTenantConnection extends Base {
        override model(...args: unknown[]): unknown {
          const model = super.model(...args);
          onModel(model, this as unknown as Connection);
          return model;
        }
      } as unknown as new () => Connection;
      // Seen by applications as `conn.constructor.name` (1.x compat compares it): keep Mongoose's.
      Object.defineProperty(Tenant, 'name', { value: Parent.name });
      this.tenantClasses.set(Parent, Tenant);
    }
    return Tenant;
  }

  /** The tenant a connection of this class serves (what `Model.db(t).watch()` tracks its stream under). */
  tenantOf(conn: Connection): string | undefined {
    return (conn as TenantConnection)[TENANT] ?? this.host.tenantForDatabase(conn.name);
  }

  /** Drops a tenant's connection from every Mongoose cache that would keep it (and its models) alive. */
  private release(handle: Handle): void {
    let conn: TenantConnection | undefined;
    if (this.byHandle === undefined) {
      conn = handle.attachment as TenantConnection | undefined;
      handle.attachment = undefined;
    } else {
      conn = this.byHandle.get(handle);
      this.byHandle.delete(handle);
    }
    const base = this.bases.get(handle.pool.pool);
    if (conn === undefined || base === undefined) return;
    this.count -= 1;
    this.dropUnbound(base, conn);
    const internal = base as unknown as { otherDbs: Connection[] };
    const at = internal.otherDbs.indexOf(conn);
    if (at !== -1) internal.otherDbs.splice(at, 1);
    const child = conn as unknown as { otherDbs: Connection[]; models: Record<string, unknown>; collections: Record<string, unknown> };
    child.otherDbs = [];
    for (const model of Object.keys(child.models)) delete child.models[model];
    for (const coll of Object.keys(child.collections)) delete child.collections[coll];
  }

  get size(): number {
    return this.count;
  }

  /** A released connection of a base not bound yet: nothing keeps it, even if the base never binds. */
  private dropUnbound(base: Connection, conn: TenantConnection): void {
    const waiting = this.unbound.get(base);
    const entry = waiting?.get(conn);
    if (waiting === undefined || entry === undefined) return;
    waiting.delete(conn);
    const queue = (base as unknown as { _queue: unknown[] })._queue;
    const at = entry.wiring === undefined ? -1 : queue.lastIndexOf(entry.wiring);
    if (at !== -1) queue.splice(at, 1);
  }
}

/** Whether the pool's client has a topology: Mongoose's setClient refuses a client without one. */
function hasTopology(pool: NativePool): boolean {
  return (pool.client as unknown as { topology?: unknown }).topology != null;
}

/** A tenant connection made before its base was bound: the core's Db to use once wired, and Mongoose's queued wiring. */
interface Unbound {
  db: Db;
  wiring: unknown;
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
