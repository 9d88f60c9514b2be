import { type ChangeStreamDocument, type CommandStartedEvent, type Document, MongoClient } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { ConfigError, InMemoryResumeTokenStore, type PolyMongo } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const FAST = { maxAwaitTimeMS: 50 };

type Event = ChangeStreamDocument<Document> & { fullDocument?: Document };

/** A promise the test resolves by hand: a handler that lags until released. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** getMore commands a client sends, counted through command monitoring. */
function countGetMores(poly: PolyMongo, tenant: string): { readonly count: number } {
  const counter = { count: 0 };
  poly.client(tenant).on('commandStarted', (e: CommandStartedEvent) => {
    if (e.commandName === 'getMore') counter.count += 1;
  });
  return counter;
}

/** A plain change stream on another client: when it has seen an insert, the server has had time to serve a getMore. */
async function controlStream(db: string, coll: string) {
  const client = await new MongoClient(env.mongo.uri).connect();
  const stream = client.db(db).collection(coll).watch([], FAST);
  const seen: number[] = [];
  stream.on('change', (e: Event) => seen.push(e.fullDocument?.i as number));
  return {
    seen,
    started: async () => {
      await stream.tryNext().catch(() => null);
    },
    close: async () => {
      await stream.close();
      await client.close();
    },
  };
}

describe('change streams with a handler (flow control)', () => {
  test('a lagging handler gets at most maxInFlight changes and the stream issues no getMore until it catches up', async () => {
    const poly = env.make({ monitorOperations: true });
    const t = tenantId('flow');
    await poly.db(t).collection('c').insertOne({ seed: true });
    const control = await controlStream(poly.route(t).dbName, 'c');
    await control.started();
    const getMores = countGetMores(poly, t);
    const lag = gate();
    const received: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const stream = poly.watch(t, {
      ...FAST,
      collection: 'c',
      maxInFlight: 2,
      handler: async (change) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        received.push((change as Event).fullDocument?.i as number);
        await lag.opened;
        running -= 1;
      },
    });
    await expect.poll(() => getMores.count).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) await poly.db(t).collection('c').insertOne({ i });
    await expect.poll(() => received.length).toBe(2);
    const stalledAt = getMores.count;
    // The control stream sees every insert, and more, while ours waits: time enough for many getMores.
    for (let i = 10; i < 15; i++) await poly.db(t).collection('c').insertOne({ i });
    await expect.poll(() => control.seen.length, { timeout: 10_000 }).toBe(15);
    expect(received).toEqual([0, 1]);
    expect(getMores.count).toBe(stalledAt);
    lag.open();
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(15);
    expect(received).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(maxRunning).toBeLessThanOrEqual(2);
    await stream.close();
    await control.close();
  });

  test('a handler that throws stops the stream and is reported on the stream, on poly and in stats', async () => {
    const poly = env.make();
    const t = tenantId('throws');
    const errors: Error[] = [];
    poly.on('error', (e) => errors.push(e.error));
    const streamErrors: Error[] = [];
    const stream = poly.watch(t, {
      ...FAST,
      collection: 'c',
      handler: () => {
        throw new Error('handler broke');
      },
    });
    stream.on('error', (e) => streamErrors.push(e));
    await expect.poll(() => poly.stats().openStreams).toBe(1);
    await poly.db(t).collection('c').insertOne({ i: 1 });
    await expect.poll(() => stream.closed, { timeout: 10_000 }).toBe(true);
    expect(streamErrors.map((e) => e.message)).toEqual(['handler broke']);
    expect(errors.map((e) => e.message)).toContain('handler broke');
    expect(poly.stats().streams.errors).toBe(1);
    // The driver flags the stream closed as its close() starts; the count drops once that close has finished.
    await expect.poll(() => poly.stats().openStreams).toBe(0);
  });

  test('closing a stream, a fan-out or the client while a handler waits for changes raises no error', async () => {
    const poly = env.make();
    const errors: Error[] = [];
    poly.on('error', (e) => errors.push(e.error));
    const t = tenantId('quiet');
    const got: number[] = [];
    const handler = (change: unknown) => void got.push((change as Event).fullDocument?.i as number);
    const a = poly.watch(t, { ...FAST, collection: 'c', handler });
    poly.watch(t, { ...FAST, collection: 'd', handler });
    const fan = poly.watchAll({ ...FAST, tenants: [t], collection: 'c', handler: (_t, change) => handler(change) });
    await fan.ready;
    await expect
      .poll(
        async () => {
          await poly.db(t).collection('c').insertOne({ i: 1 });
          return got.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(2);
    await a.close();
    await fan.close();
    await poly.close();
    expect(poly.stats().streams.errors).toBe(0);
    expect(errors).toEqual([]);
  });

  test('rejects maxInFlight without a handler, or not a positive integer, with CONFIG_INVALID', () => {
    const poly = env.make();
    expect(() => poly.watch('a', { maxInFlight: 2 })).toThrow(ConfigError);
    expect(() => poly.watch('a', { maxInFlight: 0, handler: () => {} })).toThrow(/positive integer/);
    expect(poly.stats().openStreams).toBe(0);
  });
});

