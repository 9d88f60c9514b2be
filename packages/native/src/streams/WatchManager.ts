import { EventEmitter } from 'node:events';
import type { PolyMongoCore, Route, TenantNaming } from '@polymongo/core';
import { redactText } from '@polymongo/core';
import type { ChangeStream, ChangeStreamDocument, ChangeStreamOptions, Db, Document, MongoClient, ResumeToken } from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import type { ResumeTokenStore } from './ResumeTokenStore.js';

export interface WatchOptions extends ChangeStreamOptions {
  /** Watch one collection of the tenant; default: the tenant's whole database. */
  collection?: string;
  pipeline?: Document[];
}

export interface ResumableWatchOptions extends WatchOptions {
  store: ResumeTokenStore;
  /** Names the stream in the store; one key per logical consumer. */
  key: string;
}

export interface WatchAllOptions extends ChangeStreamOptions {
  /** Only these tenants (one $match on ns.db); default: every database on the cluster(s). */
  tenants?: string[];
  collection?: string;
  pipeline?: Document[];
  /** Persist resume tokens (one per cluster stream) and resume from them on start. */
  store?: ResumeTokenStore;
  key?: string;
}

type Change = ChangeStreamDocument<Document>;

/**
 * One change stream per cluster, fanned out to listeners by tenant: N watched tenants cost one cursor per
 * cluster, not N.
 *
 * @example
 * const fan = poly.watchAll({ tenants: ['acme', 'globex'], collection: 'orders' });
 * fan.onTenant('acme', (change) => console.log(change.operationType));
 * fan.on('change', (tenantId, change) => metrics.inc(tenantId));
 * await fan.close();
 */
export class TenantFanOut extends EventEmitter<{ change: [tenantId: string, change: Change]; error: [error: Error] }> {
  readonly ready: Promise<void>;
  private readonly streams: ChangeStream[] = [];
  private readonly perTenant = new Map<string, Set<(change: Change) => void>>();
  private closed = false;

  constructor(start: (fan: TenantFanOut) => Promise<void>) {
    super();
    this.ready = start(this);
    this.ready.catch((error) => this.fail(error));
  }

  /** Calls `listener` with the changes of one tenant; returns an unsubscribe function. */
  onTenant(tenantId: string, listener: (change: Change) => void): () => void {
    let set = this.perTenant.get(tenantId);
    if (!set) {
      set = new Set();
      this.perTenant.set(tenantId, set);
    }
    set.add(listener);
    return () => set?.delete(listener);
  }

  /** Number of server cursors behind this fan-out (one per cluster). */
  get cursorCount(): number {
    return this.streams.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  attach(stream: ChangeStream, tenantOfDb: (db: string) => string | undefined): void {
    if (this.closed) {
      void stream.close();
      return;
    }
    this.streams.push(stream);
    stream.on('change', (change: Change) => {
      const db = (change as { ns?: { db?: string } }).ns?.db;
      const tenantId = db === undefined ? undefined : tenantOfDb(db);
      if (tenantId === undefined) return;
      for (const listener of this.perTenant.get(tenantId) ?? []) listener(change);
      this.emit('change', tenantId, change);
    });
    stream.on('error', (error: Error) => this.fail(error));
  }

  private fail(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => undefined);
    await Promise.all(this.streams.splice(0).map((s) => s.close().catch(() => undefined)));
  }
}

/** Tracks every change stream a client opens: open streams pin their tenant, and close() closes them all. */
export class WatchManager {
  private readonly byTenant = new Map<string, Set<ChangeStream>>();
  private readonly fanOuts = new Set<TenantFanOut>();

  constructor(private readonly core: PolyMongoCore<NativePool, Db>) {}

  watch(tenant: string | undefined | null, options: WatchOptions = {}): ChangeStream {
    const { collection, pipeline = [], ...streamOptions } = options;
    const { route, handle } = this.core.acquire(tenant);
    const stream = collection ? handle.collection(collection).watch(pipeline, streamOptions) : handle.watch(pipeline, streamOptions);
    this.track(route, stream);
    return stream;
  }

  async resumeWatch(tenant: string | undefined | null, options: ResumableWatchOptions): Promise<ChangeStream> {
    const { store, key, ...rest } = options;
    const token = await store.load(key);
    const stream = this.watch(tenant, token ? { ...rest, resumeAfter: token, startAfter: undefined } : rest);
    persistTokens(stream, store, key, this.core);
    return stream;
  }

