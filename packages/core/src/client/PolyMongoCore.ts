import {
  type DedicatedConfig,
  type DedicatedOptions,
  expandDedicated,
  type LoggerLike,
  type PolyMongoOptions,
  parseDedicatedOptions,
  type ResolvedConfig,
  resolveConfig,
} from '../config/schema.js';
import { redactText } from '../config/uri.js';
import { ClientClosedError, ConfigError, PingTimeoutError, UnknownClusterError } from '../errors/errors.js';
import type { OperationInfo, PolyMongoEventName, PolyMongoEvents } from '../events/events.js';
import type { OperationStart, PolyMongoPlugin } from '../events/plugins.js';
import { TypedEmitter } from '../events/TypedEmitter.js';
import { AdmissionController } from '../fairness/AdmissionController.js';
import type { ConnectionState } from '../lifecycle/states.js';
import { createLogger } from '../observability/logger.js';
import type { StatsSnapshot } from '../observability/stats.js';
import type { DriverPort } from '../pools/DriverPort.js';
import { type PoolEntry, PoolRegistry } from '../pools/PoolRegistry.js';
import { ClusterRouter } from '../routing/ClusterRouter.js';
import { type Route, sharedPoolKey, type TenantForDatabaseOptions, TenantRouter } from '../tenancy/TenantRouter.js';
import type { CoreHost, HostSettings, PoolView, TenantHandle } from './AdapterHost.js';
import { OperationRunner } from './OperationRunner.js';
import { type CloseOptions, Shutdown } from './Shutdown.js';
import { buildStats } from './stats.js';
import { type EvictionReason, TenantHandles } from './TenantHandles.js';

// The client is as healthy as its least healthy shared pool.
const STATE_PRIORITY: ConnectionState[] = ['auth_failed', 'failed', 'retrying', 'connecting', 'connected', 'idle'];

/**
 * The driver-agnostic client: tenant resolution, routing, pools, lifecycle, events and stats, composed from one
 * part per concept (`TenantHandles`, `OperationRunner`, `Shutdown`, `PoolRegistry`). A driver binding
 * (`@polymongo/native`) constructs it with its DriverPort; everything else talks to it as an `AdapterHost`.
 *
 * @internal Applications use `createPolyMongo` from `@polymongo/native`.
 */
export class PolyMongoCore<Pool, Handle, Binding = undefined> implements CoreHost<Pool, Handle, Binding> {
  readonly settings: HostSettings;
  readonly binding: Binding;
  readonly logger: LoggerLike;
  readonly admission: AdmissionController | undefined;
  readonly #config: ResolvedConfig;
  readonly #events: TypedEmitter<PolyMongoEvents>;
  // Made when routing rules exist or a tenant is placed (setPlacement); until then every tenant is on the default.
  #clusters: ClusterRouter | undefined;
  readonly #router: TenantRouter;
  readonly #registry: PoolRegistry<Pool, Handle>;
  readonly #handles: TenantHandles<Pool, Handle>;
  readonly #released = new Set<(handle: TenantHandle<Pool, Handle>) => void>();
  // Both made on first need (a cold start pays for every object and function it builds before the first answer):
  // the runner when an operation is recorded, a plugin added or stats read; shutdown at close, a close hook, or at
  // construction when it must listen to signals.
  #operations: OperationRunner | undefined;
  #shutdown: Shutdown | undefined;
  #state: ConnectionState = 'idle';
  #streams = 0;

  readonly #port: DriverPort<Pool, Handle>;

