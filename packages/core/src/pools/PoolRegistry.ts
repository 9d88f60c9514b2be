import type { ClusterConfig, DedicatedConfig, LoggerLike } from '../config/schema.js';
import { redactText, redactUri } from '../config/uri.js';
import {
  AuthFailedError,
  ClientClosedError,
  ConnectionFailedError,
  DedicatedPoolLimitError,
  type PolyMongoError,
  UnknownClusterError,
} from '../errors/errors.js';
import type { OperationInfo, PolyMongoEvents } from '../events/events.js';
import type { TypedEmitter } from '../events/TypedEmitter.js';
import { backoffDelay, type RetryPolicy, sleep } from '../lifecycle/backoff.js';
import { classifyError } from '../lifecycle/classifyError.js';
import type { ConnectionState } from '../lifecycle/states.js';
import type { Route } from '../tenancy/TenantRouter.js';
import type { DriverPort, PoolHealth, PoolMonitor, PoolNumbers, PoolSpec } from './DriverPort.js';

/** One pool and what PolyMongo knows of it. Internal: adapters see a read-only `PoolView`. */
export interface PoolEntry<Pool> {
  readonly spec: PoolSpec;
  readonly pool: Pool;
  state: ConnectionState;
  connecting: Promise<void> | undefined;
  lastError: PolyMongoError | undefined;
  pins: number;
  /** For autoClose pools: when it was last used (performance.now()). */
  lastUsed: number;
  readonly autoCloseTTL: number | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** A child logger carrying this pool's cluster, key and (dedicated) tenant. */
  readonly logger: LoggerLike;
  /** Times the server was lost and found again after the first connect (topology monitoring). */
  readonly transitions: { disconnects: number; reconnects: number };
  /** When the server was lost (performance.now()), while it is. */
  downSince: number | undefined;
  /** When the last connect attempt settled (performance.now()): an `auth_failed` pool is checked again after a while. */
  lastAttempt: number;
}

export interface PoolRegistryOptions {
  clusters: Map<string, ClusterConfig>;
  dedicated: DedicatedConfig[];
  maxDedicatedPools: number;
  retry: RetryPolicy;
  logger: LoggerLike;
  events: TypedEmitter<PolyMongoEvents>;
  onStateChange(): void;
  /** Receives the driver operations a port reports. */
  onOperation(info: OperationInfo): void;
  /** Called after a pool closed on its own (idle), so handles on it can be dropped. */
  onPoolClosed(key: string): void;
}

const BUSY_STATES = new Set<ConnectionState>(['connecting', 'retrying']);
// How often new tenants on an `auth_failed` pool may trigger a new check of the credentials (one ping).
const AUTH_RECHECK_MS = 1000;
/** How often a cached tenant's use tries a failed pool again. */
const FAILED_RECHECK_MS = 1000;

/**
 * Owns every pool: one shared pool per cluster, dedicated pools for chosen tenants. Creates pools lazily (no I/O),
 * connects each once however many callers ask at the same time, retries with backoff, closes idle dedicated pools.
 */
export class PoolRegistry<Pool, Handle> {
  private readonly entries = new Map<string, PoolEntry<Pool>>();
  private readonly dedicated = new Map<string, DedicatedConfig>();
  // Made on the first retry: most processes never wait between connect attempts.
  private abort: AbortController | undefined;
  private closed = false;

  constructor(
    private readonly port: DriverPort<Pool, Handle>,
    private readonly options: PoolRegistryOptions,
  ) {
    for (const d of options.dedicated) this.dedicated.set(d.tenant, d);
  }

  dedicatedPoolKey(tenantId: string): string | undefined {
    return this.dedicated.has(tenantId) ? `dedicated:${tenantId}` : undefined;
  }

  dedicatedConfig(tenantId: string): DedicatedConfig | undefined {
    return this.dedicated.get(tenantId);
  }

  /** Records dedicated-pool settings; takes effect on the tenants' next use. */
  setDedicated(configs: DedicatedConfig[]): void {
    for (const c of configs) this.dedicated.set(c.tenant, c);
  }

  /** The pool a route uses, created (without I/O) on first use; its connection starts in the background. */
  entryFor(route: Route): PoolEntry<Pool> {
    const existing = this.entries.get(route.poolKey);
    if (existing) {
      // Credentials may have been fixed server-side: the tenant gets its handle (whose operations fail with the
      // driver's authentication error until then) and the pool is checked again, at most once a second.
      if (existing.state === 'auth_failed' && performance.now() - existing.lastAttempt >= AUTH_RECHECK_MS)
        this.connectInBackground(existing);
      if (existing.state === 'failed' || existing.state === 'idle') this.connectInBackground(existing);
      return existing;
    }
    return this.create(route);
  }