describe('resumeWatch delivers at least once', () => {
  test('a consumer that crashes mid-processing loses no change on resume', async () => {
    const t = tenantId('crash');
    const store = new InMemoryResumeTokenStore();
    const first = env.make();
    await first.db(t).collection('c').insertOne({ seed: true });
    const processed: number[] = [];
    const crash = gate();
    const stream = await first.resumeWatch(t, {
      ...FAST,
      store,
      key: 'k',
      collection: 'c',
      maxInFlight: 3,
      handler: async (change) => {
        const i = (change as Event).fullDocument?.i as number;
        if (i >= 3) await crash.opened; // 3, 4 and 5 are being processed when the process dies
        processed.push(i);
      },
    });
    let started = false;
    stream.once('resumeTokenChanged', () => {
      started = true;
    });
    await expect.poll(() => started).toBe(true);
    await first
      .db(t)
      .collection('c')
      .insertMany(Array.from({ length: 7 }, (_, i) => ({ i })));
    await expect.poll(() => processed.length, { timeout: 10_000 }).toBe(3);
    await expect.poll(async () => (await store.load('k')) !== undefined).toBe(true);
    await first.forceClose(); // the crash: handlers for 3, 4, 5 never finish
    const second = env.make();
    const again: number[] = [];
    const resumed = await second.resumeWatch(t, {
      ...FAST,
      store,
      key: 'k',
      collection: 'c',
      handler: (change) => {
        again.push((change as Event).fullDocument?.i as number);
      },
    });
    await expect.poll(() => again.length, { timeout: 10_000 }).toBe(4);
    expect(again).toEqual([3, 4, 5, 6]);
    await resumed.close();
  });

  test("commit: 'delivered' keeps the old mode: the token moves when a change is handed out", async () => {
    const poly = env.make();
    const t = tenantId('delivered');
    const store = new InMemoryResumeTokenStore();
    await poly.db(t).collection('c').insertOne({ seed: true });
    const stream = await poly.resumeWatch(t, { ...FAST, store, key: 'k', collection: 'c', commit: 'delivered' });
    await stream.tryNext();
    await poly.db(t).collection('c').insertOne({ i: 1 });
    const change = (await stream.next()) as Event;
    await expect.poll(async () => JSON.stringify(await store.load('k'))).toBe(JSON.stringify(change._id));
    await stream.close();
  });
});

test("commit: 'manual' saves nothing until the consumer acknowledges with store.save", async () => {
  const poly = env.make();
  const t = tenantId('manual');
  const store = new InMemoryResumeTokenStore();
  const stream = await poly.resumeWatch(t, { ...FAST, store, key: 'k', collection: 'c', commit: 'manual' });
  await stream.tryNext();
  await poly.db(t).collection('c').insertOne({ i: 1 });
  const change = (await stream.next()) as Event;
  await poly.db(t).collection('c').findOne({}); // a round trip: time for a save, had one been queued
  expect(await store.load('k')).toBeUndefined();
  await store.save('k', change._id);
  expect(await store.load('k')).toEqual(change._id);
  await stream.close();
});

describe('watchAll with a handler', () => {
  test('each tenant gets at most maxInFlight changes at once, the stream pauses for a lagging tenant, nothing is lost', async () => {
    const poly = env.make({ monitorOperations: true });
    const [slow, fast] = [tenantId('slow'), tenantId('fast')];
    for (const t of [slow, fast]) await poly.db(t).collection('c').insertOne({ seed: true });
    const control = await controlStream(poly.route(fast).dbName, 'c');
    await control.started();
    const getMores = countGetMores(poly, slow);
    const lag = gate();
    const got = new Map<string, number[]>([
      [slow, []],
      [fast, []],
    ]);
    const running = new Map<string, number>();
    let maxRunning = 0;
    const fan = poly.watchAll({
      ...FAST,
      tenants: [slow, fast],
      collection: 'c',
      maxInFlight: 1,
      handler: async (tenant, change) => {
        running.set(tenant, (running.get(tenant) ?? 0) + 1);
        maxRunning = Math.max(maxRunning, running.get(tenant) ?? 0);
        got.get(tenant)?.push((change as Event).fullDocument?.i as number);
        if (tenant === slow) await lag.opened;
        running.set(tenant, (running.get(tenant) ?? 1) - 1);
      },
    });
    await fan.ready;
    await expect.poll(() => getMores.count).toBeGreaterThan(0);
    for (let i = 0; i < 6; i++) await poly.db(slow).collection('c').insertOne({ i });
    // One running and one waiting for the slow tenant: the stream stops pulling.
    await expect.poll(() => fan.waiting).toBe(1);
    const stalledAt = getMores.count;
    for (let i = 0; i < 4; i++) await poly.db(fast).collection('c').insertOne({ i });
    await expect.poll(() => control.seen.length, { timeout: 10_000 }).toBe(4);
    expect(got.get(slow)).toEqual([0]);
    expect(getMores.count).toBe(stalledAt);
    lag.open();
    await expect.poll(() => (got.get(slow)?.length ?? 0) + (got.get(fast)?.length ?? 0), { timeout: 10_000 }).toBe(10);
    expect(got.get(slow)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.get(fast)).toEqual([0, 1, 2, 3]);
    expect(maxRunning).toBe(1);
    await fan.close();
    await control.close();
  });
});

