import { ConfigError, type LoggerLike, type Route, redactText } from '@polymongo/core';
import type { ChangeStream, ChangeStreamOptions, Db, Document, MongoClient, ResumeToken } from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import { asError, type Change, pumpStream, resolveMaxInFlight } from './ChangePump.js';
import type { ResumeTokenStore } from './ResumeTokenStore.js';
import { TenantFanOut } from './TenantFanOut.js';
import { type ClosableStream, onStreamClosed } from './trackStream.js';

export interface WatchOptions extends ChangeStreamOptions {
  /** Watch one collection of the tenant; default: the tenant's whole database. */
  collection?: string;
  pipeline?: Document[];
  /**
   * Consume the stream with flow control: PolyMongo reads the stream (iterator mode) and calls `handler` for each
   * change, with at most `maxInFlight` calls unresolved; while they are, no getMore is issued. A handler that throws
   * stops the stream (an `error` event on it and on PolyMongo). Do not also add `change` listeners or call `next()`.
   */
  handler?: (change: Change) => Promise<void> | void;
  /** Handler calls that may be unresolved at once. Default 1. Also the default `batchSize`, so buffering stays bounded. */
  maxInFlight?: number;
}

/**
 * When `resumeWatch` saves a token:
 * - `handled`: after the handler's promise resolved for that change and every earlier one (at-least-once; the
 *   default with a `handler`);
 * - `delivered`: as soon as the driver hands a change out (the default without a handler; a crash mid-processing
 *   loses the changes handed out but not processed);
 * - `manual`: never; acknowledge yourself with `store.save(key, change._id)` once a change is processed.
 */
export type CommitMode = 'handled' | 'delivered' | 'manual';

export interface ResumableWatchOptions extends WatchOptions {
  store: ResumeTokenStore;
  /** Names the stream in the store; one key per logical consumer. */
  key: string;
  commit?: CommitMode;
}

export interface WatchAllOptions extends ChangeStreamOptions {
  /** Only these tenants (one $match on ns.db); default: every database on the cluster(s). */
  tenants?: string[];
  collection?: string;
  pipeline?: Document[];
  /** Persist resume tokens (one per cluster stream) and resume from them on start. */
  store?: ResumeTokenStore;
  key?: string;
  /** With a `store`: when tokens are saved (see `CommitMode`); `handled` needs a `handler`. */
  commit?: CommitMode;
  /** Called per change with its tenant, at most `maxInFlight` unresolved calls per tenant (see `TenantFanOut`). */
  handler?: (tenantId: string, change: Change) => Promise<void> | void;
  /** Handler calls per tenant that may be unresolved at once. Default 1. */
  maxInFlight?: number;
}

/** What the watch manager needs from the core: the adapter host's stream-related part. */
export interface StreamHost {
  readonly logger: LoggerLike;
  acquire(tenant?: string | null): { route: Route; handle: Db; pool: { pool: NativePool } };
  pin(route: Route): () => void;
  streamOpened(): void;
  streamClosed(): void;
}

export interface StreamEnvironment {
  host: StreamHost;
  /** Each cluster's shared client, for `watchAll` without a tenant list. */
  clusterClients(): Array<{ poolKey: string; client: MongoClient }>;
  /** The tenant of a database name (inverse of `tenantDb` naming), undefined when it cannot be told. */
  tenantForDatabase(dbName: string): string | undefined;
  /** A PolyMongo `error` event. */
  emitError(error: Error, poolKey?: string): void;
}

/** Change stream counters for `stats()`. */
export interface StreamStats {
  /** Tracked streams open now (the same number as `openStreams`). */
  open: number;
  /** Stream errors seen (resumable blips the driver recovers from are not errors). */
  errors: number;
  /** `watchAll` changes whose database maps to no tenant, so no listener got them. */
  unrouted: number;
}

const MAX_WARNED_DATABASES = 1_000;

/** Tracks every change stream a client opens: open streams pin their tenant, and close() closes them all. */
export class WatchManager {
  private readonly byTenant = new Map<string, Set<ClosableStream>>();
  private readonly fanOuts = new Set<TenantFanOut>();
  private readonly warnedDatabases = new Set<string>();
  private errors = 0;
  private unrouted = 0;
  private open = 0;
  /** Token saves not finished yet; `closeAll` (so `poly.close()`) waits for them before the clients close. */
  private readonly pendingSaves = new Set<Promise<void>>();

  constructor(private readonly env: StreamEnvironment) {}

