import type { PolyMongo } from '@polymongo/native';
import mongoose, { Schema } from 'mongoose';
import { describe, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const APP = 'pmm-fairness-test';
const Item = mongoose.model('FairnessItem', new Schema({ name: String, n: Number }));

function row(poly: PolyMongo, tenant: string) {
  return poly.stats().admission?.tenants.find((r) => r.tenant === tenant) ?? { inFlight: 0, queued: 0 };
}

describe('fairness and quotas on wrapped Mongoose models', () => {
  test('queries, saves, aggregates and bulk writes wait for the tenant slot like native operations', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const Items = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('slot');
    const doc = await Items.db(t).create({ name: 'a', n: 1 });
    await Items.db(t).create({ name: 'b', n: 2 });
    const operations: Array<[string, () => Promise<unknown>]> = [
      ['find', () => Items.db(t).find({}).lean().exec()],
      ['save', () => Object.assign(doc, { n: (doc.n ?? 0) + 1 }).save()],
      [
        'aggregate',
        () =>
          Items.db(t)
            .aggregate([{ $match: {} }])
            .exec(),
      ],
      ['bulkWrite', () => Items.db(t).bulkWrite([{ insertOne: { document: { name: 'c' } } }])],
      ['create', () => Items.db(t).create({ name: 'd' })],
    ];
    for (const [name, run] of operations) {
      // An open cursor of the tenant holds its only slot, so the model operation must queue behind it.
      const holder = poly.db(t).collection('fairnessitems').find({}).batchSize(1);
      await holder.next();
      const pending = run();
      await expect.poll(() => row(poly, t).queued, { message: name }).toBe(1);
      await holder.close();
      await pending;
      expect(row(poly, t), name).toMatchObject({ inFlight: 0, queued: 0 });
    }
  });

  test('a query cursor (Model.find().cursor()) holds the slot while it reads and gives it back when closed', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 } });
    const Items = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('qcursor');
    await Items.db(t).insertMany(Array.from({ length: 4 }, (_, n) => ({ name: `n${n}`, n })));
    const cursor = Items.db(t).find({}).batchSize(1).cursor();
    expect(await cursor.next()).toMatchObject({ n: 0 });
    expect(row(poly, t).inFlight).toBe(1);
    const count = Items.db(t).countDocuments({}).exec();
    await expect.poll(() => row(poly, t).queued).toBe(1);
    await cursor.close();
    expect(await count).toBe(4);
    expect(row(poly, t)).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('over its quota a model operation is rejected with TENANT_QUOTA_EXCEEDED', async () => {
    const poly = env.make({ quotas: { perTenant: (id) => (id.includes('limited') ? { opsPerSecond: 0.001, burst: 3 } : undefined) } });
    const Items = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('limited');
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => Items.db(t).countDocuments({}).exec()));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused[0]).toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
  });

  test('a flood of slow model aggregates holds at most maxConcurrentPerTenant slots of the tenant', async () => {
    const poly = env.make({ fairness: { maxConcurrentPerTenant: 1 }, driverOptions: { appName: APP } });
    const Items = createMongooseAdapter({ poly }).wrapModel(Item);
    const t = tenantId('flood');
    await Items.db(t).create({ name: 'x', n: 1 });
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['aggregate'], blockConnection: true, blockTimeMS: 200, appName: APP },
    });
    env.cleanup.push(() => env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' }));
    const flood = Array.from({ length: 4 }, () =>
      Items.db(t)
        .aggregate([{ $match: {} }])
        .exec(),
    );
    await expect.poll(() => row(poly, t)).toMatchObject({ inFlight: 1, queued: 3 });
    expect((await Promise.all(flood)).map((r) => r.length)).toEqual([1, 1, 1, 1]);
  });
});
