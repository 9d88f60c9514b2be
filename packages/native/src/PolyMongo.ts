import {
  type AdapterHost,
  type CloseOptions,
  type ConnectionState,
  type CoreHost,
  createCore,
  type DedicatedOptions,
  InvalidClientError,
  type PolyMongoEventName,
  type PolyMongoEvents,
  type PolyMongoOptions,
  type PolyMongoPlugin,
  type PoolNumbers,
  type Route,
  redactText,
  type StatsSnapshot,
  type TenantForDatabaseOptions,
} from '@polymongo/core';
import { type ChangeStream, type ClientSession, type Db, MongoClient, type MongoClientOptions } from 'mongodb';
import { type AuditEntry, type AuditEvent, AuditLog, type AuditOptions } from './audit/AuditLog.js';
import { type MongoDriverModule, MongoDriverPort, type NativePool } from './driver/MongoDriverPort.js';
import { reuseGlobal } from './serverless/globalReuse.js';
import type { TenantFanOut } from './streams/TenantFanOut.js';
import type { ClosableStream } from './streams/trackStream.js';
import {
  type ResumableWatchOptions,
  type StreamStats,
  type WatchAllOptions,
  WatchManager,
  type WatchOptions,
} from './streams/WatchManager.js';
import { TenantScope } from './tenancy/TenantScope.js';
import { commandTracing } from './tracing/commandSpans.js';
import { runTransaction, type WithTransactionOptions } from './transactions/withTransaction.js';

/** Options of `createPolyMongo`: the core options plus the driver's own MongoClient options. */
export interface NativeOptions extends Omit<PolyMongoOptions, 'driverOptions'> {
  /** Passed to every MongoClient (TLS, timeouts, compressors...); pool sizes come from `pool` / `dedicated`. */
  driverOptions?: MongoClientOptions;
  /**
   * `'global'`: return the client already made with equal options in this process instead of a new one — across
   * Next.js dev hot reloads and warm serverless invocations, where module code runs again but the process stays.
   * Options are equal when their values are (functions by their source text). A closed client is replaced.
   * Default: every call makes a new client.
   * @example export const poly = createPolyMongo({ uri: process.env.MONGODB_URI!, profile: 'serverless', reuse: 'global' });
   */
  reuse?: 'global';
  /**
   * OpenTelemetry spans: one per command on a tenant's database (with `polymongo.tenant`, `polymongo.cluster`,
   * `polymongo.pool`, `db.namespace`), from the driver's command monitoring (`monitorCommands`), which costs client CPU
   * on every command. Never without `@opentelemetry/api` installed. See docs/tracing.md.
   * Default: a pool is traced when a tracer provider is registered at the moment its client is created (when its
   * first tenant is used), so an SDK started before the first query is honoured; with the API installed but no
   * provider, nothing is traced and command monitoring stays off.
   * @example tracing: true // every pool, also for a provider registered after the pools opened
   * @example tracing: false // never, even with a provider (e.g. to keep only @opentelemetry/instrumentation-mongodb)
   */
  tracing?: boolean;
  /**
   * Audit events of tenant administration (drop, placement, dedicated pools, fleet operations) always go to the
   * logger (info, `audit: true`) and `poly.on('audit')`; this adds who the actor is and a MongoDB sink collection.
   * Default: no actor, no sink.
   * @example audit: { sink: { tenant: 'ops', collection: 'audit' }, actor: () => currentUser()?.email }
   */
  audit?: AuditOptions;
  /**
   * The `mongodb` driver module whose `MongoClient` builds the pools; default: the copy `@polymongo/native` resolves.
   * Pass `mongoose.mongo` to share pools with Mongoose (its `setClient` accepts only its own driver's clients).
   */
  mongodb?: MongoDriverModule;
}

/** `stats()`: the core snapshot plus change stream counters. */
export interface NativeStats extends StatsSnapshot {
  streams: StreamStats;
}

export interface HealthReport {
  ok: boolean;
  state: ConnectionState;
  /** Round trip of a `ping` to the default cluster, when it answered. */
  latencyMS: number | undefined;
  error?: { code?: string | number; message: string };
  pools: Array<{ key: string; state: ConnectionState; connections: PoolNumbers }>;
}

