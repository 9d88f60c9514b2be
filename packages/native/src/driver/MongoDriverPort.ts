import type { AdmissionController, DriverPort, PoolMonitor, PoolNumbers, PoolSpec } from '@polymongo/core';
import {
  type CommandStartedEvent,
  type Db,
  MongoClient,
  type MongoClientOptions,
  MongoServerSelectionError,
  type TopologyDescription,
} from 'mongodb';
import { admittedDb } from '../fairness/admittedDb.js';
import { TenantAdmission } from '../fairness/TenantAdmission.js';
import { type CommandTracer, type PoolTracing, traceCommands } from '../tracing/commandSpans.js';
import { ownTopology, type SelectionErrorClass, type TopologyOpener } from './openTopology.js';

/** A MongoClient plus the connection numbers counted from its CMAP events, where its pools cannot be read. */
export interface NativePool {
  readonly spec: PoolSpec;
  readonly client: MongoClient;
  readonly numbers: PoolNumbers;
  /** Database name to tenant id, for the handles this pool has given out (kept when operations are monitored). */
  readonly tenantsByDb: Map<string, string>;
}

/**
 * The part of a `mongodb` driver module native builds pools from. Any copy of the driver fits (6.x or 7.x), e.g. the
 * one Mongoose loads (`mongoose.mongo`).
 */
export interface MongoDriverModule {
  MongoClient: new (url: string, options?: never) => unknown;
  /** The driver's server selection error, for connects that time out (its own class, so `instanceof` holds). */
  MongoServerSelectionError?: new (
    message: string,
    reason: never,
  ) => Error;
}

export interface NativePortOptions {
  driverOptions: MongoClientOptions;
  /** Where `MongoClient` comes from; default: the `mongodb` package `@polymongo/native` resolves. */
  mongodb?: MongoDriverModule;
  /** Report every finished command to core (for plugins, stats and the slow-operation log). */
  monitorOperations: boolean;
  /** PolyMongo's OpenTelemetry spans, when `@opentelemetry/api` resolves and `tracing` is not false: asked per pool. */
  tracing?: PoolTracing | undefined;
  /** The tenant of a database under the configured naming (for commands of handles already evicted). */
  tenantForDatabase?: (dbName: string) => string | undefined;
  /** Per-tenant admission, once core exists (the port is built first); undefined when fairness and quotas are off. */
  admission: () => AdmissionController | undefined;
}

// Server types an operation that needs a primary (every write) can select.
const WRITABLE = new Set(['Standalone', 'Mongos', 'RSPrimary', 'LoadBalancer']);

// How each pool's topology is opened (see openTopology.ts); kept out of NativePool, which adapters see.
const openers = new WeakMap<MongoClient, TopologyOpener>();
// PolyMongo's own connect checks, by request id while they run: not application operations, so never reported.
const ownRequests = new WeakMap<MongoClient, Set<number>>();
const CONNECT_CHECK = 'polymongo connect check';
// Pools whose topology monitoring starts when their first connect attempt settles (see createPool).
const unfollowed = new WeakMap<MongoClient, PoolMonitor>();

/** Binds core to the official driver: one MongoClient per pool, `client.db(name)` per tenant. */
export class MongoDriverPort implements DriverPort<NativePool, Db> {
  private readonly Client: typeof MongoClient;

  constructor(private readonly options: NativePortOptions) {
    // Another driver copy has its own classes, but the same API across 6.x and 7.x for everything native calls.
    this.Client = (options.mongodb?.MongoClient as typeof MongoClient | undefined) ?? MongoClient;
  }

  createPool(spec: PoolSpec, monitor: PoolMonitor): NativePool {
    const tracer = this.options.tracing?.();
    const monitorsCommands = this.options.monitorOperations || tracer !== undefined;
    const client = new this.Client(spec.uri, clientOptions(this.options.driverOptions, spec, monitorsCommands));
    const SelectionError = (this.options.mongodb?.MongoServerSelectionError ?? MongoServerSelectionError) as SelectionErrorClass;
    openers.set(client, ownTopology(client, SelectionError));
    const pool: NativePool = { spec, client, numbers: { open: 0, inUse: 0, available: 0, waiting: 0 }, tenantsByDb: new Map() };
    countConnections(client, pool.numbers);
    // A topology closed while the client stays open must not stay on it (a connect can fail that way, see below).
    client.on('topologyClosed', () => forgetFailedTopology(client));
    // Topology monitoring starts once the first connect attempt settled: core ignores health reports while a connect
    // is under way, and the first discovery of the servers changes the description several times before the first
    // answer (a cold start would run those listeners, and compile them, for nothing).
    unfollowed.set(client, monitor);
    if (spec.autoCloseMS !== undefined || monitorsCommands) this.listenMore(pool, monitor, tracer);
    return pool;
  }