  constructor(options: PolyMongoOptions, port: DriverPort<Pool, Handle>, binding?: Binding) {
    this.#port = port;
    this.binding = binding as Binding;
    const config = resolveConfig(options);
    this.#config = config;
    this.logger = createLogger(config.logger);
    this.settings = Object.freeze({
      defaultCluster: config.defaultCluster,
      clusterIds: Object.freeze([...config.clusters.keys()]),
      uriDatabase: config.uriDatabase,
      pool: Object.freeze({ ...config.pool }),
      tenantDb: config.tenantDb,
      coldStart: config.coldStart,
    });
    this.#events = new TypedEmitter((event, error) => this.logger.error({ event, err: redactText(String(error)) }, 'event listener threw'));
    if (config.routing) this.#clusters = this.#clusterRouter();
    const { defaultCluster } = config;
    this.#registry = new PoolRegistry(port, {
      clusters: config.clusters,
      dedicated: config.dedicated,
      maxDedicatedPools: config.maxDedicatedPools,
      retry: config.retry,
      logger: this.logger,
      events: this.#events,
      onStateChange: () => this.#refreshState(),
      onPoolClosed: (key) => this.#handles.dropPool(key),
      onOperation: (info) => this.#runner().record(info),
    });
    this.#router = new TenantRouter({
      naming: config.tenantDb,
      inverseNaming: config.tenantDbInverse,
      // The 1.x rule: an explicit default, else the database in the URI path, else "default".
      defaultTenant: config.strictTenancy ? config.defaultTenant : (config.defaultTenant ?? config.uriDatabase ?? 'default'),
      strictTenancy: config.strictTenancy,
      allowReservedDatabases: config.allowReservedDatabases,
      tenantCase: config.tenantCase,
      cacheSize: config.maxCachedTenants,
      clusters: { clusterOf: (tenantId) => (this.#clusters === undefined ? defaultCluster : this.#clusters.clusterOf(tenantId)) },
      dedicatedPoolKey: (id) => this.#registry.dedicatedPoolKey(id),
    });
    this.#handles = new TenantHandles({
      capacity: config.maxCachedTenants,
      port,
      registry: this.#registry,
      router: this.#router,
      events: this.#events,
      logger: this.logger,
      onRelease: (handle) => {
        for (const listener of this.#released) {
          try {
            listener(handle);
          } catch (error) {
            this.logger.warn({ err: redactText(String(error)) }, 'a handle release listener threw');
          }
        }
      },
    });
    const { fairness, quotas } = config;
    this.admission =
      fairness || quotas
        ? new AdmissionController({ fairness, quotas, onThrottled: (event) => this.#events.emit('tenantThrottled', event) })
        : undefined;
    if (config.shutdown?.signals?.length) this.#shutdownPart();
    for (const d of config.dedicated) {
      if (!d.coldStart) this.acquire(d.tenant);
    }
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get isClosing(): boolean {
    return this.#shutdown?.closing === true;
  }

  route(tenant?: string | null): Route {
    const tenantId = this.#router.tenantOf(tenant);
    return this.#handles.peekRoute(tenantId) ?? this.#router.resolve(tenantId);
  }

  tenantForDatabase(dbName: string, options?: TenantForDatabaseOptions): string | undefined {
    return this.#router.tenantForDatabase(dbName, options);
  }

  acquire(tenant?: string | null): TenantHandle<Pool, Handle> {
    if (this.#shutdown?.closing === true) throw new ClientClosedError();
    return this.#handles.get(this.#router.tenantOf(tenant));
  }

  /** Connects the default cluster's shared pool (and waits for it); other pools connect on first use. */
  async connect(): Promise<void> {
    await this.#registry.connect(this.#sharedEntry(this.#config.defaultCluster));
  }

  sharedPool(clusterId: string = this.#config.defaultCluster): PoolView<Pool> {
    return this.#sharedEntry(clusterId);
  }

  connectPool(pool: PoolView<Pool>): Promise<void> {
    return this.#registry.connect(this.#entry(pool));
  }

  async closePool(pool: PoolView<Pool>, options: { force?: boolean } = {}): Promise<void> {
    const entry = this.#entry(pool);
    await this.#registry.closeEntry(entry, 'close', options.force ?? false);
    this.#handles.dropPool(entry.spec.key);
  }

  /**
   * Round trip of a ping to a cluster's shared pool (default: the default cluster), connecting it first, in
   * milliseconds. With `timeoutMS`, rejects with the last connect error (or a timeout) once that much time passed.
   */
  async ping(options: { clusterId?: string; timeoutMS?: number } = {}): Promise<number> {
    const timeoutMS = options.timeoutMS;
    if (timeoutMS !== undefined && !(Number.isInteger(timeoutMS) && timeoutMS >= 1)) {
      // Refused before anything runs: a bad timeout must not time out at once and mark a healthy pool unreachable.
      throw new ConfigError([
        { path: 'timeoutMS', message: `must be a whole number of milliseconds, at least 1 (got ${String(timeoutMS)})` },
      ]);
    }
    const entry = this.#sharedEntry(options.clusterId ?? this.#config.defaultCluster);
    const run = async () => {
      await this.#registry.connect(entry);
      const started = performance.now();
      await this.#port.ping(entry.pool);
      return performance.now() - started;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempts: Array<Promise<number>> = [run()];
    if (timeoutMS !== undefined) {
      attempts.push(
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(entry.lastError ?? new PingTimeoutError(timeoutMS, entry.state)), timeoutMS);
        }),
      );
    }
    try {
      const latencyMS = await Promise.race(attempts);
      this.#registry.reportHealth(entry, { reachable: true });
      return latencyMS;
    } catch (error) {
      // A ping that fails is an observation of the server: a pool that looked connected is not.
      this.#registry.reportHealth(entry, { reachable: false, reason: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  dedicatedConfig(tenantId: string): Readonly<DedicatedConfig> | undefined {
    return this.#registry.dedicatedConfig(tenantId);
  }

  pin(route: Route): () => void {
    if (this.#shutdown?.closing === true) throw new ClientClosedError();
    return this.#handles.pin(route);
  }

  evict(tenantId: string, reason: Exclude<EvictionReason, 'lru'> = 'manual'): boolean {
    return this.#handles.evict(tenantId, reason);
  }

  /** Moves a tenant to another cluster (or back to its rules with `undefined`); takes effect on its next use. */
  setPlacement(tenantId: string, clusterId: string | undefined): void {
    this.#clusters ??= this.#clusterRouter();
    this.#clusters.setOverride(tenantId, clusterId);
    this.evict(tenantId, 'rerouted');
  }

  /** Gives tenants dedicated pools (1.x `scale.setDB`); the pools open on first use, or now with coldStart: false. */
  setDedicated(tenants: string | string[], options: Omit<DedicatedOptions, 'tenants'> = {}): void {
    const list = Array.isArray(tenants) ? tenants : [tenants];
    const configs = expandDedicated(parseDedicatedOptions({ ...options, tenants: list }));
    for (const c of configs) this.#router.resolve(c.tenant);
    this.#registry.setDedicated(configs);
    for (const c of configs) {
      this.evict(c.tenant, 'rerouted');
      if (!c.coldStart) this.acquire(c.tenant);
    }
  }

  /** Like setDedicated, and connects the pools now (1.x `scale.connectDB`). */
  async connectDedicated(tenants: string | string[], options: Omit<DedicatedOptions, 'tenants'> = {}): Promise<void> {
    this.setDedicated(tenants, options);
    const list = Array.isArray(tenants) ? tenants : [tenants];
    await Promise.all(list.map((t) => this.connectPool(this.acquire(t).pool)));
  }

  onHandleReleased(listener: (handle: TenantHandle<Pool, Handle>) => void): () => void {
    this.#released.add(listener);
    return () => this.#released.delete(listener);
  }

  on<K extends PolyMongoEventName>(event: K, listener: (payload: PolyMongoEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Adds a plugin; it receives every event from now on. Returns the function that removes it. */
  use(plugin: PolyMongoPlugin): () => void {
    return this.#runner().use(plugin);
  }

  runOperation<T>(start: OperationStart, fn: () => Promise<T>): Promise<T> {
    return this.#runner().run(start, fn);
  }

  recordOperation(info: OperationInfo): void {
    this.#runner().record(info);
  }

  streamOpened(): void {
    this.#streams += 1;
  }

  streamClosed(): void {
    this.#streams = Math.max(0, this.#streams - 1);
  }

  reportError(error: Error, poolKey?: string): void {
    this.#events.emit('error', { error, ...(poolKey ? { poolKey } : {}) });
  }

  onClose(hook: () => Promise<void> | void): () => void {
    return this.#shutdownPart().onClose(hook);
  }

  stats(): StatsSnapshot {
    return buildStats({
      state: this.#state,
      config: this.#config,
      registry: this.#registry,
      handles: this.#handles,
      operations: this.#runner(),
      openStreams: this.#streams,
      admission: this.admission,
    });
  }

  /**
   * Refuses new operations with CLIENT_CLOSED, runs close hooks (streams), lets in-flight operations finish for up
   * to `timeoutMS`, then closes every pool. Rejects with CLOSE_TIMEOUT (pools closed all the same) when work was
   * still running at the deadline. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this.#shutdownPart().close(options);
  }

  /** Closes every pool and stream at once, without waiting for in-flight operations. Safe to call more than once. */
  forceClose(): Promise<void> {
    return this.#shutdownPart().forceClose();
  }

  /** Tenants whose dedicated pools open at construction (`coldStart: false`). */
  get eagerDedicatedTenants(): string[] {
    return this.#config.dedicated.filter((d) => !d.coldStart).map((d) => d.tenant);
  }

  /** Cached routes (bounded like the handle cache); for tests and stats. */
  get cachedRoutes(): number {
    return this.#router.cachedRoutes;
  }

  #clusterRouter(): ClusterRouter {
    const config = this.#config;
    return new ClusterRouter({ defaultCluster: config.defaultCluster, clusters: config.clusters.keys(), ...(config.routing ?? {}) });
  }

  #runner(): OperationRunner {
    this.#operations ??= new OperationRunner({
      events: this.#events,
      logger: this.logger,
      slowOperationMS: this.#config.slowOperationMS,
      topTenantsTracked: this.#config.topTenantsTracked,
      clusterOf: (key) => this.#registry.get(key)?.spec.clusterId,
    });
    return this.#operations;
  }

  #shutdownPart(): Shutdown {
    if (this.#shutdown) return this.#shutdown;
    const config = this.#config;
    this.#shutdown = new Shutdown({
      logger: this.logger,
      defaultTimeoutMS: config.shutdown?.timeoutMS ?? 10_000,
      signals: config.shutdown?.signals ?? [],
      busy: () => (this.#operations?.inFlight ?? 0) + this.#registry.busy(),
      settled: () => this.#registry.settled(),
      begin: () => {
        this.admission?.close();
        this.#setState('disconnecting');
      },
      finish: async (force) => {
        await this.#registry.closeAll(force);
        this.#handles.clear();
        this.#router.invalidate();
        this.#setState('closed');
      },
    });
    return this.#shutdown;
  }

  #sharedEntry(clusterId: string): PoolEntry<Pool> {
    if (this.#shutdown?.closing === true) throw new ClientClosedError();
    if (!this.#config.clusters.has(clusterId)) throw new UnknownClusterError(clusterId);
    return this.#registry.entryFor({ tenantId: '', dbName: '', clusterId, poolKey: sharedPoolKey(clusterId) });
  }

  /** The registry's entry behind a view; a view from another client, or of a closed pool, is refused. */
  #entry(pool: PoolView<Pool>): PoolEntry<Pool> {
    if (this.#shutdown?.closing === true) throw new ClientClosedError();
    const entry = this.#registry.get(pool.spec.key);
    if (entry === pool) return entry;
    return this.#registry.entryFor({
      tenantId: pool.spec.tenant ?? '',
      dbName: '',
      clusterId: pool.spec.clusterId,
      poolKey: pool.spec.key,
    });
  }

  #refreshState(): void {
    if (this.#shutdown?.closing === true) return;
    let best: ConnectionState = 'idle';
    for (const e of this.#registry.all()) {
      if (e.spec.kind !== 'shared') continue;
      if (STATE_PRIORITY.indexOf(e.state) < STATE_PRIORITY.indexOf(best)) best = e.state;
    }
    this.#setState(best);
  }

  #setState(to: ConnectionState): void {
    const from = this.#state;
    if (from === to || from === 'closed') return;
    this.#state = to;
    this.#events.emit('stateChange', { scope: 'client', from, to });
  }
}

/**
 * Creates the core of a client for a driver binding: `port` talks to the driver, `binding` is handed to adapters
 * as `host.binding`. Applications use `createPolyMongo` from `@polymongo/native`, which calls this.
 *
 * @example
 * const core = createCore({ uri: 'mongodb://127.0.0.1:27017' }, myDriverPort, { driver: myDriverModule });
 * const { handle } = core.acquire('acme');
 */
export function createCore<Pool, Handle, Binding = undefined>(
  options: PolyMongoOptions,
  port: DriverPort<Pool, Handle>,
  binding?: Binding,
): CoreHost<Pool, Handle, Binding> {
  return new PolyMongoCore(options, port, binding);
}
