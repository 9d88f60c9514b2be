import {
  type DedicatedOptions,
  expandDedicated,
  type LoggerLike,
  type PolyMongoOptions,
  parseDedicatedOptions,
  type ResolvedConfig,
  resolveConfig,
} from '../config/schema.js';
import { redactText, redactUri } from '../config/uri.js';
import { ClientClosedError, UnknownClusterError } from '../errors/errors.js';
import type { OperationInfo, PolyMongoEventName, PolyMongoEvents } from '../events/events.js';
import type { OperationStart, PolyMongoPlugin } from '../events/plugins.js';
import { TypedEmitter } from '../events/TypedEmitter.js';
import { AdmissionController } from '../fairness/AdmissionController.js';
import { drain } from '../lifecycle/drain.js';
import type { ConnectionState } from '../lifecycle/states.js';
import { createLogger } from '../observability/logger.js';
import { OperationCounter } from '../observability/OperationCounter.js';
import type { StatsSnapshot } from '../observability/stats.js';
import type { DriverPort } from '../pools/DriverPort.js';
import { LruCache } from '../pools/LruCache.js';
import { type PoolEntry, PoolRegistry } from '../pools/PoolRegistry.js';
import { ClusterRouter } from '../routing/ClusterRouter.js';
import { type Route, sharedPoolKey, TenantRouter } from '../tenancy/TenantRouter.js';

/** A tenant's route, its pool and the driver handle for its database. */
export interface TenantHandle<Pool, Handle> {
  readonly route: Route;
  readonly pool: PoolEntry<Pool>;
  readonly handle: Handle;
}

export interface CloseOptions {
  /** How long to let in-flight operations finish before pools are closed anyway. Default: shutdown.timeoutMS or 10 s. */
  timeoutMS?: number;
}

const STATE_PRIORITY: ConnectionState[] = ['auth_failed', 'failed', 'retrying', 'connecting', 'connected', 'idle'];

/**
 * The driver-agnostic client: tenant resolution, routing, pools, lifecycle, events and stats. Adapters
 * (`@polymongo/native`, `@polymongo/mongoose`) wrap it and supply a DriverPort; applications use the adapters.
 */
export class PolyMongoCore<Pool, Handle> {
  readonly config: ResolvedConfig;
  readonly logger: LoggerLike;
  readonly events: TypedEmitter<PolyMongoEvents>;
  readonly clusters: ClusterRouter;
  readonly router: TenantRouter;
  readonly registry: PoolRegistry<Pool, Handle>;
  /** Per-tenant admission (fairness, quotas); undefined when neither is configured, so adapters add nothing. */
  readonly admission: AdmissionController | undefined;
  private readonly handles: LruCache<string, TenantHandle<Pool, Handle>>;
  private readonly tenantPins = new Map<string, number>();
  private readonly operations: OperationCounter;
  private readonly plugins: PolyMongoPlugin[] = [];
  private readonly closeHooks: Array<() => Promise<void> | void> = [];
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  private clientState: ConnectionState = 'idle';
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private evictions = 0;
  private streams = 0;

  constructor(
    options: PolyMongoOptions,
    private readonly port: DriverPort<Pool, Handle>,
  ) {
    this.config = resolveConfig(options);
    this.logger = createLogger(this.config.logger);
    this.events = new TypedEmitter((event, error) => this.logger.error({ event, err: redactText(String(error)) }, 'event listener threw'));
    const routing = this.config.routing ?? {};
    this.clusters = new ClusterRouter({
      defaultCluster: this.config.defaultCluster,
      clusters: this.config.clusters.keys(),
      ...routing,
    });
    this.registry = new PoolRegistry(port, {
      clusters: this.config.clusters,
      dedicated: this.config.dedicated,
      maxDedicatedPools: this.config.maxDedicatedPools,
      retry: this.config.retry,
      logger: this.logger,
      events: this.events,
      onStateChange: () => this.refreshClientState(),
      onPoolClosed: (key) => this.dropHandlesOfPool(key),
    });
    this.router = new TenantRouter({
      naming: this.config.tenantDb,
      inverseNaming: this.config.tenantDbInverse,
      // The 1.x rule: an explicit default, else the database in the URI path, else "default".
      defaultTenant: this.config.strictTenancy
        ? this.config.defaultTenant
        : (this.config.defaultTenant ?? this.config.uriDatabase ?? 'default'),
      strictTenancy: this.config.strictTenancy,
      allowReservedDatabases: this.config.allowReservedDatabases,
      tenantCase: this.config.tenantCase,
      cacheSize: this.config.maxCachedTenants,
      clusters: this.clusters,
      dedicatedPoolKey: (id) => this.registry.dedicatedPoolKey(id),
    });
    this.handles = new LruCache(this.config.maxCachedTenants, (tenantId, entry) => {
      if (this.tenantPins.has(tenantId)) return false;
      this.releaseHandle(entry, 'lru');
      return true;
    });
    this.operations = new OperationCounter(this.config.topTenantsTracked);
    const { fairness, quotas } = this.config;
    this.admission =
      fairness || quotas
        ? new AdmissionController({ fairness, quotas, onThrottled: (event) => this.events.emit('tenantThrottled', event) })
        : undefined;
    this.installSignalHandlers();
    for (const d of this.config.dedicated) {
      if (!d.coldStart) this.acquire(d.tenant);
    }
  }