describe('watchAll with a store and a handler', () => {
  test('resumes at the oldest change not yet handled, across tenants', async () => {
    const [a, b] = [tenantId('wsa'), tenantId('wsb')];
    const store = new InMemoryResumeTokenStore();
    const first = env.make();
    for (const t of [a, b]) await first.db(t).collection('c').insertOne({ seed: true });
    const handled: string[] = [];
    const stuck = gate();
    const fan = first.watchAll({
      ...FAST,
      tenants: [a, b],
      collection: 'c',
      store,
      key: 'fan',
      maxInFlight: 2,
      handler: async (tenant, change) => {
        const i = (change as Event).fullDocument?.i as number;
        if (tenant === a && i === 1) await stuck.opened; // a's second change never finishes: the crash
        handled.push(`${tenant === a ? 'a' : 'b'}${i}`);
      },
    });
    await fan.ready;
    await expect
      .poll(
        async () => {
          await first.db(b).collection('c').insertOne({ i: -1 });
          return handled.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    for (const i of [0, 1, 2]) {
      await first.db(a).collection('c').insertOne({ i });
      await first.db(b).collection('c').insertOne({ i });
    }
    await expect.poll(() => handled.filter((h) => !h.endsWith('-1')).length, { timeout: 10_000 }).toBe(5);
    expect(handled).not.toContain('a1');
    await first.forceClose();
    const again: string[] = [];
    const second = env.make();
    const resumed = second.watchAll({
      ...FAST,
      tenants: [a, b],
      collection: 'c',
      store,
      key: 'fan',
      handler: (tenant, change) => {
        again.push(`${tenant === a ? 'a' : 'b'}${(change as Event).fullDocument?.i}`);
      },
    });
    await resumed.ready;
    // Everything from a1 on comes again (b1 and later were handled but sit after a1 in the stream): nothing lost.
    await expect.poll(() => again.length, { timeout: 10_000 }).toBe(4);
    expect(again).toEqual(['a1', 'b1', 'a2', 'b2']);
    await resumed.close();
  });
});

describe('nothing vanishes', () => {
  test('watchAll with function naming and no tenant list counts, logs and raises what it cannot route', async () => {
    const poly = env.make({ tenantDb: (id: string) => `fn_${id}` });
    const t = tenantId('fn');
    const errors: Error[] = [];
    poly.on('error', (e) => errors.push(e.error));
    const fan = poly.watchAll({ ...FAST, collection: 'c' });
    const unrouted: string[] = [];
    fan.on('unrouted', ({ dbName }) => unrouted.push(dbName));
    await fan.ready;
    await poly.db(t).collection('c').insertOne({ i: 1 });
    await poly.db(t).collection('c').insertOne({ i: 2 });
    await expect.poll(() => poly.stats().streams.unrouted, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(unrouted).toContain(`fn_${t}`);
    // Raised once per database, not once per change.
    expect(errors.filter((e) => e.message.includes(`fn_${t}`))).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'CONFIG_INVALID' });
    await fan.close();
  });

  test('watchAll with function naming and its inverse routes every change to its tenant', async () => {
    const poly = env.make({ tenantDb: (id: string) => `inv_${id}`, tenantDbInverse: (db: string) => db.slice('inv_'.length) });
    const t = tenantId('inv');
    const fan = poly.watchAll({ ...FAST, collection: 'c' });
    const got: string[] = [];
    fan.on('change', ({ tenantId }) => got.push(tenantId));
    await fan.ready;
    await expect
      .poll(
        async () => {
          await poly.db(t).collection('c').insertOne({ i: 1 });
          return got.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    expect(new Set(got)).toEqual(new Set([t]));
    expect(poly.stats().streams.unrouted).toBe(0);
    await fan.close();
  });

  test('a failing watchAll stream with no error listener still raises a PolyMongo error event and counts', async () => {
    const poly = env.make();
    const t = tenantId('fail');
    const errors: Error[] = [];
    poly.on('error', (e) => errors.push(e.error));
    const fan = poly.watchAll({ ...FAST, tenants: [t], collection: 'c' });
    await fan.ready;
    const admin = env.observer.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['getMore'], errorCode: 2, errorLabels: [] },
    });
    try {
      await expect.poll(() => fan.isClosed, { timeout: 10_000 }).toBe(true);
    } finally {
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect(errors).toHaveLength(1);
    expect(poly.stats().streams.errors).toBe(1);
    expect(poly.stats().openStreams).toBe(0);
  });
});