  /** What only some pools listen to: autoClose activity, operation monitoring, tracing. */
  private listenMore(pool: NativePool, monitor: PoolMonitor, tracer: CommandTracer | undefined): void {
    const { client, spec } = pool;
    // autoClose pools: every check-out and check-in restarts the idle clock (shared pools pay nothing for this).
    if (spec.autoCloseMS !== undefined) {
      client.on('connectionCheckOutStarted', () => monitor.activity());
      client.on('connectionCheckedIn', () => monitor.activity());
    }
    if (this.options.monitorOperations) {
      ownRequests.set(client, new Set());
      forwardOperations(pool, monitor);
    }
    if (tracer) {
      const byNaming = this.options.tenantForDatabase;
      const tenantForDatabase = (db: string) => pool.tenantsByDb.get(db) ?? byNaming?.(db);
      traceCommands(client, { clusterId: spec.clusterId, poolKey: spec.key, tenantForDatabase }, tracer);
    }
  }

  /**
   * Opens the topology (never closed by a failure, see openTopology.ts); the driver's ping in that open checks
   * reachability and credentials, first in line ahead of the operations issued meanwhile. A wrong password fails
   * with the server's code 18 and the topology stays open for the operations that follow. When the topology is
   * already there (a later attempt), a ping of PolyMongo's own checks it again.
   */
  async connect(pool: NativePool): Promise<void> {
    try {
      await this.check(pool);
    } finally {
      const monitor = unfollowed.get(pool.client);
      if (monitor) {
        unfollowed.delete(pool.client);
        followTopology(pool.client, monitor);
      }
    }
  }

  /** One connect attempt: the opener's open, or PolyMongo's own ping when the topology was already there. */
  private async check(pool: NativePool): Promise<void> {
    const { client } = pool;
    const opener = openers.get(client);
    if (opener && (await opener.open())) return;
    const own = ownRequests.get(client);
    const mark = (e: CommandStartedEvent) => {
      if (e.commandName === 'ping' && (e.command as { comment?: unknown }).comment === CONNECT_CHECK) own?.add(e.requestId);
    };
    if (own) client.on('commandStarted', mark);
    try {
      await client.db('admin').command({ ping: 1, comment: CONNECT_CHECK });
    } finally {
      if (own) client.off('commandStarted', mark);
    }
  }

  handle(pool: NativePool, dbName: string, tenantId: string): Db {
    // Only operation monitoring and tracing (the pool's command monitoring) map a command's database back to its
    // tenant; otherwise it is memory per tenant.
    if (this.options.monitorOperations || pool.client.options.monitorCommands) pool.tenantsByDb.set(dbName, tenantId);
    const db = pool.client.db(dbName);
    // With fairness or quotas configured, the cached handle admits its operations; without, it is the driver's Db.
    const admission = this.options.admission();
    return admission ? admittedDb(db, new TenantAdmission(admission, tenantId, pool.spec.key, pool.spec.maxPoolSize)) : db;
  }

  releaseHandle(pool: NativePool, _handle: Db, dbName: string): void {
    pool.tenantsByDb.delete(dbName);
  }

  async close(pool: NativePool, force: boolean): Promise<void> {
    await pool.client.close(force);
  }

  /**
   * Closes the pool's topology (its connections and monitors) but not the MongoClient: a closed MongoClient refuses
   * to reconnect on its own, while one without a topology connects again on its next operation, so Db handles and
   * repositories the application kept stay valid. `topology` is driver-internal (as in `forgetFailedTopology`); the
   * autoClose tests pin this behaviour.
   */
  async suspend(pool: NativePool): Promise<void> {
    const internal = pool.client as unknown as { topology?: { close(): unknown } };
    const topology = internal.topology;
    if (topology === undefined || topology === null) return;
    // Unset first: an operation starting from here on connects a new topology instead of using the closing one.
    internal.topology = undefined;
    await topology.close();
  }

  async ping(pool: NativePool): Promise<void> {
    await pool.client.db('admin').command({ ping: 1 });
  }

  numbers(pool: NativePool): PoolNumbers {
    const numbers = readNumbers(pool);
    // Operations still in server selection (e.g. during an outage) hold no connection yet but are in flight.
    const selecting = openers.get(pool.client)?.selecting() ?? 0;
    return selecting > 0 ? { ...numbers, waiting: numbers.waiting + selecting } : numbers;
  }

  openCursors(pool: NativePool): number {
    return openServerCursors(pool.client);
  }

