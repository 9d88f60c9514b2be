import type { MongoClient } from 'mongodb';
import type { Child } from '../compat/installed.js';
import type { Subject } from './subjects.js';

type Wrapper = ReturnType<Subject['PolyMongo']['createWrapper']>;

export interface Context {
  subject: Subject;
  uri: string;
  /** A database-name prefix unique to this subject and scenario; observations show it as `<p>`. */
  prefix: string;
  observer: MongoClient;
  /** A second server (for dedicated pools with their own mongoURI) and a client on it. */
  otherUri: string;
  otherObserver: MongoClient;
  /** Creates a wrapper that the harness closes after the scenario. */
  wrapper(options?: Record<string, unknown>): Wrapper;
  /** Every error a scenario observed (the harness checks the compat entry's are PolyMongoErrors with a code). */
  errors: unknown[];
  /** Runs the subject's entry as a CommonJS app in a child process (see runApp in sidebyside.test.ts). */
  runApp(source: string): Child;
}

export type Scenario = (ctx: Context) => Promise<unknown>;

const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** `{ a: 1, b: { c: 'x' } }` → `{ a: 'number', b: { c: 'string' } }`: compares shapes, not values. */
export function shape(value: unknown, depth = 4): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return depth === 0 ? 'array' : value.length === 0 ? [] : [shape(value[0], depth - 1)];
  if (value instanceof Date) return 'Date';
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    if (depth === 0 || (ctor && ctor !== 'Object')) return ctor ?? 'object';
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k], depth - 1)]),
    );
  }
  return typeof value;
}

function model(ctx: Context, name: string) {
  const m = ctx.subject.mongoose;
  // One name for both subjects: the collection 1.3.0 derives from it is part of what is compared.
  const modelName = name;
  return m.models[modelName] ?? m.model(modelName, new m.Schema({ name: String, n: Number }), name.toLowerCase());
}

/** 'ok', or the rejection's message (compared as is: the compat entry keeps 1.3.0's messages). */
async function outcome(ctx: Context, run: () => unknown): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (error) {
    ctx.errors.push(error);
    return `rejected: ${(error as Error).message}`;
  }
}