  watch(tenant: string | undefined | null, options: WatchOptions = {}): ChangeStream {
    const { collection, pipeline = [], handler, maxInFlight: _max, ...streamOptions } = options;
    const maxInFlight = resolveMaxInFlight(options);
    const { route, handle } = this.env.host.acquire(tenant);
    const driverOptions = handler && streamOptions.batchSize === undefined ? { ...streamOptions, batchSize: maxInFlight } : streamOptions;
    const stream = collection ? handle.collection(collection).watch(pipeline, driverOptions) : handle.watch(pipeline, driverOptions);
    this.track(route, stream);
    if (handler) pumpStream(stream, handler, maxInFlight, { fail: (error) => failStream(stream, error) });
    return stream;
  }

  async resumeWatch(tenant: string | undefined | null, options: ResumableWatchOptions): Promise<ChangeStream> {
    const { store, key, commit = options.handler ? 'handled' : 'delivered', handler, maxInFlight: _max, ...rest } = options;
    if (commit === 'handled' && !handler) {
      throw new ConfigError([
        { path: 'commit', message: "'handled' needs a handler; iterate yourself with commit: 'manual' and save tokens" },
      ]);
    }
    const maxInFlight = resolveMaxInFlight(options);
    const token = await store.load(key);
    const base: WatchOptions = handler && rest.batchSize === undefined ? { ...rest, batchSize: maxInFlight } : rest;
    const watchOptions: WatchOptions = token ? { ...base, resumeAfter: token, startAfter: undefined } : base;
    const stream = this.watch(tenant, watchOptions);
    if (commit === 'delivered')
      persistDelivered(
        stream,
        this.ordered((t) => this.saveToken(store, key, t)),
      );
    if (handler) {
      const saves = commit === 'handled' ? this.ordered((t: ResumeToken) => this.saveToken(store, key, t)) : undefined;
      pumpStream(stream, handler, maxInFlight, {
        ...(saves ? { commit: saves } : {}),
        fail: (error) => failStream(stream, error),
      });
    }
    return stream;
  }

  /**
   * Tracks a stream opened elsewhere (the Mongoose adapter's `Model.db(t).watch()`, the 1.x compat entry): it pins
   * the tenant until closed, counts in `stats()`, reports its errors, and is closed by `closeStreams`/`close()`.
   */
  track(route: Route, stream: ClosableStream): void {
    const set = this.tenantSet(route.tenantId);
    const release = this.env.host.pin(route);
    this.env.host.streamOpened();
    this.open += 1;
    set.add(stream);
    stream.on('error', (error: Error) => this.report(error, route));
    onStreamClosed(stream, () => {
      set.delete(stream);
      if (set.size === 0) this.byTenant.delete(route.tenantId);
      release();
      this.open -= 1;
      this.env.host.streamClosed();
    });
  }

  private tenantSet(tenantId: string): Set<ClosableStream> {
    let set = this.byTenant.get(tenantId);
    if (!set) {
      set = new Set();
      this.byTenant.set(tenantId, set);
    }
    return set;
  }

  watchAll(options: WatchAllOptions): TenantFanOut {
    const {
      tenants,
      collection,
      pipeline = [],
      store,
      key = 'watchAll',
      handler,
      maxInFlight: _max,
      commit: _commit,
      ...streamOptions
    } = options;
    const maxInFlight = resolveMaxInFlight(options);
    const commit = options.commit ?? (handler ? 'handled' : 'delivered');
    if (commit === 'handled' && !handler) {
      throw new ConfigError([{ path: 'commit', message: "'handled' needs a handler; use 'delivered' or pass a handler" }]);
    }
    const host = this.env.host;
    const groups = new Map<string, { client: MongoClient; routes: Route[] }>();
    if (tenants && tenants.length > 0) {
      for (const t of tenants) {
        const { route, pool } = host.acquire(t);
        const group = groups.get(route.poolKey) ?? { client: pool.pool.client, routes: [] };
        group.routes.push(route);
        groups.set(route.poolKey, group);
      }
    } else {
      for (const { poolKey, client } of this.env.clusterClients()) groups.set(poolKey, { client, routes: [] });
    }
    const fan = new TenantFanOut(
      async (self) => {
        for (const [poolKey, { client, routes }] of groups) {
          const byDb = new Map(routes.map((r) => [r.dbName, r.tenantId]));
          const match: Document = {};
          if (routes.length > 0) match['ns.db'] = { $in: [...byDb.keys()] };
          if (collection) match['ns.coll'] = collection;
          const storeKey = `${key}:${poolKey}`;
          const token = store ? await store.load(storeKey) : undefined;
          const stream = client.watch(Object.keys(match).length > 0 ? [{ $match: match }, ...pipeline] : pipeline, {
            ...(handler ? { batchSize: maxInFlight } : {}),
            ...streamOptions,
            ...(token ? { resumeAfter: token } : {}),
          });
          const save = store ? (t: ResumeToken) => this.saveToken(store, storeKey, t) : undefined;
          if (save && commit === 'delivered') persistDelivered(stream, this.ordered(save));
          const releases = routes.map((r) => host.pin(r));
          host.streamOpened();
          this.open += 1;
          onStreamClosed(stream, () => {
            for (const release of releases) release();
            this.open -= 1;
            host.streamClosed();
          });
          const commitHandled = save && commit === 'handled' ? this.ordered(save) : undefined;
          await self.attach(stream, {
            handler,
            maxInFlight,
            tenantOfDb: (db) => byDb.get(db) ?? (routes.length > 0 ? undefined : this.env.tenantForDatabase(db)),
            ...(commitHandled ? { commit: (_index: number, t: ResumeToken) => commitHandled(t) } : {}),
            unrouted: (dbName) => this.noteUnrouted(dbName, poolKey),
          });
        }
      },
      (error) => this.report(error),
    );
    this.fanOuts.add(fan);
    const closeFan = fan.close.bind(fan);
    fan.close = async () => {
      this.fanOuts.delete(fan);
      await closeFan();
    };
    return fan;
  }

