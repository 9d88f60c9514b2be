import mongoose, { Schema } from 'mongoose';
import { describe, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const Order = mongoose.model('StreamOrder', new Schema({ total: Number }));

describe('Mongoose change streams', () => {
  test('Model.db(t).watch() pins its tenant, counts as an open stream, and is closed by closeStreams', async () => {
    const poly = env.make();
    const m = createMongooseAdapter({ poly });
    const Orders = m.wrapModel(Order);
    const t = tenantId('mw');
    await Orders.db(t).create({ total: 1 });
    const stream = Orders.db(t).watch([], { maxAwaitTimeMS: 50 });
    const seen: number[] = [];
    stream.on('change', (e: { fullDocument?: { total: number } }) => seen.push(e.fullDocument?.total ?? -1));
    expect(poly.stats().openStreams).toBe(1);
    expect(poly.evict(t)).toBe(false);
    await expect
      .poll(
        async () => {
          await Orders.db(t).create({ total: 2 });
          return seen.length;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    expect(await poly.closeStreams(t)).toBe(1);
    expect(poly.stats().openStreams).toBe(0);
    expect(poly.evict(t)).toBe(true);
  });

  test('with every cached tenant pinned by a stream, a tenant used over and over keeps one connection, freed after it', async () => {
    // Review s3: the handle was dropped on arrival, before its connection was attached, so each call left one more
    // Mongoose connection in the base's otherDbs, never freed.
    const poly = env.make({ maxCachedTenants: 1 });
    const m = createMongooseAdapter({ poly });
    const Orders = m.wrapModel(Order);
    const pinned = tenantId('pin');
    const stream = Orders.db(pinned).watch();
    try {
      const other = tenantId('other');
      const conn = m.connection(other);
      for (let i = 0; i < 20; i++) {
        expect(m.connection(other)).toBe(conn);
        Orders.db(other);
      }
      const base = (conn as unknown as { _parent: { otherDbs: unknown[] } })._parent;
      expect(base.otherDbs.length).toBeLessThanOrEqual(2);
      expect(m.cachedTenants).toBe(2);
      // The next tenant takes its place: the one unpinned connection is released, not kept.
      m.connection(tenantId('third'));
      expect(base.otherDbs).not.toContain(conn);
      expect(m.cachedTenants).toBe(2);
    } finally {
      await stream.close();
    }
    await poly.close();
  });

  test('a model the application compiles on a tenant connection itself is tracked, also when Model.db(t) returns it', async () => {
    const poly = env.make();
    const m = createMongooseAdapter({ poly });
    const Orders = m.wrapModel(Order);
    const t = tenantId('own');
    // Compiled before the first Orders.db(t): Orders.db(t) returns this model as it is.
    const own = m.connection(t).model(Order.modelName, Order.schema);
    expect(Orders.db(t)).toBe(own);
    const Other = m.connection(t).model('StreamOther', new Schema({ n: Number }));
    const streams = [Orders.db(t).watch(), Other.watch()];
    expect(poly.stats().openStreams).toBe(2);
    expect(poly.evict(t)).toBe(false);
    expect(await poly.closeStreams(t)).toBe(2);
    expect(poly.stats().openStreams).toBe(0);
    await Promise.all(streams.map((s) => s.close()));
    await poly.close();
  });

  test('a watch closed by its caller unpins the tenant once', async () => {
    const poly = env.make();
    const m = createMongooseAdapter({ poly });
    const Orders = m.wrapModel(Order);
    const t = tenantId('mw2');
    const a = Orders.db(t).watch();
    const b = Orders.db(t).watch();
    expect(poly.stats().openStreams).toBe(2);
    await a.close();
    await a.close();
    expect(poly.stats().openStreams).toBe(1);
    expect(poly.evict(t)).toBe(false);
    await b.close();
    expect(poly.stats().openStreams).toBe(0);
    await poly.close();
  });

  test("watch() on a model kept past its tenant's eviction is tracked under that tenant (tenantDb function, no inverse)", async () => {
    const poly = env.make({ tenantDb: (t: string) => `fx_${t}`, maxCachedTenants: 1 });
    const m = createMongooseAdapter({ poly });
    const Orders = m.wrapModel(Order);
    const t = tenantId('kept');
    const kept = Orders.db(t);
    await kept.countDocuments();
    Orders.db(`${t}_other`);
    expect(m.cachedTenants).toBe(1);
    const stream = kept.watch();
    expect(poly.stats().openStreams).toBe(1);
    expect(poly.evict(t)).toBe(false);
    expect(await poly.closeStreams(t)).toBe(1);
    expect(stream.closed).toBe(true);
  });
});
