import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import PolyMongo from '@polymongo/mongoose/compat';
import { PolyMongo as NativePolyMongo } from '@polymongo/native';
import mongoose, { Schema } from 'mongoose';
import { describe, expect, test, vi } from 'vitest';
import { compatLogger } from '../../src/compat/logger.js';
import { tenantId, useServer } from '../helpers.js';

type PolyMongoWrapper = PolyMongo.Wrapper;

const env = useServer();
const CompatUser = mongoose.model('CompatUser', new Schema({ name: String, email: String }));

function wrapper(options: Partial<Parameters<typeof PolyMongo.createWrapper>[0]> = {}): PolyMongoWrapper {
  const w = PolyMongo.createWrapper({ mongoURI: env.mongo.uri, ...options });
  env.cleanup.push(() => w.forceCloseAll());
  return w;
}

describe('PolyMongo 1.x compatibility: createWrapper', () => {
  test('invalid URIs throw at createWrapper', () => {
    for (const mongoURI of ['not-a-valid-uri', 'javascript:alert(1)', 'http://example.com']) {
      expect(() => PolyMongo.createWrapper({ mongoURI })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
    expect(() => PolyMongo.createWrapper({} as never)).toThrow(/mongoURI/);
    expect(() => PolyMongo.createWrapper({ mongoURI: env.mongo.uri, maxPoolSize: 0 })).toThrow(/maxPoolSize/);
  });

  test('wrapModel().db(name) reads and writes that database; null or empty falls back to the default', async () => {
    const defaultDB = tenantId('defdb');
    const w = wrapper({ defaultDB });
    const User = w.wrapModel(CompatUser);
    const t = tenantId('t1');
    await User.db(t).create({ name: 'in t1' });
    await User.db(null).create({ name: 'in default' });
    await User.db('').create({ name: 'also default' });
    await User.create({ name: 'no db() call' });
    expect(await User.db(t).countDocuments()).toBe(1);
    expect(await env.observer.db(defaultDB).collection(CompatUser.collection.collectionName).countDocuments()).toBe(3);
  });

  test("with a database in the URI, db('x') goes to x and db() to defaultDB or 'default', as in 1.3.0", async () => {
    const uriDb = tenantId('uri');
    const url = new URL(env.mongo.uri);
    url.pathname = `/${uriDb}`;
    const w = wrapper({ mongoURI: url.toString() });
    const User = w.wrapModel(CompatUser);
    const t = tenantId('x');
    await User.db(t).create({ name: 'x' });
    expect(await env.observer.db(t).collection(CompatUser.collection.collectionName).countDocuments()).toBe(1);
    expect(User.db().db.name).toBe('default');
    expect(await env.observer.db(uriDb).collection(CompatUser.collection.collectionName).countDocuments()).toBe(0);
  });

  test('preferURI: true (opt-in) sends every call to the URI database', async () => {
    const uriDb = tenantId('uri');
    const url = new URL(env.mongo.uri);
    url.pathname = `/${uriDb}`;
    const w = wrapper({ mongoURI: url.toString(), preferURI: true });
    const User = w.wrapModel(CompatUser);
    await User.db(tenantId('ignored')).create({ name: 'x' });
    expect(await env.observer.db(uriDb).collection(CompatUser.collection.collectionName).countDocuments()).toBe(1);
  });

  test("no database anywhere: 'default'", async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    expect(User.db().db.name).toBe('default');
  });

  test('suspicious database names reject with INVALID_TENANT and create nothing', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    const before = (await env.observer.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    for (const bad of ['$admin', 'db; drop database', 'a.b', '../../etc']) {
      await expect(
        (async () => {
          await User.db(bad).create({ name: 'x' });
        })(),
      ).rejects.toMatchObject({ code: 'INVALID_TENANT' });
    }
    const after = (await env.observer.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    expect(after).toEqual(before);
  });
});

describe('PolyMongo 1.x compatibility: state, stats and events', () => {
  test('connect, isConnected, getConnectionState, disconnect, and reconnecting', async () => {
    const w = wrapper({ coldStart: true });
    expect(w.getConnectionState()).toBe('not initialized');
    expect(w.isConnected()).toBe(false);
    const events: string[] = [];
    w.on('connect', (e) => events.push((e as { name: string }).name));
    w.on('disconnect', (e) => events.push((e as { name: string }).name));
    const connected = await w.connect();
    expect(connected).toMatchObject({ success: true, alreadyConnected: false, defaultDB: 'default', state: 'connected' });
    expect(connected.connection.readyState).toBe(1);
    expect(w.isConnected()).toBe(true);
    expect(w.getConnectionState()).toBe('connected');
    expect(await w.disconnect()).toMatchObject({ success: true, state: 'disconnected' });
    expect(w.getConnectionState()).toBe('not initialized'); // 1.3.0 forgets its primary connection
    await w.connect();
    expect(w.isConnected()).toBe(true);
    expect(events).toEqual(['connect', 'disconnect', 'connect']);
  });

  test('ping answers in the 1.3 shape; on() returns an unsubscribe; onDbConnect fires once per database', async () => {
    const w = wrapper();
    const pong = await w.ping();
    expect(pong).toMatchObject({ ok: true, dbName: 'default' });
    expect(pong.latency).toBeGreaterThanOrEqual(0);
    const dbs: unknown[] = [];
    const aliases: unknown[] = [];
    const off = w.on('onDbConnect', (event) => dbs.push(event.dbName));
    w.on('connect', (event) => aliases.push([event.name, event.dbName, event.connection.name, event.readyState]));
    const User = w.wrapModel(CompatUser);
    const t = tenantId('ev');
    User.db(t);
    User.db(t);
    await expect.poll(() => dbs).toEqual([t]);
    off();
    User.db(tenantId('after-off'));
    await Promise.resolve();
    expect(dbs).toEqual([t]);
    expect(aliases[0]).toEqual(['connect', t, t, 1]);
  });

  test('stats() has the 1.x shape, and stats.general/db/listDatabases the 1.3 ones', async () => {
    const w = wrapper({ maxPoolSize: 7, minFreeConnections: 2, idleTimeoutMS: 30000 });
    const User = w.wrapModel(CompatUser);
    const t = tenantId('st');
    await User.db(t).create({ name: 's' });
    const stats = w.stats();
    expect(stats.databases).toContain(t);
    expect(stats.activeConnections).toBeGreaterThanOrEqual(1);
    expect(stats.poolStats).toEqual({
      totalConnections: stats.activeConnections,
      maxPoolSize: 7,
      minFreeConnections: 2,
      idleTimeoutMS: 30000,
    });
    const general = w.stats.general();
    expect(general).toMatchObject({ totalActivePools: 1, separateDB: [] });
    // As 1.3.0: sharedDatabases lists what its connection manager served (ping, stats.db, actions), not model use.
    expect(general.primary?.sharedDatabases).toEqual([]);
    expect(general.primary?.poolStats).toMatchObject({ maxPoolSize: 7, minPoolSize: 2 });
    const dbStats = await w.stats.db(t);
    expect(w.stats.general().primary?.sharedDatabases).toEqual([t]);
    expect(dbStats).toMatchObject({ numCollections: 1, isInitialized: true });
    expect(dbStats.collections[0]).toMatchObject({ name: CompatUser.collection.collectionName, docCount: 1 });
    expect((await w.stats.listDatabases()).map((d) => d.dbName)).toContain(t);
  });

  test('stats.general() reads one stats snapshot, however many pools there are', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    await User.db(tenantId('one')).create({ name: 's' });
    const stats = vi.spyOn(NativePolyMongo.prototype, 'stats');
    env.cleanup.push(async () => stats.mockRestore());
    expect(w.stats.general().primary?.poolStats).toMatchObject({ maxPoolSize: expect.any(Number) });
    expect(stats).toHaveBeenCalledTimes(1);
  });

  test('Model.db(name) reaches its database without resolving the route a second time', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    const t = tenantId('route');
    User.db(t);
    const route = vi.spyOn(NativePolyMongo.prototype, 'route');
    env.cleanup.push(async () => route.mockRestore());
    expect(User.db(t).db.name).toBe(t);
    expect(w.stats().databases).toEqual([t]);
    expect(route).not.toHaveBeenCalled();
  });
});

