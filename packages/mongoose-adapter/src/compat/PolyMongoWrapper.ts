import {
  AuthFailedError,
  ConnectionFailedError,
  type ConnectionState,
  InvalidTenantError,
  type LoggerLike,
  type PolyMongoError,
  redactText,
  redactUri,
  type StatsSnapshot,
  TypedEmitter,
} from '@polymongo/core';
import { adapterHost, createPolyMongo, type PolyMongo } from '@polymongo/native';
import mongoose, { type Connection } from 'mongoose';
import { assertModel, createMongooseAdapter, type MongooseAdapter } from '../MongooseAdapter.js';
import type { AnyModel, WrappedModel } from '../WrappedModel.js';
import {
  type DatabaseCopySummary,
  type DatabaseExport,
  type DatabaseImportSummary,
  exportDatabase,
  exportDatabaseStream,
  type ImportOptions,
  importDatabaseStream,
  importDataStream,
} from './bulkActions.js';
import { action, actionSync, failed, withMessage } from './errors.js';
import { compatLogger } from './logger.js';
import { parseScaleOptions, parseWrapperOptions, type ScaleOptions, toDedicated, toNativeOptions, type WrapperOptions } from './options.js';

export type LegacyConnectionState = 'connected' | 'disconnected' | 'connecting' | 'disconnecting' | 'not initialized';
export type WrapperEvent = 'connect' | 'disconnect' | 'error' | 'onDbConnect' | 'onDbDisconnect';

/**
 * What 1.3 passes to event listeners. `connect`/`onDbConnect` (and `disconnect`/`onDbDisconnect`) are aliases: both
 * receive every such event, whose `name` is `connect` (or `disconnect`). `error` events also carry `error`.
 */
export interface WrapperEventPayload {
  name: 'connect' | 'disconnect' | 'error';
  dbName: string;
  readyState: number;
  state: string;
  /** The Mongoose connection of that database. */
  connection: Connection;
  timestamp: string;
  error?: Error;
}

type WrapperEvents = Record<WrapperEvent, WrapperEventPayload>;
const ALIASES: Record<WrapperEventPayload['name'], WrapperEvent[]> = {
  connect: ['connect', 'onDbConnect'],
  disconnect: ['disconnect', 'onDbDisconnect'],
  error: ['error'],
};

const READY_STATES: Record<number, string> = { 0: 'disconnected', 1: 'connected', 2: 'connecting', 3: 'disconnecting' };

/** The 1.3 pool statistics shape. */
export interface LegacyPoolStats {
  totalConnections: number;
  availableConnections: number;
  inUseConnections: number;
  waitQueueSize: number;
  maxPoolSize: number;
  minPoolSize: number;
  maxIdleTimeMS?: number;
}

/** The 1.3 `stats.general()` shape. */
export interface LegacyGeneralStats {
  totalActivePools: number;
  totalConnectionsAcrossPools: number;
  primary: { readyState: number; poolStats: LegacyPoolStats | null; sharedDatabases: string[] } | null;
  separateDB: Array<{
    dbName: string;
    mongoURI: string | undefined;
    readyState: number;
    lastAccessed: number;
    isInitialized: boolean;
    config: { autoClose?: boolean; ttl?: number; maxConnections?: number; coldStart?: boolean; mongoURI?: string };
    poolStats: LegacyPoolStats | null;
  }>;
}

/** The 1.3 `stats.db(name)` shape. */
export interface LegacyDbStats {
  sizeMb: number;
  numCollections: number;
  collections: Array<{ name: string; docCount: number; sizeMb: number }>;
  lastUsed: Date;
  mongoURI: string;
  isInitialized: boolean;
  config: object;
  poolStats: LegacyPoolStats | null;
}

/** The 1.x `stats()` shape. */
export interface LegacyStats {
  activeConnections: number;
  databases: string[];
  poolStats: { totalConnections: number; maxPoolSize: number; minFreeConnections: number; idleTimeoutMS: number };
}

