import { type ConnectionState, PolyMongoError, redactText, redactUri } from '@polymongo/core';
import { createPolyMongo, type PolyMongo } from '@polymongo/native';
import mongoose, { type Connection } from 'mongoose';
import { createMongooseAdapter, type MongooseAdapter } from '../MongooseAdapter.js';
import type { AnyModel, WrappedModel } from '../WrappedModel.js';
import { compatLogger } from './logger.js';
import { parseScaleOptions, parseWrapperOptions, type ScaleOptions, toDedicated, toNativeOptions, type WrapperOptions } from './options.js';

export type LegacyConnectionState = 'connected' | 'disconnected' | 'connecting' | 'disconnecting' | 'not initialized';
export type WrapperEvent = 'connect' | 'disconnect' | 'error' | 'onDbConnect' | 'onDbDisconnect';

/** What 1.3 passes to event listeners (`error` events also carry `error`). */
export interface WrapperEventPayload {
  name: WrapperEvent;
  dbName: string;
  readyState: number;
  state: string;
  timestamp: string;
  error?: Error;
}

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
    config: { autoClose?: boolean; ttl?: number; maxConnections?: number; coldStart?: boolean };
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
    default:
      return 'disconnected';
  }
}

/**
 * The PolyMongo 1.x wrapper API on PolyMongo 2. Create it with `PolyMongo.createWrapper(options)`.
 */
export class PolyMongoWrapper {
  private adapter: MongooseAdapter;
  private readonly options: ReturnType<typeof parseWrapperOptions>;
  private readonly logger: ReturnType<typeof compatLogger>;
  private readonly uriDatabase: string | undefined;
  private readonly listeners = new Map<WrapperEvent, Set<(...args: unknown[]) => void>>();
  private readonly knownDbs = new Set<string>();
  private everConnected = false;
  private unsubscribe: Array<() => void> = [];

  constructor(input: WrapperOptions) {
    this.options = parseWrapperOptions(input);
    this.logger = compatLogger(this.options.debug, this.options.logPath);
    this.adapter = this.createAdapter();
    this.uriDatabase = this.adapter.poly.core.config.uriDatabase;
  }

  private createAdapter(): MongooseAdapter {
    const poly = createPolyMongo({ ...toNativeOptions(this.options), logger: this.logger, mongodb: mongoose.mongo });
    const adapter = createMongooseAdapter({ poly, mongoose });
    this.unsubscribe = [
      poly.on('connect', (e) => {
        this.everConnected = true;
        if (e.poolKey.startsWith('cluster:')) this.emit('connect', this.event('connect', this.primaryDbName(), 1));
      }),
      poly.on('disconnect', (e) => {
        if (e.poolKey.startsWith('cluster:')) this.emit('disconnect', this.event('disconnect', this.primaryDbName(), 0));
      }),
      poly.on('error', (e) => this.emit('error', { ...this.event('error', this.primaryDbName(), 0), error: e.error })),
      poly.on('tenantEvicted', (e) => {
        const dbName = poly.core.router.resolve(e.tenantId).dbName;
        if (this.knownDbs.delete(dbName)) this.emit('onDbDisconnect', this.event('onDbDisconnect', dbName, 0));
      }),
    ];
    return adapter;
  }

  /** The 1.3 event object: `{ name, dbName, readyState, state, timestamp }`. */
  private event(name: WrapperEvent, dbName: string, readyState: number): WrapperEventPayload {
    return { name, dbName, readyState, state: READY_STATES[readyState] ?? 'unknown', timestamp: new Date().toISOString() };
  }

  private primaryDbName(): string {
    return this.poly.route(this.tenantFor(undefined)).dbName;
  }

  private get poly(): PolyMongo {
    return this.adapter.poly;
  }