  get(key: string): PoolEntry<Pool> | undefined {
    return this.entries.get(key);
  }

  all(): IterableIterator<PoolEntry<Pool>> {
    return this.entries.values();
  }

  get dedicatedCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.spec.kind === 'dedicated') n += 1;
    return n;
  }

  private create(route: Route): PoolEntry<Pool> {
    const dedicated = route.poolKey.startsWith('dedicated:') ? this.dedicated.get(route.tenantId) : undefined;
    if (dedicated && this.dedicatedCount >= this.options.maxDedicatedPools)
      throw new DedicatedPoolLimitError(this.options.maxDedicatedPools);
    const cluster = this.options.clusters.get(route.clusterId);
    if (!cluster) throw new UnknownClusterError(route.clusterId);
    const spec: PoolSpec = dedicated
      ? dedicatedSpec(route, cluster, dedicated)
      : { key: route.poolKey, kind: 'shared', clusterId: route.clusterId, uri: cluster.uri, ...cluster.pool };
    const monitor: PoolMonitor = {
      health: (health) => this.reportHealth(entry, health),
      operation: (info) => this.options.onOperation(info),
      activity: () => this.reportActivity(entry),
    };
    const entry: PoolEntry<Pool> = {
      spec,
      pool: this.port.createPool(spec, monitor),
      state: 'idle',
      connecting: undefined,
      lastError: undefined,
      pins: 0,
      lastUsed: performance.now(),
      autoCloseTTL: dedicated?.autoClose ? dedicated.ttlMS : undefined,
      idleTimer: undefined,
      transitions: { disconnects: 0, reconnects: 0 },
      downSince: undefined,
      lastAttempt: Number.NEGATIVE_INFINITY,
      logger: this.options.logger.child({ cluster: spec.clusterId, pool: spec.key, ...(spec.tenant ? { tenant: spec.tenant } : {}) }),
    };
    this.entries.set(spec.key, entry);
    this.options.events.emit('poolCreated', {
      poolKey: spec.key,
      kind: spec.kind,
      clusterId: spec.clusterId,
      ...(spec.tenant ? { tenant: spec.tenant } : {}),
    });
    entry.logger.debug({ uri: redactUri(spec.uri) }, 'pool created');
    this.connectInBackground(entry);
    return entry;
  }

  private connectInBackground(entry: PoolEntry<Pool>): void {
    // Errors are reported through events and the pool state; operations see the driver's own error.
    this.connect(entry).catch(() => undefined);
  }

  /**
   * Connects a pool, with retries; concurrent callers share one attempt. A pool in `auth_failed` or `failed` is
   * tried again (once for an authentication failure): the cause may be gone.
   */
  connect(entry: PoolEntry<Pool>): Promise<void> {
    if (entry.state === 'connected') return Promise.resolve();
    if (this.closed) return Promise.reject(new ClientClosedError());
    entry.connecting ??= this.connectWithRetry(entry).finally(() => {
      entry.connecting = undefined;
      entry.lastAttempt = performance.now();
    });
    return entry.connecting;
  }

  private async connectWithRetry(entry: PoolEntry<Pool>): Promise<void> {
    const { events } = this.options;
    const logger = entry.logger;
    const target = redactUri(entry.spec.uri);
    for (let attempt = 1; ; attempt++) {
      this.setState(entry, attempt === 1 ? 'connecting' : 'retrying');
      try {
        await this.port.connect(entry.pool);
      } catch (error) {
        if (this.closed) return;
        await this.failedAttempt(entry, error, attempt, target);
        continue;
      }
      if (this.closed || !this.entries.has(entry.spec.key)) return;
      entry.lastError = undefined;
      this.setState(entry, 'connected');
      events.emit('connect', { poolKey: entry.spec.key, clusterId: entry.spec.clusterId });
      logger.info({ uri: target }, 'connected');
      if (entry.autoCloseTTL !== undefined) this.scheduleIdleCheck(entry);
      return;
    }
  }

  /**
   * A connect attempt failed: gives up (throws the pool's error) on bad credentials, a fatal error or the last
   * attempt; otherwise waits out the backoff. Kept apart from the loop: it only runs when something went wrong.
   */
  private async failedAttempt(entry: PoolEntry<Pool>, error: unknown, attempt: number, target: string): Promise<void> {
    const { retry, events } = this.options;
    const logger = entry.logger;
    const kind = classifyError(error);
    const reason = redactText(error instanceof Error ? error.message : String(error));
    if (kind === 'auth') {
      entry.lastError = new AuthFailedError(target, { cause: error });
      this.setState(entry, 'auth_failed');
    } else if (kind === 'fatal' || attempt >= retry.attempts) {
      entry.lastError = new ConnectionFailedError(target, attempt, reason, { cause: error });
      this.setState(entry, 'failed');
    }
    if (entry.lastError && (entry.state === 'auth_failed' || entry.state === 'failed')) {
      logger.error({ uri: target, attempt, code: entry.lastError.code }, entry.lastError.message);
      events.emit('error', { error: entry.lastError, poolKey: entry.spec.key });
      throw entry.lastError;
    }
    const delay = backoffDelay(retry, attempt);
    logger.warn({ uri: target, attempt, delayMS: delay, reason }, 'connect failed; retrying');
    this.abort ??= new AbortController();
    await sleep(delay, this.abort.signal);
  }

  private setState(entry: PoolEntry<Pool>, to: ConnectionState): void {
    const from = entry.state;
    if (from === to) return;
    entry.state = to;
    this.options.events.emit('stateChange', { scope: 'pool', poolKey: entry.spec.key, from, to });
    this.options.onStateChange();
  }

  /** Resolves once no pool is connecting (each attempt settled, whichever way). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = [...this.entries.values()].map((e) => e.connecting).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.allSettled(pending);
    }
  }

  /**
   * What topology monitoring says of a connected pool's server. Losing it moves the pool to `retrying` (the driver
   * keeps probing it every heartbeat) with a `disconnect` event; finding it again moves it back to `connected` with
   * a `reconnect` event. Reports during a connect attempt are left to that attempt.
   */
  reportHealth(entry: PoolEntry<Pool>, health: PoolHealth): void {
    if (this.closed || entry.connecting !== undefined || this.entries.get(entry.spec.key) !== entry) return;
    // The driver kept probing after PolyMongo's connect gave up, and found the server.
    if (health.reachable && entry.state === 'failed') this.connectInBackground(entry);
    else if (!health.reachable && entry.state === 'connected') this.serverLost(entry, health.reason);
    else if (health.reachable && entry.state === 'retrying' && entry.downSince !== undefined) this.serverFound(entry);
  }

  /** Topology monitoring lost the server of a connected pool: `retrying`, with a `disconnect` event. */
  private serverLost(entry: PoolEntry<Pool>, reason: string | undefined): void {
    entry.downSince = performance.now();
    entry.transitions.disconnects += 1;
    entry.lastError = undefined;
    this.setState(entry, 'retrying');
    entry.logger.warn({ reason: reason === undefined ? undefined : redactText(reason) }, 'server unreachable; the driver keeps retrying');
    this.options.events.emit('disconnect', { poolKey: entry.spec.key, clusterId: entry.spec.clusterId, reason: 'server' });
  }

  /** Topology monitoring found the lost server again: `connected`, with a `reconnect` event. */
  private serverFound(entry: PoolEntry<Pool>): void {
    const downMS = performance.now() - (entry.downSince as number);
    entry.downSince = undefined;
    entry.transitions.reconnects += 1;
    this.setState(entry, 'connected');
    entry.logger.info({ downMS: Math.round(downMS) }, 'server reachable again');
    this.options.events.emit('reconnect', { poolKey: entry.spec.key, clusterId: entry.spec.clusterId, downMS });
  }

  /**
   * A cached tenant of the pool is used: an autoClose pool's idle timer restarts from this moment, and a pool whose
   * connect failed is tried again, at most once a second (an app that only uses tenants it already has, say through
   * Mongoose models, has no new handle or connect() call that would retry it).
   */
  touch(entry: PoolEntry<Pool>): void {
    if (entry.autoCloseTTL !== undefined) entry.lastUsed = performance.now();
    if (entry.state === 'failed' && !this.closed && performance.now() - entry.lastAttempt >= FAILED_RECHECK_MS)
      this.connectInBackground(entry);
  }

  /**
   * An operation started or finished on an autoClose pool: the idle clock restarts. A pool suspended while idle and
   * used again through a kept handle (the driver reconnects it) is connected again.
   */
  reportActivity(entry: PoolEntry<Pool>): void {
    this.touch(entry);
    if (entry.state === 'idle' && !this.closed && this.entries.get(entry.spec.key) === entry) this.connectInBackground(entry);
  }

  pin(entry: PoolEntry<Pool>): void {
    entry.pins += 1;
  }

  unpin(entry: PoolEntry<Pool>): void {
    entry.pins = Math.max(0, entry.pins - 1);
    this.touch(entry);
  }

  private scheduleIdleCheck(entry: PoolEntry<Pool>, delay = entry.autoCloseTTL): void {
    if (entry.autoCloseTTL === undefined || delay === undefined) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(
      () => {
        const idleFor = performance.now() - entry.lastUsed;
        const ttl = entry.autoCloseTTL as number;
        // Idle means no operation started and none in flight for ttl: a long command or a waiting one keeps it open.
        // An open server-side cursor counts too: its consumer may be between batches, holding no connection.
        const cursors = this.port.openCursors?.(entry.pool) ?? 0;
        if (entry.pins > 0 || BUSY_STATES.has(entry.state) || this.inFlight(entry) + cursors > 0) return this.scheduleIdleCheck(entry, ttl);
        if (idleFor < ttl) return this.scheduleIdleCheck(entry, ttl - idleFor);
        if (entry.state !== 'connected') return;
        if (this.port.suspend) return void this.suspendEntry(entry);
        void this.closeEntry(entry, 'idle', false).then(() => this.options.onPoolClosed(entry.spec.key));
      },
      Math.max(1, Math.ceil(delay)),
    );
    entry.idleTimer.unref?.();
  }

  /** Driver operations in flight across every pool. */
  busy(): number {
    let n = 0;
    for (const e of this.entries.values()) n += this.inFlight(e);
    return n;
  }

  /** Operations in flight on one pool: what the port counts, and at least the connections in use and waiting. */
  private inFlight(entry: PoolEntry<Pool>): number {
    const numbers = this.numbers(entry);
    let operations = 0;
    try {
      operations = this.port.inFlight?.(entry.pool) ?? 0;
    } catch {
      // a port that cannot tell: connections only
    }
    return Math.max(numbers.inUse + numbers.waiting, operations);
  }

  numbers(entry: PoolEntry<Pool>): PoolNumbers {
    try {
      return this.port.numbers(entry.pool);
    } catch {
      return { open: 0, inUse: 0, available: 0, waiting: 0 };
    }
  }

  /**
   * Closes an idle pool's connections and keeps the pool: handles and repositories the application kept stay valid,
   * and the next operation reconnects it (state `idle` until then).
   */
  private async suspendEntry(entry: PoolEntry<Pool>): Promise<void> {
    const since = performance.now();
    this.setState(entry, 'disconnecting');
    try {
      await this.port.suspend?.(entry.pool);
    } catch (error) {
      entry.logger.warn({ reason: redactText(String(error)) }, 'error while closing idle pool');
    }
    if (this.closed || this.entries.get(entry.spec.key) !== entry) return;
    this.setState(entry, 'idle');
    this.options.events.emit('poolClosed', { poolKey: entry.spec.key, reason: 'idle' });
    this.options.events.emit('disconnect', { poolKey: entry.spec.key, clusterId: entry.spec.clusterId, reason: 'idle' });
    entry.logger.debug({}, 'idle pool closed; the next operation reopens it');
    // An operation that started while the pool was closing has already reconnected it.
    if (entry.lastUsed > since) this.connectInBackground(entry);
  }

  async closeEntry(entry: PoolEntry<Pool>, reason: 'close' | 'idle', force: boolean): Promise<void> {
    if (this.entries.get(entry.spec.key) !== entry) return;
    clearTimeout(entry.idleTimer);
    this.entries.delete(entry.spec.key);
    this.setState(entry, 'disconnecting');
    try {
      await this.port.close(entry.pool, force);
    } catch (error) {
      entry.logger.warn({ reason: redactText(String(error)) }, 'error while closing pool');
    }
    this.setState(entry, 'closed');
    this.options.events.emit('poolClosed', { poolKey: entry.spec.key, reason });
    this.options.events.emit('disconnect', { poolKey: entry.spec.key, clusterId: entry.spec.clusterId, reason });
  }

  async closeAll(force: boolean): Promise<void> {
    this.closed = true;
    this.abort?.abort();
    await Promise.all([...this.entries.values()].map((e) => this.closeEntry(e, 'close', force)));
  }
}

/** A dedicated pool's settings: its own size and idle rules, over its cluster's. */
function dedicatedSpec(route: Route, cluster: ClusterConfig, dedicated: DedicatedConfig): PoolSpec {
  return {
    key: route.poolKey,
    kind: 'dedicated',
    clusterId: route.clusterId,
    uri: dedicated.uri ?? cluster.uri,
    maxPoolSize: dedicated.maxConnections,
    minPoolSize: Math.min(cluster.pool.minPoolSize, dedicated.maxConnections),
    maxIdleTimeMS: dedicated.maxIdleTimeMS ?? cluster.pool.maxIdleTimeMS,
    tenant: route.tenantId,
    ...(dedicated.autoClose ? { autoCloseMS: dedicated.ttlMS } : {}),
  };
}