  stats(): StreamStats {
    return { open: this.open, errors: this.errors, unrouted: this.unrouted };
  }

  async closeStreams(tenantId: string): Promise<number> {
    const streams = [...(this.byTenant.get(tenantId) ?? [])];
    await Promise.all(streams.map((s) => Promise.resolve(s.close()).catch(() => undefined)));
    return streams.length;
  }

  async closeAll(): Promise<number> {
    const streams = [...this.byTenant.values()].flatMap((s) => [...s]);
    const fans = [...this.fanOuts];
    await Promise.all([...streams.map((s) => Promise.resolve(s.close()).catch(() => undefined)), ...fans.map((f) => f.close())]);
    while (this.pendingSaves.size > 0) await Promise.all(this.pendingSaves);
    return streams.length + fans.length;
  }

  /** Makes a stream error visible: a counter, a log line and a PolyMongo `error` event. */
  private report(error: unknown, route?: Route): void {
    const err = asError(error);
    this.errors += 1;
    this.env.host.logger.warn({ tenant: route?.tenantId, err: redactText(String(err.message)) }, 'change stream error');
    this.env.emitError(err, route?.poolKey);
  }

  /** A watchAll change no tenant owns: counted always; logged and raised once per database name. */
  private noteUnrouted(dbName: string, poolKey: string): void {
    this.unrouted += 1;
    if (this.warnedDatabases.has(dbName) || this.warnedDatabases.size >= MAX_WARNED_DATABASES) return;
    this.warnedDatabases.add(dbName);
    const error = new ConfigError([
      {
        path: 'tenantDb',
        message: `watchAll cannot tell the tenant of database "${redactText(dbName)}", so its changes are not delivered; pass watchAll({ tenants }) or give a function tenantDb its inverse (tenantDbInverse)`,
      },
    ]);
    this.env.host.logger.warn({ db: redactText(dbName), poolKey }, 'watchAll change from a database with no tenant was not delivered');
    this.env.emitError(error, poolKey);
  }

  /**
   * Runs saves one after another, so a slow save never lets an older token overwrite a newer one; each chain's tail
   * is pending until it settles (saveToken never rejects).
   */
  private ordered(save: (token: ResumeToken) => Promise<void>): (token: ResumeToken) => void {
    let chain = Promise.resolve();
    return (token) => {
      const tail = chain.then(() => save(token));
      chain = tail;
      this.pendingSaves.add(tail);
      void tail.then(() => this.pendingSaves.delete(tail));
    };
  }

  private async saveToken(store: ResumeTokenStore, key: string, token: ResumeToken): Promise<void> {
    try {
      await store.save(key, token);
    } catch (error) {
      this.report(new Error(`saving the resume token of "${key}" failed: ${asError(error).message}`));
    }
  }
}

/** Saves every new resume token, in order, as soon as the driver hands a change out (`commit: 'delivered'`). */
function persistDelivered(stream: ChangeStream, enqueue: (token: ResumeToken) => void): void {
  stream.on('resumeTokenChanged', (token: ResumeToken) => enqueue(token));
}

/** Raises a consumer's failure as the stream's `error` event, which `track` reports (counter, log, PolyMongo event). */
function failStream(stream: ChangeStream, error: Error): void {
  (stream as unknown as { emit(event: 'error', error: Error): boolean }).emit('error', error);
}