  private emit(event: WrapperEvent, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (error) {
        this.logger.error({ event, err: redactText(String(error)) }, 'wrapper listener threw');
      }
    }
  }

  /**
   * 1.x database selection: a name, else the default. With a database in the URI and `preferURI` not false, the
   * URI database is used for every call, as in 1.x.
   */
  private tenantFor(dbName: unknown): string | undefined {
    if (this.uriDatabase && this.options.preferURI !== false && this.options.defaultDB === undefined) return this.uriDatabase;
    if (dbName === null || dbName === undefined || dbName === '') return undefined;
    if (typeof dbName !== 'string') throw new PolyMongoError('INVALID_TENANT', `A database name must be a string, got ${typeof dbName}.`);
    return dbName;
  }

  private noteDb(tenant: string | undefined): void {
    const dbName = this.poly.route(tenant).dbName;
    if (!this.knownDbs.has(dbName)) {
      this.knownDbs.add(dbName);
      this.emit('onDbConnect', this.event('onDbConnect', dbName, 1));
    }
  }

  /** Wraps a Mongoose model: `Model.db(name)` is the model on that database; `Model.db(name).watch()` is tracked (by the adapter). */
  wrapModel<M extends AnyModel>(model: M): WrappedModel<M> {
    const wrapper = this;
    const bound = (name?: string | null): M => {
      const tenant = wrapper.tenantFor(name);
      const tenantModel = wrapper.adapter.model(model, tenant);
      wrapper.noteDb(tenant);
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
      construct(target, args) {
        return Reflect.construct(wrapper.adapter.model(target, wrapper.tenantFor(undefined)), args);
      },
    }) as WrappedModel<M>;
  }

  /** Connection statistics in the 1.x shape; also callable as `stats.general()`, `stats.db(name)`, `stats.listDatabases()`. */
  private poolStats(key: string): LegacyPoolStats | null {
    const pool = this.poly.stats().pools.find((p) => p.key === key);
    if (!pool) return null;
    const settings = this.poly.core.config.pool;
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
      const s = this.poly.stats();
      const open = s.pools.reduce((n, p) => n + p.connections.open, 0);
      const pool = this.poly.core.config.pool;
      return {
        activeConnections: open,
        databases: [...this.knownDbs],
        poolStats: {
          totalConnections: open,
          maxPoolSize: pool.maxPoolSize,
          minFreeConnections: pool.minPoolSize,
          idleTimeoutMS: pool.maxIdleTimeMS,
        },
      };
    },
    {
      general: (): LegacyGeneralStats => {
        const s = this.poly.stats();
        const shared = s.pools.find((p) => p.kind === 'shared');
        const dedicated = s.pools.filter((p) => p.kind === 'dedicated');
        return {
          totalActivePools: s.pools.length,
          totalConnectionsAcrossPools: s.pools.reduce((n, p) => n + p.connections.open, 0),
          primary: shared
            ? {
                readyState: shared.state === 'connected' ? 1 : 0,
                poolStats: this.poolStats(shared.key),
                sharedDatabases: [...this.knownDbs].filter((db) => this.poly.route(db).poolKey === shared.key),
              }
            : null,
          separateDB: dedicated.map((p) => {
            const config = p.tenant ? this.poly.core.registry.dedicatedConfig(p.tenant) : undefined;
            return {
              dbName: p.tenant ?? p.key,
              mongoURI: config?.uri ? redactUri(config.uri) : undefined,
              readyState: p.state === 'connected' ? 1 : 0,
              lastAccessed: Date.now(),
              isInitialized: p.state === 'connected',
              config: {
                autoClose: config?.autoClose,
                ttl: config?.ttlMS,
                maxConnections: config?.maxConnections,
                coldStart: config?.coldStart,
              },
              poolStats: this.poolStats(p.key),
            };
          }),
        };
      },
      db: async (name?: string): Promise<LegacyDbStats> => {
        const tenant = this.tenantFor(name);
        const db = this.poly.db(tenant);
        const route = this.poly.route(tenant);
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
          mongoURI: redactUri(this.options.mongoURI),
          isInitialized: this.knownDbs.has(route.dbName),
          config: route.poolKey.startsWith('dedicated:') ? (this.poly.core.registry.dedicatedConfig(route.tenantId) ?? {}) : {},
          poolStats: this.poolStats(route.poolKey),
        };
      },
      listDatabases: async () => {
        const result = await this.poly.client().db('admin').admin().listDatabases();
        return result.databases.map((d) => ({ dbName: d.name, sizeInMB: Number(((d.sizeOnDisk ?? 0) / 1048576).toFixed(2)) }));
      },
    },
  );

  /** Watch streams and change streams open right now. */
  get openWatches(): number {
    return this.poly.stats().openStreams;
  }

  isConnected(): boolean {
    return this.poly.state === 'connected';
  }

  getConnectionState(): LegacyConnectionState {
    return legacyState(this.poly.state, this.everConnected);
  }

  /** Connects now (and reconnects after `disconnect()`), as 1.3 does. */
  async connect(): Promise<{ success: true; alreadyConnected: boolean; defaultDB: string; connection: Connection; state: 'connected' }> {
    if (this.poly.core.isClosing) {
      for (const off of this.unsubscribe) off();
      this.knownDbs.clear();
      this.adapter = this.createAdapter();
    }
    const alreadyConnected = this.isConnected();
    const connection = await this.adv.getOrCreatePrimaryConnection();
    return { success: true, alreadyConnected, defaultDB: this.primaryDbName(), connection, state: 'connected' };
  }

  async disconnect(): Promise<{ success: true; alreadyDisconnected: boolean; state: 'disconnected' }> {
    const alreadyDisconnected = this.poly.core.isClosing || this.poly.state === 'idle';
    await this.closeAll();
    return { success: true, alreadyDisconnected, state: 'disconnected' };
  }

  /** Pings through the pool of `dbName` (default database if omitted); rejects when the server does not answer. */
  async ping(dbName?: string): Promise<{ ok: true; dbName: string; latency: number; timestamp: string }> {
    const tenant = this.tenantFor(dbName);
    const started = Date.now();
    await this.poly.db(tenant).command({ ping: 1 });
    return { ok: true, dbName: this.poly.route(tenant).dbName, latency: Date.now() - started, timestamp: new Date().toISOString() };
  }

  /** Subscribes to `connect`, `disconnect`, `error`, `onDbConnect(dbName)`, `onDbDisconnect(dbName)`; returns an unsubscribe. */
  on(event: WrapperEvent, fn: (...args: unknown[]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn);
    return () => set?.delete(fn);
  }

  /** Runs `fn` in a transaction on the primary pool: commits on success, aborts on error, ends the session. */
  transaction<T>(fn: (session: import('mongodb').ClientSession) => Promise<T>, options?: import('mongodb').TransactionOptions): Promise<T> {
    return this.poly.withTransaction(fn, options);
  }

  async closeAll(): Promise<void> {
    await this.closeAllWatches();
    await this.poly.close();
  }

  async forceCloseAll(): Promise<void> {
    await this.closeAllWatches();
    await this.poly.forceClose();
  }

  /** Closes every watch stream of one database. */
  async closeDBstream(dbName: string): Promise<void> {
    // Model watches are tracked by the adapter as the tenant's streams (one tracker: poly.trackStream).
    await this.poly.closeStreams(this.poly.route(this.tenantFor(dbName)).tenantId).catch(() => 0);
  }

  async closeAllWatches(): Promise<void> {
    await this.poly.closeAllStreams().catch(() => 0);
  }

  /** Drops a database and forgets its connections. */
  async dropDatabase(dbName: string): Promise<void> {
    const tenant = this.tenantFor(dbName);
    if (tenant === undefined) throw new PolyMongoError('INVALID_TENANT', 'dropDatabase needs a database name.');
    await this.closeDBstream(tenant);
    await this.poly.dropTenant(tenant);
    this.adapter.evict(tenant);
  }

  readonly actions = {
    closeAll: () => this.closeAll(),
    forceCloseAll: () => this.forceCloseAll(),
    closeDBstream: (dbName: string) => this.closeDBstream(dbName),
    closeAllWatches: () => this.closeAllWatches(),
    dropDatabase: (dbName: string) => this.dropDatabase(dbName),
    transaction: <T>(fn: (session: import('mongodb').ClientSession) => Promise<T>, options?: import('mongodb').TransactionOptions) =>
      this.transaction(fn, options),
  };

  readonly bulkTasks = this.actions;

  /** Dedicated pools for chosen databases (1.x "scaling"). */
  readonly scale = {
    setDB: (names: string | string[], options: ScaleOptions = {}) => {
      this.poly.setDedicated(names, toDedicated(parseScaleOptions(options)));
    },
    connectDB: (names: string | string[], options: ScaleOptions = {}) =>
      this.poly.connectDedicated(names, toDedicated(parseScaleOptions(options))),
  };

  readonly pool = {
    configure: (names: string | string[], options: ScaleOptions = {}) => this.scale.setDB(names, options),
    connect: (names: string | string[], options: ScaleOptions = {}) => this.scale.connectDB(names, options),
  };

  /** Escape hatches to the underlying Mongoose objects. */
  readonly adv = {
    mongoose,
    getPrimaryConnection: (): Connection => this.adapter.baseConnection(),
    getOrCreatePrimaryConnection: async (): Promise<Connection> => {
      await this.poly.connect();
      const conn = this.adapter.baseConnection();
      if (conn.readyState !== 1) await conn.asPromise();
      return conn;
    },
    getConnection: (dbName?: string | null): Connection => this.adapter.connection(this.tenantFor(dbName)),
    getSharedConnection: (dbName?: string | null): Connection => this.adapter.connection(this.tenantFor(dbName)),
  };
}