/** Options of `ping()` and `health()`. */
export interface HealthOptions {
  /** How long to wait for the answer before giving up (`health()`: answering `ok: false`). Default: 2,000 ms. */
  timeoutMS?: number;
}

const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;

/** What `@polymongo/native` adds to the host for adapters built on it (`host.binding`). */
export interface NativeBinding {
  /** The driver module the pools are built from; the Mongoose adapter checks it against `mongoose.mongo`. */
  readonly driver: MongoDriverModule;
  /**
   * Tracks a change stream opened outside `watch` on a tenant's database (the Mongoose adapter's
   * `Model.db(t).watch()`), exactly as `watch` tracks its own: it pins the tenant until closed, counts in `stats()`,
   * reports its errors, and is closed by `closeStreams(tenant)` and `close()`.
   */
  trackStream(tenant: string | undefined | null, stream: ClosableStream): void;
}

/** The host interface of a native client, as adapters see it. */
export type NativeHost = AdapterHost<NativePool, Db, NativeBinding>;

// Each client's core, reachable only through `adapterHost(poly)`: not a property users can see or enumerate.
const hosts = new WeakMap<PolyMongo, CoreHost<NativePool, Db, NativeBinding>>();

/**
 * The host interface of a client's core, for adapters (`@polymongo/mongoose`, observability, frameworks).
 * Applications do not need it.
 *
 * @internal
 */
export function adapterHost(poly: PolyMongo): NativeHost {
  const host = hosts.get(poly);
  if (!host) throw new InvalidClientError();
  return host;
}

/** Every event a PolyMongo client emits: core's, plus `audit` (tenant administration). */
export type NativeEvents = PolyMongoEvents & { audit: AuditEvent };

// Set once, by the class's static block: reads a client's audit log (made on first use) without a public member.
let auditOf: (poly: PolyMongo) => AuditLog;

/**
 * A client's audit log, for tools that administer tenants through it (`@polymongo/fleet`, the CLI): each of their
 * actions becomes one `audit` event, log line and sink document. Applications only listen: `poly.on('audit', fn)`.
 */
export function auditLog(poly: PolyMongo): AuditLog {
  if (!hosts.has(poly)) throw new InvalidClientError();
  return auditOf(poly);
}

/**
 * A multi-tenant MongoDB client over the official driver: one MongoClient per cluster serves every tenant on it,
 * and `db(tenant)` is `client.db(name)` plus a cache lookup. Create it with `createPolyMongo`.
 */
export class PolyMongo {
  readonly #core: CoreHost<NativePool, Db, NativeBinding>;
  // Both made on first use: most clients never open a change stream or administer tenants, and a cold start pays
  // for every object it builds before the first operation.
  #streams: WatchManager | undefined;
  #audit: AuditLog | undefined;
  readonly #auditOptions: AuditOptions | undefined;

  static {
    auditOf = (poly) => poly.#auditLog();
  }

  constructor(options: NativeOptions) {
    const probe = options as PolyMongoOptions;
    const monitorOperations = probe?.monitorOperations === true || typeof probe?.slowOperationMS === 'number';
    const { mongodb, tracing, audit, ...coreOptions } = options ?? ({} as NativeOptions);
    let core: CoreHost<NativePool, Db, NativeBinding> | undefined;
    const port = new MongoDriverPort({
      driverOptions: (options?.driverOptions ?? {}) as MongoClientOptions,
      ...(mongodb ? { mongodb } : {}),
      monitorOperations,
      // tracing: false (the common explicit choice) skips even the look for @opentelemetry/api.
      tracing: tracing === false ? undefined : commandTracing(tracing),
      tenantForDatabase: (dbName) => core?.tenantForDatabase(dbName),
      admission: () => core?.admission,
    });
    const binding: NativeBinding = {
      driver: mongodb ?? { MongoClient },
      trackStream: (tenant, stream) => this.#watches().track(this.#core.route(tenant), stream),
    };
    core = createCore(coreOptions as PolyMongoOptions, port, binding);
    this.#core = core;
    if (audit?.sink) core.route(audit.sink.tenant); // INVALID_TENANT at construction, not at the first event
    this.#auditOptions = audit;
    hosts.set(this, core);
    // Eager dedicated tenants got their handles while the core was being built, before admission could wrap them.
    if (core.admission) for (const tenant of core.eagerDedicatedTenants) core.evict(tenant);
    if (!core.settings.coldStart) {
      core.connect().catch(() => undefined);
    }
  }

