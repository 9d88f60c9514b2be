import type { PoolSettings } from '../config/profiles.js';
import type { DedicatedConfig, DedicatedOptions, LoggerLike } from '../config/schema.js';
import type { OperationInfo, PolyMongoEventName, PolyMongoEvents } from '../events/events.js';
import type { OperationStart, PolyMongoPlugin } from '../events/plugins.js';
import type { AdmissionController } from '../fairness/AdmissionController.js';
import type { ConnectionState } from '../lifecycle/states.js';
import type { StatsSnapshot } from '../observability/stats.js';
import type { PoolSpec } from '../pools/DriverPort.js';
import type { TenantNaming } from '../tenancy/naming.js';
import type { Route, TenantForDatabaseOptions } from '../tenancy/TenantRouter.js';
import type { CloseOptions } from './Shutdown.js';

/** A pool as adapters see it: what it is, the driver object, its state. Read-only; core owns the rest. */
export interface PoolView<Pool> {
  readonly spec: PoolSpec;
  /** The driver's pool object (for `@polymongo/native`, a MongoClient and its counters). */
  readonly pool: Pool;
  readonly state: ConnectionState;
  /** Open streams and running transactions holding the pool open. */
  readonly pins: number;
}

/** A tenant's route, its pool and the driver handle for its database. */
export interface TenantHandle<Pool, Handle> {
  readonly tenantId: string;
  readonly dbName: string;
  /** The whole route; built on first access (tenantId and dbName need not). */
  readonly route: Route;
  readonly pool: PoolView<Pool>;
  readonly handle: Handle;
  /**
   * One value an adapter keeps with the cached handle, so that it needs no per-tenant map of its own (the Mongoose
   * adapter: the tenant's connection). Undefined on a new handle; see `onHandleReleased` to free it.
   */
  attachment: unknown;
}

/** The configuration values adapters need, resolved from the options. */
export interface HostSettings {
  readonly defaultCluster: string;
  readonly clusterIds: readonly string[];
  /** The database named in the default cluster's URI path, if any (the 1.x default tenant). */
  readonly uriDatabase: string | undefined;
  /** The shared pools' settings. */
  readonly pool: Readonly<PoolSettings>;
  readonly tenantDb: TenantNaming;
  readonly coldStart: boolean;
}

/**
 * The one interface an adapter (`@polymongo/native`, `@polymongo/mongoose`, observability, the 1.x compat entry)
 * uses to talk to core. Everything else in core is internal. Native gets it from `createCore`; the others get it
 * with `adapterHost(poly)` from `@polymongo/native`.
 *
 * `Binding` is what the driver binding adds for adapters built on it (for `@polymongo/native`: the driver module its
 * pools are built from, and its change-stream tracker), passed to `createCore`.
 */
export interface AdapterHost<Pool, Handle, Binding = unknown> {
  readonly settings: HostSettings;
  /** What the driver binding adds for adapters built on it (see `createCore`). */
  readonly binding: Binding;
  /** Core's pino logger (a `polymongo` child); redact what you log with `redactText`. */
  readonly logger: LoggerLike;
  readonly state: ConnectionState;
  /** True from the moment `close()` or `forceClose()` starts. */
  readonly isClosing: boolean;
  /** Per-tenant admission (fairness, quotas); undefined when neither is configured, so adapters add nothing. */
  readonly admission: AdmissionController | undefined;
  /** A tenant's route (argument, else `runWithTenant`, else default) without touching any pool. */
  route(tenant?: string | null): Route;
  /** The tenant whose database is `dbName` under the configured naming; undefined for any other database. */
  tenantForDatabase(dbName: string, options?: TenantForDatabaseOptions): string | undefined;
  /** The hot path: a tenant's driver handle, from cache when it can be. Throws CLIENT_CLOSED once closing. */
  acquire(tenant?: string | null): TenantHandle<Pool, Handle>;
  /** A cluster's shared pool (default: the default cluster), created without I/O if it does not exist yet. */
  sharedPool(clusterId?: string): PoolView<Pool>;
  /** Connects a pool (with retries); concurrent callers share one attempt. */
  connectPool(pool: PoolView<Pool>): Promise<void>;
  /** Closes one pool now; its tenants' handles are dropped and the next use reopens it. */
  closePool(pool: PoolView<Pool>, options?: { force?: boolean }): Promise<void>;
  /** A dedicated pool's settings for a tenant, if it has one. */
  dedicatedConfig(tenantId: string): Readonly<DedicatedConfig> | undefined;
  /** Keeps a tenant and its pool from eviction and idle close until the returned function is called. */
  pin(route: Route): () => void;
  /** Frees a tenant's cached handles (`tenantEvicted` fires); a pinned tenant stays unless it was dropped. */
  evict(tenantId: string, reason?: 'manual' | 'dropped' | 'rerouted'): boolean;
  /** Calls `listener` with each cached handle core drops (eviction, pool close), before `tenantEvicted`. */
  onHandleReleased(listener: (handle: TenantHandle<Pool, Handle>) => void): () => void;
  /** Subscribes to an event (`tenantEvicted` is the eviction hook); returns the unsubscribe function. */
  on<K extends PolyMongoEventName>(event: K, listener: (payload: PolyMongoEvents[K]) => void): () => void;
  /** Emits an `error` event for something an adapter saw go wrong (a change stream error, say). */
  reportError(error: Error, poolKey?: string): void;
  /** Runs before pools close (adapters close change streams here); returns a function that removes the hook. */
  onClose(hook: () => Promise<void> | void): () => void;
  /** Runs an operation PolyMongo performs itself through plugins, counts it in flight, and records it. */
  runOperation<T>(start: OperationStart, fn: () => Promise<T>): Promise<T>;
  /** Records a finished driver operation (command monitoring). */
  recordOperation(info: OperationInfo): void;
  /** Counts an open change stream in stats. */
  streamOpened(): void;
  streamClosed(): void;
}

/**
 * What a driver binding gets from `createCore`: the adapter host plus the client's lifecycle, which the binding
 * exposes as its public API (`connect`, `close`, `stats`, ...). Only a driver binding (`@polymongo/native`) needs it.
 */
export interface CoreHost<Pool, Handle, Binding = unknown> extends AdapterHost<Pool, Handle, Binding> {
  /** Connects the default cluster's shared pool, with retries (other pools connect on first use). */
  connect(): Promise<void>;
  /** Round trip to a cluster in ms; PING_TIMEOUT past `timeoutMS`; CONFIG_INVALID for a `timeoutMS` below 1 ms. */
  ping(options?: { clusterId?: string; timeoutMS?: number }): Promise<number>;
  setPlacement(tenantId: string, clusterId: string | undefined): void;
  setDedicated(tenants: string | string[], options?: Omit<DedicatedOptions, 'tenants'>): void;
  connectDedicated(tenants: string | string[], options?: Omit<DedicatedOptions, 'tenants'>): Promise<void>;
  /** Tenants whose dedicated pools connect with `connect()` (not lazily). */
  readonly eagerDedicatedTenants: string[];
  use(plugin: PolyMongoPlugin): () => void;
  stats(): StatsSnapshot;
  close(options?: CloseOptions): Promise<void>;
  forceClose(): Promise<void>;
}