/**
 * 1.3 compiles a tenant's model with `conn.model(modelName, schema)`, so its collection comes from the model name (or
 * the schema's `collection` option), never from the third argument of `mongoose.model`: keep the data where 1.3 put it.
 */
function legacyCollection<M extends AnyModel>(model: M): M {
  const pluralize = model.base?.pluralize?.() as ((name: string) => string) | null | undefined;
  const collectionName =
    (model.schema.get('collection') as string | undefined) ?? (pluralize ? pluralize(model.modelName) : model.modelName);
  if (collectionName === model.collection?.collectionName) return model;
  return Object.create(model, { collection: { value: { collectionName } } }) as M;
}

/**
 * 1.3 `cleanURI`: a dedicated pool's URI with its path reduced to `/` (the database comes from the name), and, unlike
 * 1.3, its credentials redacted: these configs are only shown (in stats), never connected with.
 */
function cleanUri(uri: string): string {
  try {
    const url = new URL(uri);
    url.pathname = '/';
    return redactUri(url.toString().replace(/\/$/, ''));
  } catch {
    return redactUri(uri);
  }
}

/** A dedicated pool's options as stats show them: the URI cleaned and redacted. */
function shownConfig(config: Record<string, unknown>): Record<string, unknown> {
  return typeof config.mongoURI === 'string' ? { ...config, mongoURI: cleanUri(config.mongoURI) } : config;
}

/** Mongoose's readyState for a pool state, as 1.3 read it from its connections. */
function readyStateOf(state: ConnectionState): number {
  if (state === 'connected') return 1;
  if (state === 'connecting' || state === 'retrying') return 2;
  if (state === 'disconnecting') return 3;
  return 0;
}

/**
 * 1.3 let the driver's own error through when a connection failed (`connect ECONNREFUSED ...`, `Authentication
 * failed.`): keep that message on PolyMongo's AuthFailedError / ConnectionFailedError (class and code unchanged).
 */
function legacyConnectError(error: Error): Error {
  if ((error instanceof AuthFailedError || error instanceof ConnectionFailedError) && error.cause instanceof Error) {
    const message = redactText(error.cause.message);
    if (error.message !== message) withMessage(error, message);
  }
  return error;
}

/** The tenant of a dedicated pool key (`dedicated:<tenant>`), else undefined. */
function dedicatedTenant(poolKey: string): string | undefined {
  return poolKey.startsWith('dedicated:') ? poolKey.slice('dedicated:'.length) : undefined;
}

function legacyState(state: ConnectionState, everConnected: boolean): LegacyConnectionState {
  switch (state) {
    case 'connected':
      return 'connected';
    case 'connecting':
    case 'retrying':
      return 'connecting';
    case 'disconnecting':
      return 'disconnecting';
    case 'idle':
      return everConnected ? 'disconnected' : 'not initialized';
    // 1.3 forgets its primary connection on closeAll/disconnect.
    case 'closed':
      return 'not initialized';
    default:
      return 'disconnected';
  }
}

/**
 * The PolyMongo 1.x wrapper API on PolyMongo 2. Create it with `PolyMongo.createWrapper(options)`.
 */
export class PolyMongoWrapper {
  #adapter: MongooseAdapter;
  readonly #options: ReturnType<typeof parseWrapperOptions>;
  readonly #logger: LoggerLike;
  readonly #uriDatabase: string | undefined;
  /** Databases used through wrapModel, with their connection, in first-use order (1.3 `sharedDatabases`). */
  readonly #knownDbs = new Map<string, Connection>();
  readonly #hooks: TypedEmitter<WrapperEvents>;
  readonly #dedicatedConnections = new Map<string, Connection>();
  /** 1.3 `dbConfigs`: what setDB / dbSpecific saved per database (reported by `stats.db().config`). */
  readonly #dbConfigs = new Map<string, Record<string, unknown>>();
  /** 1.3's config of each separate connection when it was made (reported by `stats.general().separateDB`). */
  readonly #separateConfigs = new Map<string, Record<string, unknown>>();
  /** 1.3 `connections`: databases reached through its connection manager (ping, stats.db, actions), not models. */
  readonly #managedDbs = new Set<string>();
  readonly #signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  #everConnected = false;
  /** The Mongoose connection 1.3's primary events carry (the default database's), once the shared pool connected. */
  #primaryConnection: Connection | undefined;
  #unsubscribe: Array<() => void> = [];