  private track(route: Route, stream: ChangeStream, set = this.tenantSet(route.tenantId)): void {
    const release = this.core.pin(route);
    this.core.streamOpened();
    set.add(stream);
    afterClose(stream, () => {
      set.delete(stream);
      if (set.size === 0) this.byTenant.delete(route.tenantId);
      release();
      this.core.streamClosed();
    });
  }

  private tenantSet(tenantId: string): Set<ChangeStream> {
    let set = this.byTenant.get(tenantId);
    if (!set) {
      set = new Set();
      this.byTenant.set(tenantId, set);
    }
    return set;
  }

  watchAll(options: WatchAllOptions, naming: TenantNaming): TenantFanOut {
    const { tenants, collection, pipeline = [], store, key = 'watchAll', ...streamOptions } = options;
    const core = this.core;
    const groups = new Map<string, { client: MongoClient; routes: Route[] }>();
    if (tenants && tenants.length > 0) {
      for (const t of tenants) {
        const { route, pool } = core.acquire(t);
        const group = groups.get(route.poolKey) ?? { client: pool.pool.client, routes: [] };
        group.routes.push(route);
        groups.set(route.poolKey, group);
      }
    } else {
      for (const clusterId of core.config.clusters.keys()) {
        const pool = core.sharedPool(clusterId);
        groups.set(pool.spec.key, { client: pool.pool.client, routes: [] });
      }
    }
    const fan = new TenantFanOut(async (self) => {
      for (const [poolKey, { client, routes }] of groups) {
        const byDb = new Map(routes.map((r) => [r.dbName, r.tenantId]));
        const match: Document = {};
        if (routes.length > 0) match['ns.db'] = { $in: [...byDb.keys()] };
        if (collection) match['ns.coll'] = collection;
        const storeKey = `${key}:${poolKey}`;
        const token = store ? await store.load(storeKey) : undefined;
        const stream = client.watch(Object.keys(match).length > 0 ? [{ $match: match }, ...pipeline] : pipeline, {
          ...streamOptions,
          ...(token ? { resumeAfter: token } : {}),
        });
        if (store) persistTokens(stream, store, storeKey, core);
        const releases = routes.map((r) => core.pin(r));
        core.streamOpened();
        afterClose(stream, () => {
          for (const release of releases) release();
          core.streamClosed();
        });
        self.attach(stream, (db) => byDb.get(db) ?? tenantFromDbName(db, naming));
      }
    });
    this.fanOuts.add(fan);
    const closeFan = fan.close.bind(fan);
    fan.close = async () => {
      this.fanOuts.delete(fan);
      await closeFan();
    };
    return fan;
  }

  countFor(tenantId: string): number {
    return this.byTenant.get(tenantId)?.size ?? 0;
  }

  async closeStreams(tenantId: string): Promise<number> {
    const streams = [...(this.byTenant.get(tenantId) ?? [])];
    await Promise.all(streams.map((s) => s.close().catch(() => undefined)));
    return streams.length;
  }

  async closeAll(): Promise<number> {
    const streams = [...this.byTenant.values()].flatMap((s) => [...s]);
    const fans = [...this.fanOuts];
    await Promise.all([...streams.map((s) => s.close().catch(() => undefined)), ...fans.map((f) => f.close())]);
    return streams.length + fans.length;
  }
}

/**
 * Runs `fn` once, after the stream itself is closed (by the caller, by PolyMongo, or by the driver on a fatal
 * error). The driver re-creates its cursor when it resumes and re-emits that cursor's 'close' on the stream, so the
 * 'close' event cannot tell; wrapping `close()` can.
 */
function afterClose(stream: ChangeStream, fn: () => void): void {
  const close = stream.close.bind(stream);
  let done = false;
  stream.close = async () => {
    try {
      await close();
    } finally {
      if (!done) {
        done = true;
        fn();
      }
    }
  };
}

/** Saves every new resume token, in order, so a restart resumes right after the last event handed out. */
function persistTokens(stream: ChangeStream, store: ResumeTokenStore, key: string, core: PolyMongoCore<NativePool, Db>): void {
  let chain = Promise.resolve();
  stream.on('resumeTokenChanged', (token: ResumeToken) => {
    chain = chain
      .then(() => store.save(key, token))
      .catch((error) => core.logger.warn({ key, err: redactText(String(error)) }, 'saving a resume token failed'));
  });
}

/** The tenant of a database name under identity or prefix naming; undefined when it cannot be told. */
export function tenantFromDbName(dbName: string, naming: TenantNaming): string | undefined {
  if (naming === 'identity') return dbName;
  if (typeof naming === 'object' && dbName.startsWith(naming.prefix)) return dbName.slice(naming.prefix.length);
  return undefined;
}