/** Waits (bounded) until `check` holds; returns whether it did. */
async function until(check: () => boolean, timeoutMS = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMS;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Records the 1.3 events a wrapper fires, as comparable strings (the prefix is replaced by the harness). */
function record(w: Wrapper, events: Array<'connect' | 'disconnect' | 'error' | 'onDbConnect' | 'onDbDisconnect'>): string[] {
  const seen: string[] = [];
  for (const event of events) {
    w.on(event, (p) => {
      seen.push(`${event} ${p.name} ${p.dbName} ${p.readyState} ${p.state}${p.error ? ` error: ${p.error.message}` : ''}`);
    });
  }
  return seen;
}

async function counts(ctx: Context, dbName: string, client = ctx.observer) {
  const cols = await client.db(dbName).listCollections().toArray();
  const out: Record<string, number> = {};
  for (const c of cols.sort((a, b) => a.name.localeCompare(b.name)))
    out[c.name] = await client.db(dbName).collection(c.name).countDocuments();
  return out;
}

/** Every public 1.3.0 API, one scenario a concern. Each returns what a user could observe. */
export const scenarios: Record<string, Scenario> = {
  async 'createWrapper options: accepted and rejected as 1.3.0'(ctx) {
    const { PolyMongo } = ctx.subject;
    const base = { mongoURI: ctx.uri, coldStart: true };
    const cases: Record<string, Record<string, unknown>> = {
      'all documented options': {
        ...base,
        defaultDB: `${ctx.prefix}_d`,
        maxPoolSize: 5,
        minFreeConnections: 1,
        idleTimeoutMS: 1000,
        debug: { log: false },
        retry: 100,
        dbSpecific: [{ dbName: `${ctx.prefix}_s`, options: { maxConnections: 2, autoClose: true, ttl: 1000 } }],
      },
      'retry: 0': { ...base, retry: 0 },
      'retry: -1': { ...base, retry: -1 },
      'minFreeConnections > maxPoolSize': { ...base, maxPoolSize: 2, minFreeConnections: 3 },
      'maxPoolSize: 0': { ...base, maxPoolSize: 0 },
      'idleTimeoutMS: -1': { ...base, idleTimeoutMS: -1 },
      'debug: "yes"': { ...base, debug: 'yes' },
      'mongoURI http://': { mongoURI: 'http://example.com' },
      'mongoURI: 5': { mongoURI: 5 },
      'maxPoolSize: "5"': { ...base, maxPoolSize: '5' },
      'debug.log: "yes"': { ...base, debug: { log: 'yes' } },
      'logPath: 5': { ...base, logPath: 5 },
      'an option 1.3.0 does not know': { ...base, useNewUrlParser: true },
      'no mongoURI': {},
    };
    const out: Record<string, string> = {};
    for (const [name, options] of Object.entries(cases)) {
      out[name] = await outcome(ctx, async () => {
        const w = PolyMongo.createWrapper(options as never);
        await w.actions.forceCloseAll();
      });
    }
    return out;
  },

  async 'wrapModel and db(): where documents go and what find returns'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def` });
    const User = w.wrapModel(model(ctx, 'SbsUser'));
    await User.db(`${ctx.prefix}_a`).create({ name: 'a1', n: 1 });
    await User.db(`${ctx.prefix}_a`).create([{ name: 'a2', n: 2 }]);
    await User.db().create({ name: 'd1', n: 3 });
    await User.create({ name: 'd2', n: 4 });
    const found = await User.db(`${ctx.prefix}_a`).find().sort({ n: 1 }).lean();
    const one = await User.db().findOne().where('n').equals(4);
    return {
      names: found.map((u) => u.name),
      findOneIsDocument: typeof one?.save === 'function',
      dbNames: [User.db(`${ctx.prefix}_a`).db.name, User.db().db.name],
      count: await User.db(`${ctx.prefix}_a`).countDocuments(),
      server: { a: await counts(ctx, `${ctx.prefix}_a`), def: await counts(ctx, `${ctx.prefix}_def`) },
    };
  },

  async 'wrapModel rejects what is not a model, at once'(ctx) {
    const w = ctx.wrapper();
    const out: Record<string, string> = {};
    for (const [name, input] of Object.entries({ empty: {}, noSchema: { modelName: 'X' }, noName: { schema: {} }, null: null })) {
      out[name] = await outcome(ctx, () => w.wrapModel(input as never));
    }
    return out;
  },

  async 'a database in the URI: db() and db(x)'(ctx) {
    const url = new URL(ctx.uri);
    url.pathname = `/${ctx.prefix}_uri`;
    const w = ctx.wrapper({ mongoURI: url.toString() });
    const User = w.wrapModel(model(ctx, 'SbsUriUser'));
    await User.db(`${ctx.prefix}_x`).create({ name: 'x' });
    return {
      dbNames: [User.db().db.name, User.db(`${ctx.prefix}_x`).db.name],
      server: { x: await counts(ctx, `${ctx.prefix}_x`), uri: await counts(ctx, `${ctx.prefix}_uri`) },
    };
  },

  async 'connect, ping, isConnected, getConnectionState, disconnect'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def` });
    const out: Record<string, unknown> = { before: [w.isConnected(), w.getConnectionState()] };
    const first = await w.connect();
    out.connect = { shape: shape(first, 1), alreadyConnected: first.alreadyConnected, defaultDB: first.defaultDB };
    out.connected = [w.isConnected(), w.getConnectionState()];
    out.again = (await w.connect()).alreadyConnected;
    const pong = await w.ping();
    out.ping = { shape: shape(pong), dbName: pong.dbName };
    out.pingOther = (await w.ping(`${ctx.prefix}_o`)).dbName;
    const down = await w.disconnect();
    out.disconnect = down;
    out.after = [w.isConnected(), w.getConnectionState()];
    out.reconnect = (await w.connect()).success;
    return out;
  },

  async 'on(): connect/onDbConnect and disconnect/onDbDisconnect aliases, payloads, unsubscribe'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def` });
    const seen = new Set<string>();
    const payloadShapes = new Set<string>();
    for (const event of ['connect', 'onDbConnect', 'disconnect', 'onDbDisconnect'] as const) {
      w.on(event, (p) => {
        seen.add(`${event} ${p.name} ${p.dbName.replace(ctx.prefix, '<p>')} ${p.readyState} ${p.state} ${p.connection?.name === p.dbName}`);
        payloadShapes.add(JSON.stringify(Object.keys(p).sort()));
      });
    }
    const off = w.on('connect', () => seen.add('unsubscribed listener called'));
    off();
    const User = w.wrapModel(model(ctx, 'SbsEvUser'));
    await User.db(`${ctx.prefix}_a`).create({ name: 'a' });
    await w.pool.connect([`${ctx.prefix}_ded`]);
    await ticks();
    await w.actions.closeAll();
    await ticks();
    return { events: [...seen].sort(), payloadKeys: [...payloadShapes].sort() };
  },

  async 'stats.general, stats.db, stats.listDatabases shapes'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def` });
    const User = w.wrapModel(model(ctx, 'SbsStatsUser'));
    await User.db(`${ctx.prefix}_a`).create({ name: 'a' });
    const general = w.stats.general();
    const db = await w.stats.db(`${ctx.prefix}_a`);
    const list = await w.stats.listDatabases();
    return {
      general: {
        keys: Object.keys(general).sort(),
        primaryKeys: Object.keys(general.primary ?? {}).sort(),
        pools: general.totalActivePools,
      },
      db: { keys: Object.keys(db).sort(), numCollections: db.numCollections, collections: db.collections.map((c) => [c.name, c.docCount]) },
      list: { shape: shape(list), hasA: list.some((d) => d.dbName === `${ctx.prefix}_a`) },
    };
  },

  async 'watch, closeDBstream, closeAllWatches'(ctx) {
    const w = ctx.wrapper();
    const User = w.wrapModel(model(ctx, 'SbsWatchUser'));
    await User.db(`${ctx.prefix}_a`).create({ name: 'a' });
    const a = User.db(`${ctx.prefix}_a`).watch();
    const b = User.db(`${ctx.prefix}_b`).watch();
    await w.actions.closeDBstream(`${ctx.prefix}_a`);
    await ticks();
    const afterOne = [a.closed, b.closed];
    await w.actions.closeAllWatches();
    await ticks();
    return { afterOne, afterAll: [a.closed, b.closed] };
  },

  async 'scale and pool: dedicated pools'(ctx) {
    const w = ctx.wrapper();
    const User = w.wrapModel(model(ctx, 'SbsScaleUser'));
    const configured = w.pool.configure([`${ctx.prefix}_cfg`], { maxConnections: 3 });
    const connected = await w.pool.connect([`${ctx.prefix}_con`], { maxConnections: 2 });
    w.scale.setDB([`${ctx.prefix}_set`]);
    await w.scale.connectDB([`${ctx.prefix}_sc`]);
    await User.db(`${ctx.prefix}_con`).create({ name: 'c' });
    return {
      returns: [configured, connected],
      server: await counts(ctx, `${ctx.prefix}_con`),
    };
  },

  async 'actions: exportDB, importDB, copyDatabase, exportDBStream, importDBStream (and bulkTasks)'(ctx) {
    const w = ctx.wrapper();
    const src = `${ctx.prefix}_src`;
    await ctx.observer
      .db(src)
      .collection('items')
      .insertMany([
        { n: 1, s: 'a' },
        { n: 2, s: 'b' },
      ]);
    await ctx.observer.db(src).collection('items').createIndex({ s: 1 }, { name: 's_1' });
    await ctx.observer.db(src).collection('other').insertOne({ x: true });
    const exported = await w.actions.exportDB(src);
    const imported = await w.actions.importDB(`${ctx.prefix}_imp`, exported);
    const copied = await w.actions.copyDatabase(src, `${ctx.prefix}_copy`);
    const lines: string[] = [];
    for await (const chunk of w.actions.exportDBStream(src)) lines.push(...String(chunk).split('\n').filter(Boolean));
    const records = lines.map((l) => JSON.parse(l));
    const { Readable } = await import('node:stream');
    const streamed = await w.actions.importDBStream(`${ctx.prefix}_str`, Readable.from(lines.map((l) => `${l}\n`)), { batchSize: 1 });
    const strip = <T extends { importedAt?: unknown; database?: unknown; source?: unknown; target?: unknown }>(s: T) => ({
      ...s,
      importedAt: typeof s.importedAt,
      ...(s.database ? { database: String(s.database).replace(ctx.prefix, '<p>') } : {}),
      ...(s.source ? { source: String(s.source).replace(ctx.prefix, '<p>'), target: String(s.target).replace(ctx.prefix, '<p>') } : {}),
      collections: [...(s as unknown as { collections: Array<{ collection: string }> }).collections].sort((x, y) =>
        x.collection.localeCompare(y.collection),
      ),
    });
    const indexNames = async (db: string) => (await ctx.observer.db(db).collection('items').indexes()).map((i) => i.name).sort();
    return {
      bulkTasks: Object.keys(w.bulkTasks).sort(),
      actions: Object.keys(w.actions)
        .filter((k) => k !== 'transaction')
        .sort(),
      exported: {
        keys: Object.keys(exported).sort(),
        collections: Object.keys(exported.collections).sort(),
        items: exported.collections.items?.documents.map((d) => d.n),
        indexes: exported.collections.items?.indexes.map((i) => i.name),
      },
      imported: strip(imported),
      copied: strip(copied),
      stream: { types: [...new Set(records.map((r) => r.type))], meta: shape(records[0]) },
      streamed: strip(streamed),
      server: {
        imp: await counts(ctx, `${ctx.prefix}_imp`),
        copy: await counts(ctx, `${ctx.prefix}_copy`),
        str: await counts(ctx, `${ctx.prefix}_str`),
        indexes: [await indexNames(`${ctx.prefix}_imp`), await indexNames(`${ctx.prefix}_copy`), await indexNames(`${ctx.prefix}_str`)],
      },
      badImport: await outcome(ctx, () => w.actions.importDB(`${ctx.prefix}_bad`, {} as never)),
    };
  },

  async dropDatabase(ctx) {
    const w = ctx.wrapper();
    const User = w.wrapModel(model(ctx, 'SbsDropUser'));
    await User.db(`${ctx.prefix}_drop`).create({ name: 'x' });
    const result = await w.actions.dropDatabase(`${ctx.prefix}_drop`);
    const names = (await ctx.observer.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    return {
      result: result ?? 'undefined',
      stillListed: names.includes(`${ctx.prefix}_drop`),
      after: await User.db(`${ctx.prefix}_drop`).countDocuments(),
    };
  },

  async 'closeAll and forceCloseAll'(ctx) {
    const a = ctx.wrapper();
    const b = ctx.wrapper();
    await a.connect();
    await b.connect();
    const closed = await a.actions.closeAll();
    const forced = await b.actions.forceCloseAll();
    return {
      closed: closed ?? 'undefined',
      forced: forced ?? 'undefined',
      states: [a.getConnectionState(), b.getConnectionState()],
      twice: await outcome(ctx, () => a.actions.closeAll()),
    };
  },

  async transaction(ctx) {
    const w = ctx.wrapper();
    return {
      wrapper: typeof (w as { transaction?: unknown }).transaction,
      actions: typeof (w.actions as { transaction?: unknown }).transaction,
    };
  },

  async 'unsafe database names'(ctx) {
    const w = ctx.wrapper();
    const User = w.wrapModel(model(ctx, 'SbsUnsafeUser'));
    const out: Record<string, string> = {};
    for (const name of ['admin', '$admin', 'a.b']) out[name] = await outcome(ctx, () => User.db(name).db.name);
    return out;
  },

  async 'PolyMongo.Types and the module shape'(ctx) {
    const { PolyMongo } = ctx.subject;
    return { createWrapper: typeof PolyMongo.createWrapper, Types: shape(PolyMongo.Types), instance: ctx.wrapper() instanceof PolyMongo };
  },

  async 'events in order, duplicates counted'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def` });
    const events = record(w, ['connect', 'disconnect']);
    const User = w.wrapModel(model(ctx, 'SbsSeqUser'));
    await User.db(`${ctx.prefix}_a`).create({ name: 'a' });
    await User.db(`${ctx.prefix}_b`).find();
    await User.db().find();
    await User.db(`${ctx.prefix}_a`).find();
    await ticks();
    const afterUse = [...events];
    await w.actions.closeAll();
    await ticks();
    return { afterUse, afterClose: events.slice(afterUse.length) };
  },

  async 'a dedicated pool on another server: where model data lands'(ctx) {
    const w = ctx.wrapper();
    const User = w.wrapModel(model(ctx, 'SbsFarUser'));
    await w.pool.connect([`${ctx.prefix}_far`], { mongoURI: ctx.otherUri });
    await User.db(`${ctx.prefix}_far`).create({ name: 'far' });
    return { main: await counts(ctx, `${ctx.prefix}_far`), other: await counts(ctx, `${ctx.prefix}_far`, ctx.otherObserver) };
  },

  async 'stats() as the 1.x README calls it'(ctx) {
    const w = ctx.wrapper();
    await w.connect();
    let result: unknown;
    const called = await outcome(ctx, () => {
      result = (w as unknown as { stats: () => unknown }).stats();
    });
    return { called, keys: result && typeof result === 'object' ? Object.keys(result).sort() : null };
  },

  async 'options 1.3.0 does not check'(ctx) {
    const { PolyMongo } = ctx.subject;
    const base = { mongoURI: ctx.uri };
    const out: Record<string, string> = {};
    const cases: Record<string, () => unknown> = {
      'maxPoolSize: 1.5': () => PolyMongo.createWrapper({ ...base, maxPoolSize: 1.5 }),
      'dbSpecific entry without dbName': () => PolyMongo.createWrapper({ ...base, dbSpecific: [{ options: {} }] } as never),
      'pool.configure maxConnections: -1': () => ctx.wrapper().pool.configure([`${ctx.prefix}_neg`], { maxConnections: -1 }),
    };
    for (const [name, run] of Object.entries(cases))
      out[name] = await outcome(ctx, async () => {
        const w = (await run()) as { actions?: { forceCloseAll(): Promise<void> } } | undefined;
        await w?.actions?.forceCloseAll();
      });
    return out;
  },

  async 'a password in mongoURI: logged or not'(ctx) {
    const url = new URL(ctx.uri);
    url.username = 'sbsuser';
    url.password = 'Sbs-S3cret';
    const handled: string[] = [];
    // Created only (cold start): 1.3.0 logs its options, URI included, at once.
    ctx.wrapper({ mongoURI: url.toString(), debug: { log: true, logHandler: (l: string) => handled.push(l) } });
    await ticks();
    return { lines: handled.length > 0, passwordLogged: handled.some((l) => l.includes('Sbs-S3cret')) };
  },

  async "the wrapper's public API (1.3.0's index.d.ts)"(ctx) {
    const w = ctx.wrapper() as unknown as Record<string, unknown>;
    const methods = ['connect', 'disconnect', 'isConnected', 'getConnectionState', 'ping', 'on', 'wrapModel'];
    const groups = ['stats', 'pool', 'scale', 'actions', 'bulkTasks', 'adv'];
    return {
      methods: Object.fromEntries(methods.map((m) => [m, typeof w[m]])),
      groups: Object.fromEntries(
        groups.map((g) => [
          g,
          Object.keys(w[g] as object)
            .filter((k) => k !== 'transaction')
            .sort(),
        ]),
      ),
    };
  },

  async 'error events: a server that refuses connections'(ctx) {
    const w = ctx.wrapper({ mongoURI: 'mongodb://127.0.0.1:1', defaultDB: `${ctx.prefix}_err` });
    const events = record(w, ['connect', 'disconnect', 'error']);
    const connect = await outcome(ctx, () => w.connect());
    await until(() => events.some((e) => e.startsWith('error')));
    await ticks();
    return { connect, events, state: [w.isConnected(), w.getConnectionState()] };
  },

  async 'dbSpecific with coldStart: false connects its pool at once'(ctx) {
    const w = ctx.wrapper({
      defaultDB: `${ctx.prefix}_def`,
      dbSpecific: [
        { dbName: `${ctx.prefix}_eager`, options: { coldStart: false, maxConnections: 3 } },
        { dbName: `${ctx.prefix}_lazy`, options: { maxConnections: 2, autoClose: true, ttl: 60_000 } },
      ],
    });
    const events = record(w, ['connect', 'onDbConnect']);
    const connected = await until(() => events.some((e) => e.includes('_eager')));
    await ticks();
    const general = w.stats.general();
    return {
      connected,
      events,
      totalActivePools: general.totalActivePools,
      primary: general.primary,
      separateDB: general.separateDB.map((d) => ({
        dbName: d.dbName,
        mongoURI: d.mongoURI ?? 'undefined',
        readyState: d.readyState,
        isInitialized: d.isInitialized,
        config: d.config,
      })),
    };
  },

  async 'pool.connect with autoClose: the idle pool closes and fires disconnect'(ctx) {
    const w = ctx.wrapper();
    const events = record(w, ['connect', 'disconnect', 'onDbConnect', 'onDbDisconnect']);
    await w.pool.connect([`${ctx.prefix}_idle`], { autoClose: true, ttl: 300 });
    const opened = await until(() => events.some((e) => e.startsWith('connect') && e.includes('_idle')));
    const before = w.stats.general().separateDB.map((d) => [d.dbName, d.readyState]);
    const closed = await until(() => events.some((e) => e.startsWith('disconnect') && e.includes('_idle')));
    await ticks();
    return { opened, before, closed, events, after: w.stats.general().separateDB.map((d) => [d.dbName, d.readyState]) };
  },

  async 'importDBStream: failures recorded, stopOnError, bad streams'(ctx) {
    const w = ctx.wrapper();
    const { Readable } = await import('node:stream');
    const ndjson = (records: object[]) => Readable.from(records.map((r) => `${JSON.stringify(r)}\n`));
    const meta = { type: 'meta', format: 'polymongo.ndjson', version: 1, database: 'x', exportedAt: 'now' };
    const twoCollections = () =>
      ndjson([
        meta,
        { type: 'collection', collection: 'dups' },
        { type: 'document', collection: 'dups', document: { _id: 1, v: 'a' } },
        { type: 'document', collection: 'dups', document: { _id: 1, v: 'b' } },
        { type: 'collectionEnd', collection: 'dups' },
        { type: 'collection', collection: 'fine' },
        { type: 'index', collection: 'fine', index: { v: 2, key: { v: 1 }, name: 'v_1' } },
        { type: 'document', collection: 'fine', document: { _id: 2, v: 'c' } },
        { type: 'collectionEnd', collection: 'fine' },
      ]);
    const summary = await w.actions.importDBStream(`${ctx.prefix}_go`, twoCollections());
    const stopped = await outcome(ctx, () => w.actions.importDBStream(`${ctx.prefix}_stop`, twoCollections(), { stopOnError: true }));
    const badFormat = await outcome(ctx, () => w.actions.importDBStream(`${ctx.prefix}_bad`, ndjson([{ ...meta, version: 2 }])));
    const outOfOrder = await outcome(ctx, () =>
      w.actions.importDBStream(`${ctx.prefix}_bad`, ndjson([meta, { type: 'document', collection: 'x', document: { _id: 1 } }])),
    );
    const importCollectionsNotObject = await outcome(ctx, () => w.actions.importDB(`${ctx.prefix}_bad`, { collections: 5 } as never));
    return {
      summary: { ...summary, importedAt: typeof summary.importedAt },
      stopped,
      badFormat,
      outOfOrder,
      importCollectionsNotObject,
      server: { go: await counts(ctx, `${ctx.prefix}_go`), stop: await counts(ctx, `${ctx.prefix}_stop`) },
    };
  },

  async 'errors of actions: the messages 1.3.0 gives'(ctx) {
    const w = ctx.wrapper();
    return {
      dropWithoutName: await outcome(ctx, () => w.actions.dropDatabase('')),
      importNotAnExport: await outcome(ctx, () => w.actions.importDB(`${ctx.prefix}_x`, null as never)),
      wrapModel: await outcome(ctx, () => w.wrapModel({ modelName: 'X' } as never)),
      options: await outcome(ctx, () => ctx.subject.PolyMongo.createWrapper({ mongoURI: ctx.uri, logPath: 5 } as never)),
    };
  },

  async 'poolStats: real driver numbers'(ctx) {
    const w = ctx.wrapper({ maxPoolSize: 7 });
    await w.connect();
    await w.ping();
    const general = w.stats.general();
    return { primary: general.primary?.poolStats ?? null, total: general.totalConnectionsAcrossPools > 0 };
  },

  async 'stats values: general, db, listDatabases'(ctx) {
    const w = ctx.wrapper({ defaultDB: `${ctx.prefix}_def`, maxPoolSize: 7, minFreeConnections: 1, idleTimeoutMS: 5000 });
    const User = w.wrapModel(model(ctx, 'SbsValUser'));
    await User.db(`${ctx.prefix}_a`).create([
      { name: 'a', n: 1 },
      { name: 'b', n: 2 },
    ]);
    await User.db(`${ctx.prefix}_b`).create({ name: 'c', n: 3 });
    await w.pool.connect([`${ctx.prefix}_ded`], { maxConnections: 3 });
    const general = w.stats.general();
    const db = await w.stats.db(`${ctx.prefix}_a`);
    const list = await w.stats.listDatabases();
    return {
      // poolStats and the connection total are compared in 'poolStats: real driver numbers' (a listed difference).
      general: {
        totalActivePools: general.totalActivePools,
        totalConnectionsAcrossPools: typeof general.totalConnectionsAcrossPools,
        primary: general.primary && { ...general.primary, poolStats: 'compared apart' },
        separateDB: general.separateDB.map((d) => ({ ...d, lastAccessed: typeof d.lastAccessed, poolStats: 'compared apart' })),
      },
      db: { ...db, lastUsed: db.lastUsed instanceof Date, poolStats: 'compared apart' },
      list: list.filter((d) => d.dbName.startsWith(ctx.prefix)).sort((x, y) => x.dbName.localeCompare(y.dbName)),
    };
  },

  async 'logPath: the files and line format 1.3.0 writes'(ctx) {
    const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const logPath = mkdtempSync(join(tmpdir(), 'pm-sbs-log-'));
    const handled: string[] = [];
    const w = ctx.wrapper({ debug: { log: true, logHandler: (l: string) => handled.push(l) }, logPath });
    await w.connect();
    await w.ping();
    const files = () => readdirSync(logPath).sort();
    const main = () => files().find((f) => f.startsWith('polymongo-'));
    const read = (f: string | undefined) => (f ? readFileSync(join(logPath, f), 'utf8') : '');
    // Winston writes asynchronously: wait (bounded) for the first lines.
    await until(() => read(main()).includes('Cold start enabled'));
    const lines = read(main()).trimEnd().split('\n');
    const winstonLine = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[(INFO|WARN|ERROR)\] /;
    const handlerLine = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[(INFO|WARN|ERROR)\] /;
    return {
      files: files().map((f) => f.replace(/^polymongo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.log$/, 'polymongo-<time>.log')),
      firstLines: lines.slice(0, 2).map((l) => l.replace(winstonLine, '[<time>] [$1] ').replace(/options: .*/, 'options: <json>')),
      everyLine: lines.every((l) => winstonLine.test(l)),
      handler: {
        first: handled[0]?.replace(handlerLine, '[<iso>] [$1] ').replace(/options: .*/, 'options: <json>'),
        everyLine: handled.every((l) => handlerLine.test(l)),
      },
      errorLog: read('error.log'),
    };
  },

  async 'SIGTERM and SIGINT: close and exit (a child process)'(ctx) {
    const out: Record<string, unknown> = {};
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = ctx.runApp(`
const { writeSync } = require("node:fs");
const wrapper = PolyMongo.createWrapper({
  mongoURI: ${JSON.stringify(ctx.uri)},
  defaultDB: ${JSON.stringify(`${ctx.prefix}_sig`)},
  debug: { log: true, logHandler: (line) => { if (/received|closed successfully/.test(line)) writeSync(1, "LOG " + line.slice(line.indexOf("] ") + 2) + String.fromCharCode(10)); } },
});
wrapper.on("disconnect", (e) => writeSync(1, "EVENT disconnect " + e.dbName + String.fromCharCode(10)));
wrapper.connect().then(() => wrapper.ping()).then(() => console.log("READY"));
`);
      await child.line(/^READY$/);
      child.process.kill(signal);
      const exit = await child.exited;
      out[signal] = { exit, stdout: child.stdout.filter(Boolean), stderr: child.stderr.filter(Boolean) };
    }
    return out;
  },
};

/**
 * Where the compat entry differs from 1.3.0 on purpose, with the reason (docs/migrating-from-1x.md lists them too).
 * The harness asserts that these scenarios still differ, so a fix on either side updates this list.
 */
export const knownDifferences: Record<string, string> = {
  'unsafe database names':
    "1.3.0 passes 'admin', '$admin' and dotted names to the server; PolyMongo 2 refuses them with INVALID_TENANT before any network call.",
  transaction: 'PolyMongo 2 adds wrapper.transaction(fn) and actions.transaction(fn) (from the 1.x README); 1.3.0 has neither.',
  'a dedicated pool on another server: where model data lands':
    '1.3.0 opens the pool on the other server but keeps running models on the shared pool, so the data lands on the main server; the compat entry writes it where the pool was configured (a data-placement refusal).',
  'stats() as the 1.x README calls it':
    "The 1.x README's `wrapper.stats()` (its Express example's /stats route) is not a function in 1.3.0; the compat entry keeps it ({ activeConnections, databases, poolStats }).",
  'options 1.3.0 does not check':
    '1.3.0 accepts a fractional maxPoolSize, a dbSpecific entry without dbName and negative scale options, and fails later or never; the compat entry refuses them at the call with CONFIG_INVALID naming the field.',
  'a password in mongoURI: logged or not':
    "1.3.0 logs its options, the URI's password included; the compat entry redacts credentials in every line (a safety refusal).",
  'poolStats: real driver numbers':
    "1.3.0 reads the pool from a driver field that no longer exists (client.s.pool) and reports poolStats: null and 0 connections on driver 6+; the compat entry reports the pool's real numbers (an object where 1.3.0 gave null).",
};