  get state(): ConnectionState {
    return this.clientState;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** The route of a tenant (argument, else `runWithTenant` context, else default), without touching any pool. */
  route(tenant?: string | null): Route {
    const tenantId = this.router.tenantOf(tenant);
    return this.handles.peek(tenantId)?.route ?? this.router.resolve(tenantId);
  }

  /** The tenant whose database is `dbName` under the configured naming; undefined for any other database. */
  tenantForDatabase(dbName: string): string | undefined {
    return this.router.tenantForDatabase(dbName);
  }

  /** The hot path: a tenant's driver handle, from cache when it can be. */
  acquire(tenant?: string | null): TenantHandle<Pool, Handle> {
    if (this.closing) throw new ClientClosedError();
    const tenantId = this.router.tenantOf(tenant);
    const cached = this.handles.get(tenantId);
    if (cached !== undefined) {
      if (cached.pool.autoCloseTTL !== undefined) this.registry.touch(cached.pool);
      return cached;
    }
    // The handle keeps the route: the router need not cache a second copy (memory and time on every miss).
    const route = this.router.resolve(tenantId, { cache: false });
    const pool = this.registry.entryFor(route);
    const entry: TenantHandle<Pool, Handle> = { route, pool, handle: this.port.handle(pool.pool, route.dbName, tenantId) };
    this.handles.set(tenantId, entry);
    return entry;
  }

  /** Connects the default cluster's shared pool (and waits for it); other pools connect on first use. */
  async connect(): Promise<void> {
    await this.registry.connect(this.sharedPool(this.config.defaultCluster));
  }

  /** A cluster's shared pool, created (without I/O) if it does not exist yet. */
  sharedPool(clusterId: string): PoolEntry<Pool> {
    if (this.closing) throw new ClientClosedError();
    if (!this.config.clusters.has(clusterId)) throw new UnknownClusterError(clusterId);
    return this.registry.entryFor({ tenantId: '', dbName: '', clusterId, poolKey: sharedPoolKey(clusterId) });
  }

  /** Keeps a tenant and its pool from eviction and idle close until the returned function is called. */
  pin(route: Route): () => void {
    const handle = this.acquire(route.tenantId);
    this.tenantPins.set(route.tenantId, (this.tenantPins.get(route.tenantId) ?? 0) + 1);
    this.registry.pin(handle.pool);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.tenantPins.get(route.tenantId) ?? 1) - 1;
      if (n <= 0) this.tenantPins.delete(route.tenantId);
      else this.tenantPins.set(route.tenantId, n);
      this.registry.unpin(handle.pool);
    };
  }

  isPinned(tenantId: string): boolean {
    return this.tenantPins.has(tenantId);
  }

  /** Frees a tenant's cached handles. A pinned tenant (open stream, running transaction) is not evicted. */
  evict(tenantId: string, reason: 'manual' | 'dropped' | 'rerouted' = 'manual'): boolean {
    if (this.tenantPins.has(tenantId) && reason !== 'dropped') return false;
    const entry = this.handles.peek(tenantId);
    this.router.invalidate(tenantId);
    if (!entry) return false;
    this.handles.delete(tenantId);
    this.releaseHandle(entry, reason);
    return true;
  }

  private releaseHandle(entry: TenantHandle<Pool, Handle>, reason: 'lru' | 'manual' | 'dropped' | 'rerouted'): void {
    this.evictions += 1;
    try {
      this.port.releaseHandle?.(entry.pool.pool, entry.handle, entry.route.dbName);
    } catch (error) {
      this.logger.warn({ tenant: entry.route.tenantId, err: redactText(String(error)) }, 'releasing a tenant handle failed');
    }
    this.events.emit('tenantEvicted', { tenantId: entry.route.tenantId, reason });
  }

  private dropHandlesOfPool(poolKey: string): void {
    for (const [tenantId, entry] of [...this.handlesEntries()]) {
      if (entry.route.poolKey === poolKey) {
        this.handles.delete(tenantId);
        this.releaseHandle(entry, 'manual');
      }
    }
  }

  private *handlesEntries(): Iterable<[string, TenantHandle<Pool, Handle>]> {
    for (const key of this.handles.keys()) {
      const value = this.handles.peek(key);
      if (value) yield [key, value];
    }
  }

  /** Moves a tenant to another cluster (or back to its rules with `undefined`); takes effect on its next use. */
  setPlacement(tenantId: string, clusterId: string | undefined): void {
    this.clusters.setOverride(tenantId, clusterId);
    this.evict(tenantId, 'rerouted');
  }

  /** Gives tenants dedicated pools (1.x `scale.setDB`); the pools open on first use, or now with coldStart: false. */
  setDedicated(tenants: string | string[], options: Omit<DedicatedOptions, 'tenants'> = {}): void {
    const list = Array.isArray(tenants) ? tenants : [tenants];
    const configs = expandDedicated(parseDedicatedOptions({ ...options, tenants: list }));
    for (const c of configs) this.router.resolve(c.tenant);
    this.registry.setDedicated(configs);
    for (const c of configs) {
      this.evict(c.tenant, 'rerouted');
      if (!c.coldStart) this.acquire(c.tenant);
    }
  }

  /** Like setDedicated, and connects the pools now (1.x `scale.connectDB`). */
  async connectDedicated(tenants: string | string[], options: Omit<DedicatedOptions, 'tenants'> = {}): Promise<void> {
    this.setDedicated(tenants, options);
    const list = Array.isArray(tenants) ? tenants : [tenants];
    await Promise.all(list.map((t) => this.registry.connect(this.acquire(t).pool)));
  }

  on<K extends PolyMongoEventName>(event: K, listener: (payload: PolyMongoEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Adds a plugin; it receives every event from now on. */
  use(plugin: PolyMongoPlugin): () => void {
    this.plugins.push(plugin);
    const offs = plugin.onEvent
      ? (Object.keys(EVENT_NAMES) as PolyMongoEventName[]).map((name) =>
          this.events.on(name, (payload) => plugin.onEvent?.(name, payload as never)),
        )
      : [];
    return () => {
      const i = this.plugins.indexOf(plugin);
      if (i >= 0) this.plugins.splice(i, 1);
      for (const off of offs) off();
    };
  }

  get hasOperationListeners(): boolean {
    return (
      this.plugins.some((p) => p.onOperation) || this.events.listenerCount('operation') > 0 || this.config.slowOperationMS !== undefined
    );
  }

  /** Runs an operation PolyMongo performs itself, through every plugin's wrapOperation, and records it. */
  async runOperation<T>(start: OperationStart, fn: () => Promise<T>): Promise<T> {
    let next = fn;
    for (const plugin of this.plugins) {
      if (!plugin.wrapOperation) continue;
      const inner = next;
      next = () => (plugin.wrapOperation as NonNullable<PolyMongoPlugin['wrapOperation']>)(start, inner);
    }
    const started = performance.now();
    try {
      const result = await next();
      this.recordOperation({ ...start, durationMS: performance.now() - started });
      return result;
    } catch (error) {
      this.recordOperation({ ...start, durationMS: performance.now() - started, error: describeError(error) });
      throw error;
    }
  }

  /** Records a finished operation: counters, plugins, `operation` and `slowOperation` events, the slow log. */
  recordOperation(info: OperationInfo): void {
    this.operations.record(info.tenantId, info.error !== undefined);
    for (const plugin of this.plugins) {
      try {
        plugin.onOperation?.(info);
      } catch (error) {
        this.logger.error({ plugin: plugin.name, err: redactText(String(error)) }, 'plugin onOperation threw');
      }
    }
    this.events.emit('operation', info);
    const threshold = this.config.slowOperationMS;
    if (threshold !== undefined && info.durationMS >= threshold) {
      this.logger
        .child({ tenant: info.tenantId, cluster: this.registry.get(info.poolKey ?? '')?.spec.clusterId })
        .warn(
          { tenant: info.tenantId, db: info.dbName, command: info.command, durationMS: Math.round(info.durationMS * 100) / 100 },
          'slow operation',
        );
      this.events.emit('slowOperation', info);
    }
  }

  streamOpened(): void {
    this.streams += 1;
  }

  streamClosed(): void {
    this.streams = Math.max(0, this.streams - 1);
  }

  /** Runs before pools close (adapters close change streams here). */
  onClose(hook: () => Promise<void> | void): void {
    this.closeHooks.push(hook);
  }

  stats(): StatsSnapshot {
    const top = this.operations.top(10);
    return {
      state: this.clientState,
      clusters: [...this.config.clusters.values()].map((c) => ({ id: c.id, uri: redactUri(c.uri) })),
      pools: [...this.registry.all()].map((e) => ({
        key: e.spec.key,
        kind: e.spec.kind,
        clusterId: e.spec.clusterId,
        ...(e.spec.tenant ? { tenant: e.spec.tenant } : {}),
        state: e.state,
        connections: this.registry.numbers(e),
        maxPoolSize: e.spec.maxPoolSize,
        pins: e.pins,
      })),
      tenants: {
        cached: this.handles.size,
        maxCached: this.config.maxCachedTenants,
        evictions: this.evictions,
        pinned: this.tenantPins.size,
      },
      dedicatedPools: this.registry.dedicatedCount,
      openStreams: this.streams,
      operations: { total: this.operations.total, errors: this.operations.errors, topTenants: top.tenants, other: top.other },
      ...(this.admission ? { admission: this.admission.stats() } : {}),
    };
  }

  /**
   * Refuses new operations with CLIENT_CLOSED, runs close hooks (streams), lets in-flight operations finish for up
   * to `timeoutMS`, then closes every pool. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.admission?.close();
    this.setClientState('disconnecting');
    const timeoutMS = options.timeoutMS ?? this.config.shutdown?.timeoutMS ?? 10_000;
    this.closePromise = (async () => {
      await this.runCloseHooks();
      const remaining = await drain(() => this.registry.busy(), timeoutMS);
      if (remaining > 0) this.logger.warn({ inFlight: remaining, timeoutMS }, 'close timed out; cutting off in-flight operations');
      await this.finishClose(remaining > 0);
    })();
    return this.closePromise;
  }

  /** Closes every pool and stream at once, without waiting for in-flight operations. Safe to call more than once. */
  async forceClose(): Promise<void> {
    this.closing = true;
    this.admission?.close();
    this.setClientState('disconnecting');
    await this.runCloseHooks();
    await this.finishClose(true);
  }

  private async runCloseHooks(): Promise<void> {
    for (const hook of this.closeHooks.splice(0)) {
      try {
        await hook();
      } catch (error) {
        this.logger.warn({ err: redactText(String(error)) }, 'close hook failed');
      }
    }
  }

  private async finishClose(force: boolean): Promise<void> {
    await this.registry.closeAll(force);
    this.handles.clear();
    this.router.invalidate();
    for (const [signal, handler] of this.signalHandlers.splice(0)) process.off(signal, handler);
    this.setClientState('closed');
  }

  private installSignalHandlers(): void {
    const shutdown = this.config.shutdown;
    if (!shutdown) return;
    for (const signal of shutdown.signals) {
      // Closes gracefully and leaves exiting to the application: PolyMongo never calls process.exit.
      const handler = () => {
        this.logger.info({ signal }, 'signal received; closing');
        void this.close({ timeoutMS: shutdown.timeoutMS });
      };
      process.once(signal, handler);
      this.signalHandlers.push([signal, handler]);
    }
  }

  private refreshClientState(): void {
    if (this.closing) return;
    let best: ConnectionState = 'idle';
    for (const e of this.registry.all()) {
      if (e.spec.kind !== 'shared') continue;
      if (STATE_PRIORITY.indexOf(e.state) < STATE_PRIORITY.indexOf(best)) best = e.state;
    }
    this.setClientState(best);
  }

  private setClientState(to: ConnectionState): void {
    const from = this.clientState;
    if (from === to || from === 'closed') return;
    this.clientState = to;
    this.events.emit('stateChange', { scope: 'client', from, to });
  }
}

const EVENT_NAMES: Record<PolyMongoEventName, true> = {
  stateChange: true,
  connect: true,
  disconnect: true,
  error: true,
  poolCreated: true,
  poolClosed: true,
  tenantEvicted: true,
  operation: true,
  slowOperation: true,
  tenantThrottled: true,
};

function describeError(error: unknown): NonNullable<OperationInfo['error']> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      message: redactText(error.message),
    };
  }
  return { name: 'Error', message: redactText(String(error)) };
}