  inFlight(pool: NativePool): number {
    return operationsInFlight(pool.client);
  }
}

/**
 * Operations in flight, from the driver's implicit sessions: `executeOperation` starts one per operation (owned by a
 * symbol) and ends it when the operation settles, and a cursor's session covers its first command until it is
 * initialized. This sees an operation at every step, including while a connection is being opened for it (then it
 * is neither waiting nor holding a connection). Explicit sessions (transactions) are counted by their connections.
 * `s.activeSessions` is the driver's own set (6.x and 7.x), kept for `MongoClient.close()`.
 */
// What the driver assumes when an option is not given.
const DRIVER_DEFAULTS = { maxPoolSize: 100, minPoolSize: 0, maxIdleTimeMS: 0, monitorCommands: false } as const;

/**
 * A pool's MongoClient options: the user's driverOptions, with PolyMongo's pool settings and command monitoring over
 * them. A setting equal to the driver's default is left out unless driverOptions or the URI's query could name it
 * (then it must override them): a client with default settings is built exactly as `new MongoClient(uri)` is.
 */
function clientOptions(driverOptions: MongoClientOptions, spec: PoolSpec, monitorCommands: boolean): MongoClientOptions {
  const options: MongoClientOptions = { ...driverOptions };
  const ours = { maxPoolSize: spec.maxPoolSize, minPoolSize: spec.minPoolSize, maxIdleTimeMS: spec.maxIdleTimeMS, monitorCommands };
  const uriOptions = spec.uri.includes('?');
  for (const key of Object.keys(ours) as Array<keyof typeof ours>) {
    if (uriOptions || ours[key] !== DRIVER_DEFAULTS[key] || Object.hasOwn(driverOptions, key))
      (options as Record<string, unknown>)[key] = ours[key];
  }
  return options;
}

function operationsInFlight(client: MongoClient): number {
  type Session = { explicit?: boolean; owner?: unknown };
  const sessions = (client as unknown as { s?: { activeSessions?: Set<Session> } }).s?.activeSessions;
  if (!(sessions instanceof Set)) return 0;
  let n = 0;
  for (const session of sessions) {
    if (session.explicit) continue;
    const owner = session.owner;
    if (typeof owner === 'symbol') n += 1;
    else if (typeof owner === 'object' && owner !== null && (owner as { initialized?: unknown }).initialized === false) n += 1;
  }
  return n;
}

/**
 * Cursors with a server-side cursor open (a first batch received, not exhausted or closed): a consumer pausing
 * between batches holds no connection, but closing the pool's connections would cut its next getMore.
 * `s.activeCursors` is the driver's own set (6.x and 7.x), kept for `MongoClient.close()`.
 */
function openServerCursors(client: MongoClient): number {
  const cursors = (client as unknown as { s?: { activeCursors?: Set<{ id?: { isZero?(): boolean }; closed?: boolean }> } }).s
    ?.activeCursors;
  if (!(cursors instanceof Set)) return 0;
  let n = 0;
  for (const cursor of cursors) if (!cursor.closed && cursor.id !== undefined && cursor.id.isZero?.() === false) n += 1;
  return n;
}

/**
 * Topology monitoring (SDAM): after the first connect attempt, the driver's heartbeats tell whether a server an
 * operation needs is still there. Core turns that into pool state and `disconnect` / `reconnect` events.
 */
function followTopology(client: MongoClient, monitor: PoolMonitor): void {
  let lastFailure: string | undefined;
  client.on('serverHeartbeatFailed', (e) => {
    lastFailure = e.failure?.message;
  });
  client.on('serverHeartbeatSucceeded', () => {
    lastFailure = undefined;
  });
  client.on('topologyDescriptionChanged', (e) => {
    const reachable = isWritable(e.newDescription);
    monitor.health(reachable ? { reachable } : { reachable, reason: lastFailure ?? 'no writable server in the topology' });
  });
}

/** Command monitoring: every finished command, with its tenant, to core. */
function forwardOperations(pool: NativePool, monitor: PoolMonitor): void {
  const own = ownRequests.get(pool.client);
  const record = (e: { requestId: number; databaseName: string; commandName: string; duration: number }, failure?: Error) => {
    if (own?.delete(e.requestId)) return;
    monitor.operation({
      tenantId: pool.tenantsByDb.get(e.databaseName),
      dbName: e.databaseName,
      command: e.commandName,
      durationMS: e.duration,
      poolKey: pool.spec.key,
      ...(failure ? { error: { name: failure.name, message: failure.message, ...codeOf(failure) } } : {}),
    });
  };
  pool.client.on('commandSucceeded', (e) => {
    // Write errors (duplicate keys, bad update operators) come back in an ok:1 reply.
    const writeError = (e.reply as { writeErrors?: Array<{ code?: number; errmsg?: string }> } | undefined)?.writeErrors?.[0];
    record(
      e,
      writeError
        ? Object.assign(new Error(writeError.errmsg ?? 'write error'), { name: 'MongoWriteError', code: writeError.code })
        : undefined,
    );
  });
  pool.client.on('commandFailed', (e) => record(e, e.failure));
}