  constructor(input: WrapperOptions) {
    this.#options = parseWrapperOptions(input);
    this.#logger = compatLogger(this.#options.debug, this.#options.logPath);
    // 1.3's first lines (its options JSON, with credentials redacted here).
    this.#logger.debug({}, `Creating PolyMongoWrapper with options: ${JSON.stringify(input)}`);
    this.#logger.debug(
      {},
      this.#options.coldStart === false
        ? 'Eager initializing primary connection'
        : 'Cold start enabled - connection will initialize on first query',
    );
    this.#hooks = new TypedEmitter<WrapperEvents>((event, error) =>
      this.#logger.error({ event, err: redactText(String(error)) }, 'wrapper listener threw'),
    );
    for (const d of this.#options.dbSpecific ?? []) {
      this.#dbConfigs.set(d.dbName, { ...(d.options ?? {}), mongoURI: d.mongoURI ? cleanUri(d.mongoURI) : undefined });
    }
    this.#adapter = this.#createAdapter();
    this.#installSignalHandlers();
    this.#uriDatabase = adapterHost(this.#adapter.poly).settings.uriDatabase;
  }

  #createAdapter(): MongooseAdapter {
    const poly = createPolyMongo({ ...toNativeOptions(this.#options), logger: this.#logger, mongodb: mongoose.mongo });
    const adapter = createMongooseAdapter({ poly, mongoose });
    this.#unsubscribe = [
      poly.on('connect', (e) => {
        const tenant = dedicatedTenant(e.poolKey);
        if (tenant !== undefined) {
          const dbName = this.#poly.route(tenant).dbName;
          const connection = this.#connectionOf(tenant);
          this.#dedicatedConnections.set(dbName, connection);
          this.#fire('connect', dbName, connection, 1);
          return;
        }
        this.#everConnected = true;
        // 1.3 fires per Mongoose connection: the useDb connections of databases used before the pool was up (Mongoose
        // tells them first), then its primary connection, named after the default database. A model used on the
        // default database has a useDb connection of its own, so that name gets two events, as in 1.3.
        for (const [dbName, connection] of this.#knownDbs) this.#fire('connect', dbName, connection, 1);
        const primary = this.#primaryDbName();
        const primaryConnection = this.#adapter.connection(undefined);
        this.#primaryConnection = primaryConnection;
        queueMicrotask(() => this.#fire('connect', primary, primaryConnection, 1));
      }),
      poly.on('disconnect', (e) => {
        const tenant = dedicatedTenant(e.poolKey);
        if (tenant !== undefined) {
          const dbName = this.#poly.route(tenant).dbName;
          this.#fire('disconnect', dbName, this.#dedicatedConnections.get(dbName) ?? this.#connectionOf(tenant), 0);
          this.#dedicatedConnections.delete(dbName);
          return;
        }
        // Mongoose closes the useDb connections first, then the primary connection itself (1.3's event order).
        for (const [dbName, connection] of this.#knownDbs) this.#fire('disconnect', dbName, connection, 0);
        if (this.#primaryConnection) this.#fire('disconnect', this.#primaryDbName(), this.#primaryConnection, 0);
      }),
      // A pool's connect failed. 1.3 printed the driver's message, then its Mongoose connection (which never opened, so
      // had no name yet) fired disconnect and error.
      poly.on('error', (e) => {
        const error = legacyConnectError(e.error);
        console.error(`MongoDB connection error: ${error.message}`);
        const tenant = e.poolKey ? dedicatedTenant(e.poolKey) : undefined;
        const connection = tenant !== undefined ? this.#dedicatedConnections.get(this.#poly.route(tenant).dbName) : undefined;
        this.#fire('disconnect', undefined, connection as Connection, 0);
        this.#fire('error', undefined, connection as Connection, 0, error);
      }),
      // An evicted database gets a new connection (and a new connect event) when it is used again.
      poly.on('tenantEvicted', (e) => this.#knownDbs.delete(this.#poly.route(e.tenantId).dbName)),
    ];
    return adapter;
  }

  /** Emits a 1.3 event object to the event and its alias. */
  #fire(name: WrapperEventPayload['name'], dbName: string | undefined, connection: Connection, readyState: number, error?: Error): void {
    const payload: WrapperEventPayload = {
      name,
      dbName: dbName as string,
      readyState,
      state: READY_STATES[readyState] ?? 'unknown',
      connection,
      timestamp: new Date().toISOString(),
      ...(error ? { error } : {}),
    };
    for (const event of ALIASES[name]) this.#hooks.emit(event, payload);
  }

  /** The Mongoose connection of a database, or undefined once the client is closing. */
  #connectionOf(tenant: string | undefined): Connection {
    return (
      this.#knownDbs.get(this.#poly.route(tenant).dbName) ??
      (this.#poly.isClosing ? (undefined as never) : this.#adapter.connection(tenant))
    );
  }

  /** 1.x: SIGINT, SIGTERM and SIGUSR2 force-close every connection, then exit (0, or 1 if closing failed). */
  #installSignalHandlers(): void {
    if (this.#options.gracefulShutdown === false || this.#signalHandlers.length > 0) return;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGUSR2'] as const) {
      const handler = () => {
        this.#logger.info({}, `${signal} received, closing MongoDB connections gracefully...`);
        this.forceCloseAll().then(
          () => {
            this.#logger.info({}, 'MongoDB connections closed successfully');
            process.exit(0);
          },
          (error: unknown) => {
            this.#logger.info({}, `Error during graceful shutdown: ${error instanceof Error ? error.message : 'Unknown error'}`);
            process.exit(1);
          },
        );
      };
      process.once(signal, handler);
      this.#signalHandlers.push([signal, handler]);
    }
  }

  #removeSignalHandlers(): void {
    for (const [signal, handler] of this.#signalHandlers.splice(0)) process.off(signal, handler);
  }

  #primaryDbName(): string {
    return this.#poly.route(this.#tenantFor(undefined)).dbName;
  }

  get #poly(): PolyMongo {
    return this.#adapter.poly;
  }

  /**
   * 1.x database selection: a name, else the default. With a database in the URI and `preferURI` not false, the
   * URI database is used for every call, as in 1.x.
   */
  #tenantFor(dbName: unknown): string | undefined {
    if (this.#uriDatabase && this.#options.preferURI === true) return this.#uriDatabase;
    if (dbName === null || dbName === undefined || dbName === '') return undefined;
    if (typeof dbName !== 'string') throw new InvalidTenantError('type', `A database name must be a string, got ${typeof dbName}.`);
    return dbName;
  }

  /** 1.3 lists a shared database in `sharedDatabases` once its connection manager served it (not for models). */
  #noteManaged(tenant: string | undefined): void {
    const route = this.#poly.route(tenant);
    if (!route.poolKey.startsWith('dedicated:')) this.#managedDbs.add(route.dbName);
  }

  /** Notes a database used through wrapModel: its name and connection come from the tenant model (no second route). */
  #noteDb(connection: Connection): void {
    const dbName = connection.name;
    if (this.#knownDbs.has(dbName)) return;
    this.#knownDbs.set(dbName, connection);
    // 1.3 fires a database's connect once the shared pool is up (after the call that asked for it).
    if (this.#everConnected && this.#poly.state === 'connected') queueMicrotask(() => this.#fire('connect', dbName, connection, 1));
  }

  /** Wraps a Mongoose model: `Model.db(name)` is the model on that database; `Model.db(name).watch()` is tracked (by the adapter). */
  wrapModel<M extends AnyModel>(model: M): WrappedModel<M> {
    try {
      assertModel(model);
    } catch (error) {
      throw withMessage(error as PolyMongoError, 'Invalid model provided to wrapModel');
    }
    const wrapper = this;
    const base = legacyCollection(model);
    const bound = (name?: string | null): M => {
      const tenant = wrapper.#tenantFor(name);
      const tenantModel = wrapper.#adapter.model(base, tenant);
      wrapper.#noteDb(tenantModel.db);
      return new Proxy(tenantModel, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' && prop !== 'constructor' ? value.bind(target) : value;
        },
      });
    };
    return new Proxy(model, {
      get(_target, prop) {
        if (prop === 'db') return bound;
        const tenantModel = bound(undefined);
        return Reflect.get(tenantModel, prop, tenantModel);
      },
      construct(_target, args) {
        return Reflect.construct(wrapper.#adapter.model(base, wrapper.#tenantFor(undefined)), args);
      },
    }) as WrappedModel<M>;
  }

  /** Connection statistics in the 1.x shape; also callable as `stats.general()`, `stats.db(name)`, `stats.listDatabases()`. */
  #poolStats(pool: StatsSnapshot['pools'][number] | undefined): LegacyPoolStats | null {
    if (!pool) return null;
    const settings = adapterHost(this.#poly).settings.pool;
    return {
      totalConnections: pool.connections.open,
      availableConnections: pool.connections.available,
      inUseConnections: pool.connections.inUse,
      waitQueueSize: pool.connections.waiting,
      maxPoolSize: pool.maxPoolSize,
      minPoolSize: settings.minPoolSize,
      maxIdleTimeMS: settings.maxIdleTimeMS,
    };
  }

  /** Connection statistics in the 1.x shape; also `stats.general()`, `stats.db(name)`, `stats.listDatabases()` in the 1.3 shapes. */
  readonly stats: (() => LegacyStats) & {
    general(): LegacyGeneralStats;
    db(name?: string): Promise<LegacyDbStats>;
    listDatabases(): Promise<Array<{ dbName: string; sizeInMB: number }>>;
  } = Object.assign(
    (): LegacyStats => {
      const s = this.#poly.stats();
      const open = s.pools.reduce((n, p) => n + p.connections.open, 0);
      const pool = adapterHost(this.#poly).settings.pool;
      return {
        activeConnections: open,
        databases: [...this.#knownDbs.keys()],
        poolStats: {
          totalConnections: open,
          maxPoolSize: pool.maxPoolSize,
          minFreeConnections: pool.minPoolSize,
          idleTimeoutMS: pool.maxIdleTimeMS,
        },
      };
    },
    {
      general: (): LegacyGeneralStats => actionSync('retrieve connection stats', () => this.#generalStats()),
      db: (name?: string): Promise<LegacyDbStats> => action('retrieve DB stats', () => this.#dbStats(name)),
      listDatabases: () =>
        action('list databases', async () => {
          const result = await this.#poly.client().db('admin').admin().listDatabases();
          return result.databases.map((d) => ({ dbName: d.name, sizeInMB: Number(((d.sizeOnDisk ?? 0) / 1048576).toFixed(2)) }));
        }),
    },
  );

  #generalStats(): LegacyGeneralStats {
    const s = this.#poly.stats();
    const shared = s.pools.find((p) => p.kind === 'shared');
    const dedicated = s.pools.filter((p) => p.kind === 'dedicated');
    return {
      totalActivePools: s.pools.length,
      totalConnectionsAcrossPools: s.pools.reduce((n, p) => n + p.connections.open, 0),
      primary: shared
        ? { readyState: readyStateOf(shared.state), poolStats: this.#poolStats(shared), sharedDatabases: [...this.#managedDbs] }
        : null,
      // 1.3 lists a separate connection from its creation until it is closed (idle auto-close, closeAll).
      separateDB: dedicated
        .filter((p) => p.state !== 'idle' && p.state !== 'closed')
        .map((p) => {
          const dbName = p.tenant ?? p.key;
          const config = this.#separateConfigs.get(dbName) ?? this.#dbConfigs.get(dbName) ?? {};
          return {
            dbName,
            mongoURI: typeof config.mongoURI === 'string' ? redactUri(config.mongoURI) : undefined,
            readyState: readyStateOf(p.state),
            lastAccessed: Date.now(),
            isInitialized: true,
            config,
            poolStats: this.#poolStats(p),
          };
        }),
    };
  }

  async #dbStats(name?: string): Promise<LegacyDbStats> {
    const tenant = this.#tenantFor(name);
    const db = this.#poly.db(tenant);
    const route = this.#poly.route(tenant);
    this.#noteManaged(tenant);
    const dbStats = await db.stats();
    const collections = [];
    for (const info of await db.listCollections({}, { nameOnly: true }).toArray()) {
      if (info.type && info.type !== 'collection') continue;
      const coll = db.collection(info.name);
      const [docCount, sizeDoc] = await Promise.all([
        coll.estimatedDocumentCount(),
        coll
          .aggregate([{ $collStats: { storageStats: {} } }])
          .toArray()
          .catch(() => []),
      ]);
      collections.push({ name: info.name, docCount, sizeMb: ((sizeDoc[0]?.storageStats?.size as number) ?? 0) / 1048576 });
    }
    return {
      sizeMb: (dbStats.dataSize ?? 0) / 1048576,
      numCollections: collections.length,
      collections,
      lastUsed: new Date(),
      mongoURI: redactUri((this.#separateConfigs.get(route.dbName)?.mongoURI as string | undefined) ?? this.#options.mongoURI),
      isInitialized: true,
      config: this.#dbConfigs.get(route.dbName) ?? {},
      poolStats: this.#poolStats(this.#poly.stats().pools.find((p) => p.key === route.poolKey)),
    };
  }

  /** Watch streams and change streams open right now. */
  get openWatches(): number {
    return this.#poly.stats().openStreams;
  }

  isConnected(): boolean {
    return this.#poly.state === 'connected';
  }

  getConnectionState(): LegacyConnectionState {
    return legacyState(this.#poly.state, this.#everConnected);
  }

  /** Connects now (and reconnects after `disconnect()`), as 1.3 does. */
  async connect(): Promise<{ success: true; alreadyConnected: boolean; defaultDB: string; connection: Connection; state: 'connected' }> {
    if (this.#poly.isClosing) {
      for (const off of this.#unsubscribe) off();
      this.#knownDbs.clear();
      this.#everConnected = false;
      this.#primaryConnection = undefined;
      this.#adapter = this.#createAdapter();
      this.#installSignalHandlers();
    }
    const alreadyConnected = this.isConnected();
    const connection = await this.adv.getOrCreatePrimaryConnection().catch((error: Error) => {
      throw legacyConnectError(error);
    });
    return { success: true, alreadyConnected, defaultDB: this.#primaryDbName(), connection, state: 'connected' };
  }

  async disconnect(): Promise<{ success: true; alreadyDisconnected: boolean; state: 'disconnected' }> {
    const alreadyDisconnected = this.#poly.isClosing || this.#poly.state === 'idle';
    await this.closeAll();
    return { success: true, alreadyDisconnected, state: 'disconnected' };
  }

  /** Pings through the pool of `dbName` (default database if omitted); rejects when the server does not answer. */
  async ping(dbName?: string): Promise<{ ok: true; dbName: string; latency: number; timestamp: string }> {
    const tenant = this.#tenantFor(dbName);
    this.#noteManaged(tenant);
    const started = Date.now();
    await this.#poly
      .db(tenant)
      .command({ ping: 1 })
      .catch((error: Error) => {
        throw legacyConnectError(error);
      });
    return { ok: true, dbName: this.#poly.route(tenant).dbName, latency: Date.now() - started, timestamp: new Date().toISOString() };
  }

  /** Subscribes to `connect`, `disconnect`, `error`, `onDbConnect(dbName)`, `onDbDisconnect(dbName)`; returns an unsubscribe. */
  on(event: WrapperEvent, fn: (event: WrapperEventPayload) => unknown): () => void {
    return this.#hooks.on(event, (payload) => void fn(payload));
  }

  /** Runs `fn` in a transaction on the primary pool: commits on success, aborts on error, ends the session. */
  transaction<T>(fn: (session: import('mongodb').ClientSession) => Promise<T>, options?: import('mongodb').TransactionOptions): Promise<T> {
    return this.#poly.withTransaction(fn, options);
  }

  async closeAll(): Promise<void> {
    this.#logger.info({}, 'Closing all non-essential connections');
    this.#removeSignalHandlers();
    this.#forgetConnections();
    await this.closeAllWatches();
    await action('close connections', () => this.#poly.close());
    this.#logger.info({}, 'All connections closed gracefully');
  }

  async forceCloseAll(): Promise<void> {
    this.#logger.info({}, 'Force closing all connections');
    const hadPrimary = this.#poly.state !== 'idle' && this.#poly.state !== 'closed';
    this.#removeSignalHandlers();
    this.#forgetConnections();
    await this.closeAllWatches();
    await action('force close connections', () => this.#poly.forceClose());
    if (hadPrimary) this.#logger.info({}, 'All connections force closed successfully');
  }

  /** 1.3 clears its connection lists on closeAll/forceCloseAll; saved configurations (setDB, dbSpecific) stay. */
  #forgetConnections(): void {
    this.#managedDbs.clear();
    this.#separateConfigs.clear();
  }

  /** Closes every watch stream of one database. */
  async closeDBstream(dbName: string): Promise<void> {
    // Model watches are tracked by the adapter as the tenant's streams (one tracker: the native host's binding.trackStream).
    await this.#poly.closeStreams(this.#poly.route(this.#tenantFor(dbName)).tenantId).catch(() => 0);
  }

  async closeAllWatches(): Promise<void> {
    await this.#poly.closeAllStreams().catch(() => 0);
  }

  /** Drops a database and forgets its connections. */
  async dropDatabase(dbName: string): Promise<void> {
    const tenant = this.#tenantFor(dbName);
    if (tenant === undefined)
      throw withMessage(
        new InvalidTenantError('empty', 'dropDatabase needs a database name.'),
        failed('drop database', new Error('Database name is required to drop a database')).message,
      );
    this.#noteManaged(tenant);
    await action('drop database', async () => {
      await this.closeDBstream(tenant);
      await this.#poly.dropTenant(tenant);
      this.#adapter.evict(tenant);
    });
  }

  /** The driver `Db` of a database, once its pool is connected (1.3 waits for the connection the same way). */
  async #dbReady(dbName: string): Promise<import('mongodb').Db> {
    const tenant = this.#tenantFor(dbName);
    const db = this.#poly.db(tenant);
    this.#noteManaged(tenant);
    await this.#poly.connect();
    return db;
  }

  readonly actions = {
    closeAll: () => this.closeAll(),
    forceCloseAll: () => this.forceCloseAll(),
    closeDBstream: (dbName: string) => this.closeDBstream(dbName),
    closeAllWatches: () => this.closeAllWatches(),
    dropDatabase: (dbName: string) => this.dropDatabase(dbName),
    /** Every collection's documents and indexes, in memory. */
    exportDB: (dbName: string): Promise<DatabaseExport> =>
      action('export database', async () => exportDatabase(await this.#dbReady(dbName), dbName)),
    /** Imports what `exportDB` returned. */
    importDB: async (dbName: string, data: DatabaseExport): Promise<DatabaseImportSummary> => {
      // 1.3 read data.collections first: null or undefined failed with the TypeError that makes.
      if (data === null || data === undefined)
        throw failed('import database', new Error(`Cannot read properties of ${data} (reading 'collections')`));
      const stream = importDataStream(data, dbName);
      if (!stream) throw failed('import database', new Error('Invalid import data format'));
      // 1.3 hands the stream to importDBStream outside its own try: its failures read "Failed to import stream: ...".
      return this.actions.importDBStream(dbName, stream);
    },
    /** The database as NDJSON (`polymongo.ndjson` v1), streamed collection by collection. */
    exportDBStream: (dbName: string): NodeJS.ReadableStream => {
      this.#tenantFor(dbName);
      return exportDatabaseStream(() => this.#dbReady(dbName), dbName);
    },
    /** Imports an NDJSON stream written by `exportDBStream`. */
    importDBStream: (dbName: string, stream: NodeJS.ReadableStream, options?: ImportOptions): Promise<DatabaseImportSummary> =>
      action('import stream', async () => importDatabaseStream(await this.#dbReady(dbName), dbName, stream, options)),
    /** Copies every collection, its documents and indexes, from one database to another. */
    copyDatabase: (sourceDB: string, targetDB: string): Promise<DatabaseCopySummary> =>
      action('copy database', async () => {
        const { database: _target, ...imported } = await this.actions.importDBStream(
          targetDB,
          exportDatabaseStream(() => this.#dbReady(sourceDB), sourceDB),
        );
        return { source: sourceDB, target: targetDB, ...imported };
      }),
    /** PolyMongo 2 addition (not in 1.3): a transaction on the primary pool. */
    transaction: <T>(fn: (session: import('mongodb').ClientSession) => Promise<T>, options?: import('mongodb').TransactionOptions) =>
      this.transaction(fn, options),
  };

  /** 1.3's short names for the bulk actions. */
  readonly bulkTasks = {
    copyDatabase: this.actions.copyDatabase,
    dropDatabase: this.actions.dropDatabase,
    export: this.actions.exportDB,
    import: this.actions.importDB,
    exportStream: this.actions.exportDBStream,
    importStream: this.actions.importDBStream,
  };

  /** Dedicated pools for chosen databases (1.x "scaling"). */
  readonly scale = {
    setDB: (names: string | string[], options: ScaleOptions = {}) => {
      const dedicated = toDedicated(parseScaleOptions(options));
      const list = Array.isArray(names) ? names : [names];
      for (const name of list) {
        const { autoClose, ttl, maxConnections, coldStart, mongoURI } = options;
        const config = {
          autoClose,
          ttl,
          maxConnections,
          coldStart: coldStart ?? true,
          mongoURI: mongoURI ? cleanUri(mongoURI) : undefined,
        };
        this.#dbConfigs.set(name, config);
        if (config.coldStart === false) this.#separateConfigs.set(name, shownConfig({ ...config, ...options }));
      }
      actionSync('set DB configuration', () => this.#poly.setDedicated(names, dedicated));
    },
    /** Creates the pools and returns without waiting for them to open, as 1.3 did; a failure arrives as an `error` event. */
    connectDB: async (names: string | string[], options: ScaleOptions = {}): Promise<void> => {
      const dedicated = toDedicated(parseScaleOptions(options));
      const list = Array.isArray(names) ? names : [names];
      for (const name of list) this.#separateConfigs.set(name, shownConfig({ ...(this.#dbConfigs.get(name) ?? {}), ...options }));
      actionSync('scale connections', () => this.#poly.setDedicated(names, { ...dedicated, coldStart: false }));
    },
  };

  readonly pool = {
    configure: (names: string | string[], options: ScaleOptions = {}) => this.scale.setDB(names, options),
    connect: (names: string | string[], options: ScaleOptions = {}) => this.scale.connectDB(names, options),
  };

  /** Escape hatches to the underlying Mongoose objects. */
  readonly adv = {
    mongoose,
    getPrimaryConnection: (): Connection => this.#adapter.baseConnection(),
    getOrCreatePrimaryConnection: async (): Promise<Connection> => {
      await this.#poly.connect();
      const conn = this.#adapter.baseConnection();
      if (conn.readyState !== 1) await conn.asPromise();
      return conn;
    },
    getConnection: (dbName?: string | null): Connection => {
      const tenant = this.#tenantFor(dbName);
      this.#noteManaged(tenant);
      return this.#adapter.connection(tenant);
    },
    getSharedConnection: (dbName?: string | null): Connection => this.#adapter.connection(this.#tenantFor(dbName)),
  };
}