  #auditLog(): AuditLog {
    this.#audit ??= new AuditLog(this.#auditOptions, this.#core.logger, (tenant) => this.db(tenant));
    return this.#audit;
  }

  /** The change stream tracker; the first call also makes close() close its streams. */
  #watches(): WatchManager {
    if (this.#streams) return this.#streams;
    const host = this.#core;
    const streams = new WatchManager({
      host,
      clusterClients: () =>
        host.settings.clusterIds.map((id) => {
          const pool = host.sharedPool(id);
          return { poolKey: pool.spec.key, client: pool.pool.client };
        }),
      tenantForDatabase: (dbName) => host.tenantForDatabase(dbName),
      emitError: (error, poolKey) => host.reportError(error, poolKey),
    });
    host.onClose(() => streams.closeAll().then(() => undefined));
    this.#streams = streams;
    return streams;
  }

  /**
   * The tenant's `Db`: from the argument, else the current `runWithTenant` tenant, else the default tenant
   * (or TENANT_REQUIRED with strictTenancy). Throws INVALID_TENANT before any network call for a bad id.
   *
   * @example
   * await poly.db('acme').collection('orders').insertOne({ total: 10 });
   */
  db(tenant?: string | null): Db {
    return this.#core.acquire(tenant).handle;
  }

  /** A scope bundling everything of one tenant: `db`, `collection(name)`, `repo(definition)`. */
  tenant(id?: string | null): TenantScope {
    const { route, handle } = this.#core.acquire(id);
    return new TenantScope(this.#core, route, handle);
  }

  /** The tenant's route: database name, cluster and pool key. */
  route(tenant?: string | null): Route {
    return this.#core.route(tenant);
  }

  /**
   * The tenant whose database is `dbName` — the inverse of `tenantDb` naming — or undefined when `dbName` is not a
   * tenant database: admin, local, config, a name outside the prefix, or one that maps back to an invalid tenant id.
   * A function `tenantDb` needs `tenantDbInverse` for this; without it every name gives undefined.
   *
   * @example
   * const { databases } = await poly.client().db('admin').admin().listDatabases({ nameOnly: true });
   * const tenants = databases.map((d) => poly.tenantForDatabase(d.name)).filter((t) => t !== undefined);
   *
   * With `{ strict: true }` an error thrown by a `tenantDb` / `tenantDbInverse` function is rethrown instead of
   * read as "not a tenant database" (fleet discovery uses it to report such a database as `lookup-failed`).
   */
  tenantForDatabase(dbName: string, options?: TenantForDatabaseOptions): string | undefined {
    return this.#core.tenantForDatabase(dbName, options);
  }

  /** The MongoClient serving a tenant (its cluster's shared client, or its dedicated one). */
  client(tenant?: string | null): MongoClient {
    return this.#core.acquire(tenant).pool.pool.client;
  }

  /**
   * Connects the default cluster's shared pool now, with `retry` (it otherwise connects on first use, unless
   * coldStart is false). Without credentials and not behind a load balancer it resolves once server selection
   * succeeds and opens no pool connection (as driver 6.x's connect did): the first operation opens one. With
   * credentials or a load balancer (also `loadBalanced=true` from a mongodb+srv TXT record) it checks out one
   * connection, so wrong credentials reject here with `AUTH_FAILED`; on driver 6.x (`mongodb` option, e.g. Mongoose
   * 8's copy) only with credentials: a load balancer without them is not checked. To open a connection now,
   * `await poly.ping()`.
   */
  connect(): Promise<void> {
    return this.#core.connect();
  }

  /**
   * Runs `fn` in a transaction; pass `{ tenants }` when it touches several tenants (they must share a cluster).
   *
   * @example
   * await poly.withTransaction(async (session) => {
   *   await poly.db('acme').collection('a').insertOne({ x: 1 }, { session });
   *   await poly.db('globex').collection('b').insertOne({ x: 1 }, { session });
   * }, { tenants: ['acme', 'globex'] });
   */
  withTransaction<T>(fn: (session: ClientSession) => Promise<T>, options?: WithTransactionOptions): Promise<T> {
    return runTransaction(this.#core, fn, options);
  }

  /**
   * A change stream on a tenant's database (or one collection of it), tracked: it pins the tenant until closed.
   * With `{ handler, maxInFlight }` PolyMongo consumes it with flow control (see README, "Change streams").
   *
   * @example
   * poly.watch('acme', { collection: 'orders', maxInFlight: 4, handler: async (change) => index(change) });
   */
  watch(tenant: string | undefined | null, options?: WatchOptions): ChangeStream {
    return this.#watches().watch(tenant, options);
  }

  /**
   * Like `watch`, resuming from the token stored under `key`. With a `handler`, a token is saved only once its change
   * and every earlier one are handled (at-least-once); see `CommitMode` for the other modes.
   */
  resumeWatch(tenant: string | undefined | null, options: ResumableWatchOptions): Promise<ChangeStream> {
    return this.#watches().resumeWatch(tenant, options);
  }

  /** One cluster-wide change stream per cluster, fanned out to listeners by tenant. */
  watchAll(options: WatchAllOptions = {}): TenantFanOut {
    return this.#watches().watchAll(options);
  }

  /** Closes a tenant's change streams (the 1.x `closeDBstream`); returns how many were open. */
  closeStreams(tenant: string): Promise<number> {
    const tenantId = this.#core.route(tenant).tenantId;
    return this.#streams ? this.#streams.closeStreams(tenantId) : Promise.resolve(0);
  }

  /** Closes every change stream (the 1.x `closeAllWatches`). */
  closeAllStreams(): Promise<number> {
    return this.#streams ? this.#streams.closeAll() : Promise.resolve(0);
  }

  /** Round trip of a `ping` to the default cluster, in milliseconds (connecting it first if needed). */
  ping(options: HealthOptions = {}): Promise<number> {
    return this.#core.ping(options);
  }

  /**
   * `{ ok, state, latencyMS, pools }`: what a health endpoint needs. Never throws, and answers within `timeoutMS`
   * (default 2 s) even while the server is down. `ok` is true only when the ping answered and the client is
   * `connected`; a failed ping moves a pool that looked connected to `retrying`, so `state` never contradicts `ok`.
   */
  async health(options: HealthOptions = {}): Promise<HealthReport> {
    let latencyMS: number | undefined;
    let error: HealthReport['error'];
    try {
      if (!this.#core.isClosing) latencyMS = await this.#core.ping({ timeoutMS: options.timeoutMS ?? DEFAULT_HEALTH_TIMEOUT_MS });
    } catch (err) {
      const e = err as { code?: string | number; message?: string };
      error = { ...(e.code !== undefined ? { code: e.code } : {}), message: redactText(String(e.message ?? err)) };
    }
    const stats = this.#core.stats();
    return {
      ok: latencyMS !== undefined && stats.state === 'connected',
      state: stats.state,
      latencyMS,
      ...(error ? { error } : {}),
      pools: stats.pools.map((p) => ({ key: p.key, state: p.state, connections: p.connections })),
    };
  }

  /** Whether a tenant's database exists, by a `listDatabases` name filter: nothing is created. */
  async tenantExists(tenant: string): Promise<boolean> {
    const { route, pool } = this.#core.acquire(tenant);
    const result = await pool.pool.client
      .db('admin')
      .admin()
      .listDatabases({ nameOnly: true, filter: { name: route.dbName } });
    return result.databases.length > 0;
  }

  /** Drops a tenant's database, closes its change streams and evicts it from every cache. */
  dropTenant(tenant: string): Promise<void> {
    return this.#auditLog().run({ action: 'tenant.drop', tenant }, async () => {
      const { route, handle } = this.#core.acquire(tenant);
      await this.#streams?.closeStreams(route.tenantId);
      await handle.dropDatabase();
      this.#core.evict(route.tenantId, 'dropped');
    });
  }

  /** Frees a tenant's cached handles (not while a stream or transaction pins it). */
  evict(tenant: string): boolean {
    return this.#core.evict(this.#core.route(tenant).tenantId);
  }

  /** Gives tenants dedicated pools (the 1.x `scale.setDB`). */
  setDedicated(tenants: string | string[], options?: Omit<DedicatedOptions, 'tenants'>): void {
    this.#auditLog().runSync(dedicatedEntry(tenants, options, false), () => this.#core.setDedicated(tenants, options));
  }

  /** Gives tenants dedicated pools and connects them now (the 1.x `scale.connectDB`). */
  connectDedicated(tenants: string | string[], options?: Omit<DedicatedOptions, 'tenants'>): Promise<void> {
    return this.#auditLog().run(dedicatedEntry(tenants, options, true), () => this.#core.connectDedicated(tenants, options));
  }

  /** Moves a tenant to another cluster; `undefined` returns it to the routing rules. */
  setPlacement(tenant: string, clusterId: string | undefined): void {
    const entry: AuditEntry = { action: 'tenant.placement', tenant, details: { cluster: clusterId ?? null } };
    this.#auditLog().runSync(entry, () => this.#core.setPlacement(tenant, clusterId));
  }

  /** The core's snapshot plus change stream counters (`streams`). */
  stats(): NativeStats {
    return { ...this.#core.stats(), streams: this.#streams ? this.#streams.stats() : { open: 0, errors: 0, unrouted: 0 } };
  }

  get state(): ConnectionState {
    return this.#core.state;
  }

  /** True from the moment `close()` or `forceClose()` starts. */
  get isClosing(): boolean {
    return this.#core.isClosing;
  }

  /** Subscribes to an event (see `NativeEvents`); returns the unsubscribe function. */
  on<K extends keyof NativeEvents>(event: K, listener: (payload: NativeEvents[K]) => void): () => void {
    if (event === 'audit') return this.#auditLog().on(listener as (payload: AuditEvent) => void);
    return this.#core.on(event as PolyMongoEventName, listener as (payload: PolyMongoEvents[PolyMongoEventName]) => void);
  }

  use(plugin: PolyMongoPlugin): () => void {
    return this.#core.use(plugin);
  }

  /**
   * Closes streams, lets in-flight operations finish (up to timeoutMS), closes every pool. Safe to call twice.
   * Rejects with CLOSE_TIMEOUT (`CloseTimeoutError`; pools are closed all the same) when work was still running.
   */
  close(options?: CloseOptions): Promise<void> {
    return this.#core.close(options);
  }

  /** Closes everything at once. Safe to call twice. */
  forceClose(): Promise<void> {
    return this.#core.forceClose();
  }
}

/**
 * Creates a multi-tenant client over the official `mongodb` driver.
 *
 * @example
 * const poly = createPolyMongo({ uri: process.env.MONGODB_URI!, strictTenancy: true });
 * app.use((req, _res, next) => runWithTenant(req.header('x-tenant')!, next));
 * app.get('/orders', async (_req, res) => res.json(await poly.db().collection('orders').find().toArray()));
 */
export function createPolyMongo(options: NativeOptions): PolyMongo {
  if (options?.reuse === 'global') {
    const { reuse: _reuse, ...rest } = options;
    return reuseGlobal(rest, () => new PolyMongo(rest));
  }
  return new PolyMongo(options);
}

/** The audit entry of a dedicated pool change: its settings, never its URI (which may hold a password). */
function dedicatedEntry(tenants: string | string[], options: Omit<DedicatedOptions, 'tenants'> | undefined, connect: boolean): AuditEntry {
  const list = Array.isArray(tenants) ? tenants : [tenants];
  const o = options ?? {};
  return {
    action: 'tenant.dedicated',
    ...(list.length === 1 ? { tenant: String(list[0]) } : {}),
    details: {
      ...(list.length === 1 ? {} : { tenants: list.join(',') }),
      connect,
      ownUri: o.uri !== undefined,
      ...(typeof o.maxConnections === 'number' ? { maxConnections: o.maxConnections } : {}),
      ...(typeof o.coldStart === 'boolean' ? { coldStart: o.coldStart } : {}),
      ...(typeof o.autoClose === 'boolean' ? { autoClose: o.autoClose } : {}),
      ...(typeof o.ttlMS === 'number' ? { ttlMS: o.ttlMS } : {}),
    },
  };
}