function isWritable(description: TopologyDescription): boolean {
  for (const server of description.servers.values()) if (WRITABLE.has(server.type)) return true;
  return false;
}

/**
 * The topology PolyMongo opens is not closed by a failed selection or ping (openTopology.ts), but a connect can still
 * fail before that (an SRV lookup, a TLS file) and close it while leaving it on the client, so every later operation
 * would fail with "Topology is closed". Forgetting it lets the next operation (or connect) start afresh on the same
 * MongoClient. `topology` is a driver-internal field; the native tests pin this behaviour.
 */
function forgetFailedTopology(client: MongoClient): void {
  const internal = client as unknown as { topology?: { isConnected(): boolean } };
  if (internal.topology && !internal.topology.isConnected()) internal.topology = undefined;
}

function codeOf(error: Error): { code?: string | number } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? { code } : {};
}

/** The part of the driver's connection pool (one per server) that pool numbers are read from. */
interface DriverPoolCounts {
  totalConnectionCount: number;
  currentCheckedOutCount: number;
  waitQueueSize: number;
}

/**
 * The driver's own pools, one per server, read on demand: listening to the per-operation CMAP events
 * (check-out started, checked out, checked in) costs an emit with a listener three times per operation.
 * 'unconnected' before the client connects; undefined if a driver version keeps its pools elsewhere.
 */
function driverPools(client: MongoClient): DriverPoolCounts[] | 'unconnected' | undefined {
  const topology = (client as unknown as { topology?: { s?: { servers?: unknown } } }).topology;
  if (topology === undefined || topology === null) return 'unconnected';
  const servers = topology.s?.servers;
  if (!(servers instanceof Map)) return undefined;
  const pools: DriverPoolCounts[] = [];
  for (const server of servers.values()) {
    const p = (server as { pool?: Partial<DriverPoolCounts> } | undefined)?.pool;
    if (typeof p?.totalConnectionCount !== 'number' || typeof p.currentCheckedOutCount !== 'number' || typeof p.waitQueueSize !== 'number')
      return undefined;
    pools.push(p as DriverPoolCounts);
  }
  return pools;
}

/** Pool numbers from the driver's pools, else from CMAP events. */
function readNumbers(pool: NativePool): PoolNumbers {
  const pools = driverPools(pool.client);
  if (pools === 'unconnected' || pools === undefined) {
    // A driver whose pools are not where this version keeps them: count check-out events from now on.
    if (pools === undefined) countCheckouts(pool.client, pool.numbers);
    const n = pool.numbers;
    return { open: n.open, inUse: n.inUse, available: Math.max(0, n.open - n.inUse), waiting: n.waiting };
  }
  let open = 0;
  let inUse = 0;
  let waiting = 0;
  for (const p of pools) {
    open += p.totalConnectionCount;
    inUse += p.currentCheckedOutCount;
    waiting += p.waitQueueSize;
  }
  return { open, inUse, available: Math.max(0, open - inUse), waiting };
}

/** Counts opened and closed connections from the driver's CMAP events (rare events: one per connection). */
function countConnections(client: MongoClient, n: PoolNumbers): void {
  client.on('connectionCreated', () => {
    n.open += 1;
  });
  client.on('connectionClosed', () => {
    n.open = Math.max(0, n.open - 1);
  });
  client.on('connectionPoolClosed', () => {
    n.inUse = 0;
    n.waiting = 0;
  });
}

const countingCheckouts = new WeakSet<MongoClient>();

/** The fallback: counts check-outs from the per-operation CMAP events, attached once, on first need. */
function countCheckouts(client: MongoClient, n: PoolNumbers): void {
  if (countingCheckouts.has(client)) return;
  countingCheckouts.add(client);
  client.on('connectionCheckOutStarted', () => {
    n.waiting += 1;
  });
  client.on('connectionCheckOutFailed', () => {
    n.waiting = Math.max(0, n.waiting - 1);
  });
  client.on('connectionCheckedOut', () => {
    n.waiting = Math.max(0, n.waiting - 1);
    n.inUse += 1;
  });
  client.on('connectionCheckedIn', () => {
    n.inUse = Math.max(0, n.inUse - 1);
  });
}
