import { types } from 'node:util';
import { Collection, Db, type MongoClient } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { type AdmissionStats, defineRepository, type PolyMongo } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const APP = 'pm-fairness-test';

function admission(poly: PolyMongo): AdmissionStats {
  return poly.stats().admission as AdmissionStats;
}

function tenantRow(poly: PolyMongo, tenant: string) {
  return admission(poly).tenants.find((t) => t.tenant === tenant) ?? { inFlight: 0, queued: 0, rejected: 0, throttled: 0 };
}

/** Makes every `aggregate` (countDocuments) of this test's clients take `ms` on the server; `find` is untouched. */
async function slowAggregates(observer: MongoClient, ms: number): Promise<() => Promise<void>> {
  await observer.db('admin').command({
    configureFailPoint: 'failCommand',
    mode: 'alwaysOn',
    data: { failCommands: ['aggregate'], blockConnection: true, blockTimeMS: ms, appName: APP },
  });
  return async () => {
    await observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
  };
}

describe('fairness on native handles', () => {
  test('without fairness or quotas, poly.db() is the driver Db itself (no wrapper)', () => {
    const poly = env.make();
    const db = poly.db(tenantId('plain'));
    expect(Object.getPrototypeOf(db)).toBe(Db.prototype);
    expect(Object.getPrototypeOf(db.collection('c'))).toBe(Collection.prototype);
    expect(poly.stats().admission).toBeUndefined();
  });

  test('with fairness configured, every handle is admitted, eager dedicated ones included, and no Proxy is used', () => {
    const vip = tenantId('vip');
    const poly = env.make({ fairness: {}, dedicated: [{ tenants: vip, coldStart: false }] });
    for (const db of [poly.db(vip), poly.db(tenantId('shared'))]) {
      expect(Object.getPrototypeOf(db)).not.toBe(Db.prototype);
      expect(db).toBeInstanceOf(Db);
      expect(types.isProxy(db)).toBe(false);
      const coll = db.collection('c');
      expect(coll).toBeInstanceOf(Collection);
      expect(Object.getPrototypeOf(coll)).not.toBe(Collection.prototype);
      expect([coll.collectionName, coll.dbName, db.databaseName]).toEqual(['c', db.databaseName, db.databaseName]);
      expect(db.collection('c')).toBe(coll);
    }
  });

  test('a tenant never runs more than maxConcurrentPerTenant operations, and the others still run at once', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 2 }, driverOptions: { appName: APP } });
    const [hot, calm] = [tenantId('hot'), tenantId('calm')];
    await poly
      .db(hot)
      .collection('c')
      .insertOne({ _id: 1 } as never);
    await poly
      .db(calm)
      .collection('c')
      .insertOne({ _id: 1 } as never);
    const off = await slowAggregates(env.observer, 300);
    try {
      const flood = Array.from({ length: 8 }, () => poly.db(hot).collection('c').countDocuments({}));
      await expect.poll(() => tenantRow(poly, hot)).toMatchObject({ inFlight: 2, queued: 6 });
      // The calm tenant is admitted at once while the hot one waits in its own queue.
      expect(
        await poly
          .db(calm)
          .collection('c')
          .findOne({ _id: 1 } as never),
      ).toEqual({ _id: 1 });
      expect(tenantRow(poly, hot).inFlight).toBeLessThanOrEqual(2);
      expect(await Promise.all(flood)).toEqual(Array(8).fill(1));
      expect(tenantRow(poly, hot)).toMatchObject({ inFlight: 0, queued: 0, rejected: 0 });
    } finally {
      await off();
    }
  });

  test('over a full queue an operation rejects at once with TENANT_OVERLOADED; admitted ones complete', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1, maxQueuedPerTenant: 1 }, driverOptions: { appName: APP } });
    const t = tenantId('over');
    await poly.db(t).collection('c').insertOne({ x: 1 });
    const throttled: string[] = [];
    poly.on('tenantThrottled', (e) => throttled.push(`${e.tenantId}:${e.reason}`));
    const off = await slowAggregates(env.observer, 200);
    try {
      const first = poly.db(t).collection('c').countDocuments({});
      const second = poly.db(t).collection('c').countDocuments({});
      await expect(poly.db(t).collection('c').countDocuments({})).rejects.toMatchObject({
        code: 'TENANT_OVERLOADED',
        reason: 'queue_full',
      });
      expect(await Promise.all([first, second])).toEqual([1, 1]);
      expect(throttled).toEqual([`${t}:queue_full`]);
      expect(tenantRow(poly, t)).toMatchObject({ rejected: 1, inFlight: 0 });
    } finally {
      await off();
    }
  });

  test('a cursor holds a slot from its first batch until it is closed, and an exhausted one gives it back', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('cursor');
    const coll = poly.db(t).collection('c');
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    const cursor = coll.find({}).batchSize(2);
    expect(tenantRow(poly, t).inFlight).toBe(0);
    await cursor.next();
    expect(tenantRow(poly, t).inFlight).toBe(1);
    let counted = false;
    const count = coll.countDocuments({}).then((n) => {
      counted = true;
      return n;
    });
    await expect.poll(() => tenantRow(poly, t).queued).toBe(1);
    expect(counted).toBe(false);
    await cursor.close();
    expect(await count).toBe(5);
    expect(await coll.find({}).batchSize(2).toArray()).toHaveLength(5);
    expect(tenantRow(poly, t)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('a forgotten open cursor gives its slot back after it has been idle, and can still be read after', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('idle');
    const coll = poly.db(t).collection('c');
    await coll.insertMany(Array.from({ length: 4 }, (_, i) => ({ i })));
    const cursor = coll.find({}).batchSize(1);
    await cursor.next();
    expect(tenantRow(poly, t).inFlight).toBe(1);
    await expect.poll(() => tenantRow(poly, t).inFlight, { timeout: 5_000 }).toBe(0);
    expect(await coll.countDocuments({})).toBe(4);
    expect(await cursor.toArray()).toHaveLength(3);
    expect(tenantRow(poly, t).inFlight).toBe(0);
  });

  test('cursors are admitted through their public API only: no driver-internal method is replaced', () => {
    const poly = env.make({ fairness: {} });
    const cursor = poly.db(tenantId('public')).collection('c').find({});
    const own = Object.getOwnPropertyNames(cursor).filter((name) => typeof (cursor as never)[name] === 'function');
    expect(own.sort()).toEqual(['clone', 'count', 'explain', 'hasNext', 'next', 'rewind', 'tryNext']);
  });

  test('for await, stream and hasNext hold the slot while reading; breaking out of the loop gives it back', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('iterate');
    const coll = poly.db(t).collection('c');
    await coll.insertMany(Array.from({ length: 6 }, (_, i) => ({ i })));
    for await (const _doc of coll.find({}).batchSize(2)) {
      expect(tenantRow(poly, t).inFlight).toBe(1);
      break;
    }
    expect(tenantRow(poly, t).inFlight).toBe(0);
    const read: unknown[] = [];
    for await (const doc of coll.find({}).batchSize(2).stream()) {
      // Held until the cursor is exhausted; the stream reads ahead, so the last documents arrive after that.
      if (read.length === 0) expect(tenantRow(poly, t).inFlight).toBe(1);
      read.push(doc);
    }
    expect(read).toHaveLength(6);
    await expect.poll(() => tenantRow(poly, t).inFlight).toBe(0);
    const cursor = coll.find({}).batchSize(2);
    expect(await cursor.hasNext()).toBe(true);
    expect(tenantRow(poly, t).inFlight).toBe(1);
    await cursor.close();
    expect(tenantRow(poly, t).inFlight).toBe(0);
  });

  test('a clone is admitted like its cursor; a rewound cursor gives its slot back and takes one again to re-read', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 }, quotas: { opsPerSecond: 0.001, burst: 3 } });
    const t = tenantId('clone');
    const coll = poly.db(t).collection('c');
    await coll.insertMany(Array.from({ length: 4 }, (_, i) => ({ i }))); // token 1 of 3
    const cursor = coll.find({}).batchSize(1);
    await cursor.next(); // token 2
    const clone = cursor.clone();
    let cloned = false;
    const first = clone.next().then((doc) => {
      cloned = true;
      return doc;
    });
    await expect.poll(() => tenantRow(poly, t).queued).toBe(1);
    expect(cloned).toBe(false);
    cursor.rewind();
    expect(await first).toMatchObject({ i: 0 }); // token 3: the clone got the slot the rewind gave back
    await clone.close();
    // Re-reading the rewound cursor runs its query again: a first batch, which needs a token (none left).
    await expect(cursor.next()).rejects.toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    expect(tenantRow(poly, t)).toMatchObject({ inFlight: 0, queued: 0, throttled: 1 });
  });

  test("a cursor's count() runs in a slot of its own", async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('cursorcount');
    const coll = poly.db(t).collection('c');
    await coll.insertMany(Array.from({ length: 5 }, (_, i) => ({ i })));
    const cursor = coll.find({}).batchSize(2);
    await cursor.next();
    const counted = coll.find({ i: { $gte: 2 } }).count();
    await expect.poll(() => tenantRow(poly, t).queued).toBe(1);
    await cursor.close();
    expect(await counted).toBe(3);
    expect(tenantRow(poly, t)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('quotas reject at once with TENANT_QUOTA_EXCEEDED and retryAfterMS, through scopes and repositories too', async () => {
    const poly = env.make({ quotas: { opsPerSecond: 1, burst: 2 } });
    const t = tenantId('quota');
    const Items = defineRepository({ collection: 'items', schema: z.object({ name: z.string() }) });
    const scope = poly.tenant(t);
    await scope.collection('raw').insertOne({ a: 1 });
    await scope.repo(Items).insertOne({ name: 'first' });
    const error = await scope
      .repo(Items)
      .insertOne({ name: 'refused' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    expect((error as { retryAfterMS: number }).retryAfterMS).toBeGreaterThan(0);
    expect(await env.observer.db(scope.dbName).collection('items').countDocuments({ name: 'refused' })).toBe(0);
    expect(tenantRow(poly, t).throttled).toBe(1);
  });

  test('transactions hold their tenants slots; two over the same tenants in opposite order both commit', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const [a, b] = [tenantId('txa'), tenantId('txb')];
    await poly.db(a).collection('c').insertOne({ seed: 1 });
    await poly.db(b).collection('c').insertOne({ seed: 1 });
    const write = (order: string[], tag: string) =>
      poly.withTransaction(
        async (session) => {
          for (const t of order) await poly.db(t).collection('c').insertOne({ tag }, { session });
          return tag;
        },
        { tenants: order },
      );
    expect(await Promise.all([write([a, b], 'ab'), write([b, a], 'ba')])).toEqual(['ab', 'ba']);
    expect(
      await poly
        .db(a)
        .collection('c')
        .countDocuments({ tag: { $in: ['ab', 'ba'] } }),
    ).toBe(2);
    expect(
      await poly
        .db(b)
        .collection('c')
        .countDocuments({ tag: { $in: ['ab', 'ba'] } }),
    ).toBe(2);
    expect(admission(poly)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('while a transaction runs, the same tenant operations outside it wait for its slot', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('txwait');
    await poly.db(t).collection('c').insertOne({ seed: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = poly.withTransaction(
      async (session) => {
        await poly.db(t).collection('c').insertOne({ in: 1 }, { session });
        await gate;
      },
      { tenants: [t] },
    );
    await expect.poll(() => tenantRow(poly, t).inFlight).toBe(1);
    const outside = poly.db(t).collection('c').countDocuments({});
    await expect.poll(() => tenantRow(poly, t).queued).toBe(1);
    release();
    await tx;
    expect(await outside).toBe(2);
  });

  test('change streams are not admitted: a tenant can watch while its only slot is held', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const t = tenantId('watch');
    const coll = poly.db(t).collection('c');
    await coll.insertMany([{ i: 0 }, { i: 1 }]);
    const stream = poly.watch(t, { collection: 'c' });
    const holder = coll.find({}).batchSize(1);
    await holder.next();
    expect(tenantRow(poly, t).inFlight).toBe(1);
    expect(await stream.tryNext()).toBeNull();
    const next = stream.next();
    await env.observer.db(poly.route(t).dbName).collection('c').insertOne({ i: 2 });
    expect((await next).operationType).toBe('insert');
    await holder.close();
    await stream.close();
  });
});
