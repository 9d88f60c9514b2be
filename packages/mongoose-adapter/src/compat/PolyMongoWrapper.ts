import { type ConnectionState, PolyMongoError, redactText } from '@polymongo/core';
import { createPolyMongo, type PolyMongo } from '@polymongo/native';
import mongoose, { type Connection } from 'mongoose';
import { createMongooseAdapter, type MongooseAdapter } from '../MongooseAdapter.js';
import type { AnyModel, WrappedModel } from '../WrappedModel.js';
import { compatLogger } from './logger.js';
import { parseScaleOptions, parseWrapperOptions, type ScaleOptions, toDedicated, toNativeOptions, type WrapperOptions } from './options.js';

export type LegacyConnectionState = 'connected' | 'disconnected' | 'connecting' | 'disconnecting' | 'not initialized';
export type WrapperEvent = 'connect' | 'disconnect' | 'error' | 'onDbConnect' | 'onDbDisconnect';

/** The 1.x `stats()` shape. */
export interface LegacyStats {
  activeConnections: number;
  databases: string[];
  poolStats: { totalConnections: number; maxPoolSize: number; minFreeConnections: number; idleTimeoutMS: number };
}

interface Closable {
  close(): Promise<void> | void;
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
  private readonly watches = new Map<string, Set<Closable>>();
  private everConnected = false;
  private unsubscribe: Array<() => void> = [];

  constructor(input: WrapperOptions) {
    this.options = parseWrapperOptions(input);
    this.logger = compatLogger(this.options.debug, this.options.logPath);
    this.adapter = this.createAdapter();
    this.uriDatabase = this.adapter.poly.core.config.uriDatabase;
  }

  private createAdapter(): MongooseAdapter {
    const poly = createPolyMongo({ ...toNativeOptions(this.options), logger: this.logger });
    const adapter = createMongooseAdapter({ poly, mongoose });
    this.unsubscribe = [
      poly.on('connect', (e) => {
        this.everConnected = true;
        if (e.poolKey.startsWith('cluster:')) this.emit('connect');
      }),
      poly.on('disconnect', (e) => {
        if (e.poolKey.startsWith('cluster:')) this.emit('disconnect');
      }),
      poly.on('error', (e) => this.emit('error', e.error)),
      poly.on('tenantEvicted', (e) => {
        const dbName = poly.core.router.resolve(e.tenantId).dbName;
        if (this.knownDbs.delete(dbName)) this.emit('onDbDisconnect', dbName);
      }),
    ];
    return adapter;
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
      this.emit('onDbConnect', dbName);
    }
  }

  private track(dbName: string, stream: Closable & { on?: (e: string, fn: () => void) => void }): void {
    let set = this.watches.get(dbName);
    if (!set) {
      set = new Set();
      this.watches.set(dbName, set);
    }
    set.add(stream);
    const release = this.poly.core.pin(this.poly.route(dbName));
    const close = stream.close.bind(stream);
    let open = true;
    const untrack = () => {
      if (!open) return;
      open = false;
      set?.delete(stream);
      release();
    };
    stream.close = async () => {
      try {
        await close();
      } finally {
        untrack();
      }
    };
  }

  /** Wraps a Mongoose model: `Model.db(name)` is the model on that database; `Model.db(name).watch()` is tracked. */
  wrapModel<M extends AnyModel>(model: M): WrappedModel<M> {
    const wrapper = this;
    const bound = (name?: string | null): M => {
      const tenant = wrapper.tenantFor(name);
      const tenantModel = wrapper.adapter.model(model, tenant);
      wrapper.noteDb(tenant);
      const dbName = wrapper.poly.route(tenant).dbName;
      return new Proxy(tenantModel, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'watch' && typeof value === 'function') {
            return (...args: unknown[]) => {
              const stream = value.apply(target, args);
              wrapper.track(dbName, stream);
              return stream;
            };
          }
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
  readonly stats: (() => LegacyStats) & {
    general(): {
      state: LegacyConnectionState;
      activeConnections: number;
      databases: number;
      dedicatedPools: number;
      openStreams: number;
      pools: unknown[];
    };
    db(name: string): { name: string; cached: boolean; pool: string; connections: unknown; watches: number };
    listDatabases(): Promise<Array<{ name: string; sizeOnDisk?: number; empty?: boolean }>>;
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
      general: () => {
        const s = this.poly.stats();
        return {
          state: this.getConnectionState(),
          activeConnections: s.pools.reduce((n, p) => n + p.connections.open, 0),
          databases: this.knownDbs.size,
          dedicatedPools: s.dedicatedPools,
          openStreams: s.openStreams + [...this.watches.values()].reduce((n, w) => n + w.size, 0),
          pools: s.pools,
        };
      },
      db: (name: string) => {
        const route = this.poly.route(this.tenantFor(name));
        const pool = this.poly.stats().pools.find((p) => p.key === route.poolKey);
        return {
          name: route.dbName,
          cached: this.knownDbs.has(route.dbName),
          pool: route.poolKey,
          connections: pool?.connections ?? { open: 0, inUse: 0, available: 0, waiting: 0 },
          watches: this.watches.get(route.dbName)?.size ?? 0,
        };
      },
      listDatabases: async () => {
        const result = await this.poly.client().db('admin').admin().listDatabases();
        return result.databases.map((d) => ({ name: d.name, sizeOnDisk: d.sizeOnDisk, empty: d.empty }));
      },
    },
  );

  isConnected(): boolean {
    return this.poly.state === 'connected';
  }

  getConnectionState(): LegacyConnectionState {
    return legacyState(this.poly.state, this.everConnected);
  }

  /** Connects now (reconnects after `disconnect()`). */
  async connect(): Promise<void> {
    if (this.poly.core.isClosing) {
      for (const off of this.unsubscribe) off();
      this.knownDbs.clear();
      this.adapter = this.createAdapter();
    }
    await this.poly.connect();
  }

  async disconnect(): Promise<void> {
    await this.closeAll();
  }

  /** Pings the server (through the pool of `dbName`, if given); resolves true when it answers. */
  async ping(dbName?: string): Promise<boolean> {
    try {
      await this.adapter.poly.db(this.tenantFor(dbName)).command({ ping: 1 });
      return true;
    } catch {
      return false;
    }
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
    const name = this.poly.route(this.tenantFor(dbName)).dbName;
    await Promise.all([...(this.watches.get(name) ?? [])].map((s) => Promise.resolve(s.close()).catch(() => undefined)));
    await this.poly.closeStreams(name).catch(() => 0);
  }

  async closeAllWatches(): Promise<void> {
    await Promise.all([...this.watches.values()].flatMap((set) => [...set]).map((s) => Promise.resolve(s.close()).catch(() => undefined)));
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