describe('PolyMongo 1.x compatibility: operations', () => {
  test('transaction commits on success and aborts on error', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    const [a, b] = [tenantId('ta'), tenantId('tb')];
    await User.db(a).createCollection();
    await User.db(b).createCollection();
    await w.transaction(async (session) => {
      await User.db(a).create([{ name: 'a' }], { session });
      await User.db(b).create([{ name: 'b' }], { session });
    });
    await w
      .transaction(async (session) => {
        await User.db(a).create([{ name: 'rolled back' }], { session });
        throw new Error('nope');
      })
      .catch(() => undefined);
    expect(await User.db(a).countDocuments()).toBe(1);
    expect(await User.db(b).countDocuments()).toBe(1);
  });

  test('watch streams are tracked; closeDBstream and closeAllWatches close them', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    const [a, b] = [tenantId('wa'), tenantId('wb')];
    await User.db(a).create({ name: 'seed' });
    await User.db(b).create({ name: 'seed' });
    const sa = User.db(a).watch();
    const sb = User.db(b).watch();
    expect(w.openWatches).toBe(2);
    await w.closeDBstream(a);
    expect(sa.closed).toBe(true);
    expect(sb.closed).toBe(false);
    await w.actions.closeAllWatches();
    expect(sb.closed).toBe(true);
    expect(w.openWatches).toBe(0);
  });

  test('dropDatabase drops the data and forgets the database', async () => {
    const w = wrapper();
    const User = w.wrapModel(CompatUser);
    const t = tenantId('drop');
    await User.db(t).create({ name: 'x' });
    await w.bulkTasks.dropDatabase(t);
    const names = (await env.observer.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    expect(names).not.toContain(t);
  });

  test('scale.setDB, scale.connectDB and dbSpecific give databases dedicated pools', async () => {
    const special = tenantId('special');
    const w = wrapper({ dbSpecific: [{ dbName: special, options: { maxConnections: 3, autoClose: false, coldStart: true } }] });
    const User = w.wrapModel(CompatUser);
    await User.db(special).create({ name: 'x' });
    const lazy = tenantId('lazy');
    const eager = tenantId('eager');
    w.scale.setDB([lazy], { maxConnections: 2, autoClose: true, ttl: 60000 });
    await w.pool.connect([eager], { maxConnections: 2 });
    await User.db(lazy).create({ name: 'y' });
    const separate = w.stats.general().separateDB;
    expect(separate.map((p) => p.dbName).sort()).toEqual([eager, lazy, special].sort());
    expect(separate.find((p) => p.dbName === special)?.config.maxConnections).toBe(3);
    expect(separate.find((p) => p.dbName === lazy)?.config).toMatchObject({ autoClose: true, ttl: 60000 });
    expect(() => w.scale.setDB(['x'], { maxConnections: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  test('adv exposes mongoose and the primary and per-database connections', async () => {
    const w = wrapper();
    expect(w.adv.mongoose).toBe(mongoose);
    const primary = await w.adv.getOrCreatePrimaryConnection();
    expect(primary.readyState).toBe(1);
    expect(w.adv.getPrimaryConnection()).toBe(primary);
    const t = tenantId('adv');
    expect(w.adv.getConnection(t).name).toBe(t);
    expect(w.adv.getSharedConnection(t)).toBe(w.adv.getConnection(t));
  });

  test('forceCloseAll closes at once; closeAll twice is safe', async () => {
    const w = wrapper();
    await w.connect();
    await w.forceCloseAll();
    await w.actions.forceCloseAll();
    expect(w.isConnected()).toBe(false);
  });

  test("debug logHandler and logPath get 1.3.0's lines and files (polymongo-<time>.log, error.log)", async () => {
    const lines: string[] = [];
    const logPath = mkdtempSync(join(tmpdir(), 'pm-log-'));
    const url = new URL(env.mongo.uri);
    const w = wrapper({ mongoURI: env.mongo.uri, debug: { log: true, logHandler: (l) => lines.push(l) }, logPath });
    await w.connect();
    await w.closeAll();
    expect(lines[0]).toMatch(
      /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[INFO\] \[PolyMongo Debug\] Creating PolyMongoWrapper with options: \{/,
    );
    expect(lines.every((l) => /^\[[^\]]+\] \[(INFO|WARN|ERROR)\] /.test(l))).toBe(true);
    const files = readdirSync(logPath).sort();
    expect(files).toEqual(['error.log', expect.stringMatching(/^polymongo-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.log$/)]);
    const main = readFileSync(join(logPath, files[1] as string), 'utf8')
      .trimEnd()
      .split('\n');
    expect(main[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO\] \[PolyMongo Debug\] Creating PolyMongoWrapper with options: /);
    expect(main.every((l) => /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[(INFO|WARN|ERROR)\] /.test(l))).toBe(true);
    expect(main.join('\n')).toContain(url.host);
    expect(readFileSync(join(logPath, 'error.log'), 'utf8')).toBe('');
  });

  test('without debug, logPath gets the files but only warnings and errors; errors also go to error.log', () => {
    const logPath = mkdtempSync(join(tmpdir(), 'pm-log-'));
    const at = new Date('2026-01-02T03:04:05.678Z');
    const logger = compatLogger(false, logPath, { now: () => at });
    logger.info({}, 'not written');
    logger.child({ pool: 'shared' }).error({ err: new Error('boom mongodb://u:pw@h:1/x') }, 'pool failed');
    logger.warn({}, 'careful');
    const main = readFileSync(join(logPath, 'polymongo-2026-01-02T03-04-05.log'), 'utf8');
    const time = `${at.getFullYear()}-01-02 ${String(at.getHours()).padStart(2, '0')}:04:05`;
    expect(main).toBe(`[${time}] [ERROR] pool failed {"pool":"shared","err":"boom mongodb://u:***@h:1/x"}\n[${time}] [WARN] careful\n`);
    expect(readFileSync(join(logPath, 'error.log'), 'utf8')).toBe(
      `[${time}] [ERROR] pool failed {"pool":"shared","err":"boom mongodb://u:***@h:1/x"}\n`,
    );
  });

  test('log files rotate as Winston maxsize/maxFiles do: <name>1.log, <name>2.log..., the newest 5 kept', () => {
    const logPath = mkdtempSync(join(tmpdir(), 'pm-log-'));
    const logger = compatLogger(true, logPath, { maxBytes: 100, now: () => new Date('2026-01-02T03:04:05.678Z') });
    for (let i = 0; i < 14; i++) logger.info({}, `line ${i} ${'x'.repeat(40)}`);
    const files = readdirSync(logPath)
      .filter((f) => f.startsWith('polymongo-'))
      .sort();
    // ~95-byte lines: two a file (Winston starts a new file once one reached maxsize), 7 files, the oldest 2 deleted.
    expect(files).toEqual(['2', '3', '4', '5', '6'].map((n) => `polymongo-2026-01-02T03-04-05${n}.log`));
    expect(readFileSync(join(logPath, 'polymongo-2026-01-02T03-04-056.log'), 'utf8')).toMatch(/line 12 x+\n.*line 13 x+\n$/);
  });

  test("the wrapper's own keys are 1.3.0's groups; printing it shows no password", () => {
    const w = wrapper({ mongoURI: 'mongodb://u:Sup3rSecret@127.0.0.1:1/x' });
    expect(Object.keys(w).sort()).toEqual(['actions', 'adv', 'bulkTasks', 'pool', 'scale', 'stats']);
    expect(inspect(w, { depth: 3 })).not.toContain('Sup3rSecret');
  });

  test("a dedicated pool's mongoURI password never reaches stats (dbSpecific, scale.connectDB)", async () => {
    const [eager, scaled] = [tenantId('pw-eager'), tenantId('pw-scaled')];
    const secretUri = (path: string) => `mongodb://pmuser:S3cretPassw0rd@127.0.0.1:1,127.0.0.2:1/${path}?serverSelectionTimeoutMS=200`;
    const w = wrapper({
      dbSpecific: [{ dbName: eager, mongoURI: secretUri(eager), options: { coldStart: false, autoClose: false } }],
    });
    w.on('error', () => undefined);
    await w.scale.connectDB([scaled], { mongoURI: secretUri(scaled), autoClose: false });
    const general = w.stats.general();
    expect(general.separateDB.map((d) => d.dbName).sort()).toEqual([eager, scaled].sort());
    expect(JSON.stringify(general)).toContain('127.0.0.1:1');
    expect(JSON.stringify(general)).not.toContain('S3cretPassw0rd');
  });

  test('a password in mongoURI never reaches logHandler or the logPath file', async () => {
    const lines: string[] = [];
    const logPath = mkdtempSync(join(tmpdir(), 'pm-log-'));
    const url = new URL(env.mongo.uri);
    url.username = 'pmuser';
    url.password = 'S3cretPassw0rd';
    const w = wrapper({ mongoURI: url.toString(), debug: { log: true, logHandler: (l) => lines.push(l) }, logPath });
    await w.connect().catch(() => undefined); // the embedded server may refuse the user; either way something is logged
    await w.forceCloseAll();
    // Lines from opening the pool and its failed authentication carry the URI, not only the constructor's two.
    await expect.poll(() => lines.slice(2).some((l) => l.includes(url.host))).toBe(true);
    expect(lines.join('\n')).not.toContain('S3cretPassw0rd');
    const file = join(logPath, readdirSync(logPath).find((f) => f.startsWith('polymongo-')) as string);
    expect(readFileSync(file, 'utf8')).toContain(url.host);
    expect(readFileSync(file, 'utf8')).not.toContain('S3cretPassw0rd');
  });
});
