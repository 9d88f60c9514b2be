import mongoose, { Schema } from 'mongoose';
import { describe, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const Thing = mongoose.model('ScaleThing', new Schema({ n: Number }));

describe('10,000 tenants', () => {
  test('emit no MaxListenersExceededWarning and keep Mongoose caches within maxCachedTenants', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    env.cleanup.push(async () => process.off('warning', onWarning));
    const poly = env.make({ maxCachedTenants: 1000 });
    const m = createMongooseAdapter({ poly });
    const Wrapped = m.wrapModel(Thing);
    const prefix = tenantId('scale');
    // Touch every tenant (compile its model); query a sample so the pool and base connection are really used.
    for (let i = 0; i < 10_000; i++) {
      const model = Wrapped.db(`${prefix}_${i}`);
      if (i % 500 === 0) await model.findOne().lean();
    }
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(m.cachedTenants).toBeLessThanOrEqual(1000);
    const base = m.connection(`${prefix}_9999`) as unknown as { _parent: { relatedDbs: object; otherDbs: unknown[] } };
    expect(Object.keys(base._parent.relatedDbs).length).toBeLessThanOrEqual(1001);
    expect(base._parent.otherDbs.length).toBeLessThanOrEqual(1001);
    expect(poly.stats().tenants.cached).toBeLessThanOrEqual(1000);
  }, 120_000); // 10,000 model compilations take 25-30 s on a loaded 2-core CI machine

  test('an evicted tenant comes back with a fresh connection and its data', async () => {
    const poly = env.make({ maxCachedTenants: 10 });
    const m = createMongooseAdapter({ poly });
    const Wrapped = m.wrapModel(Thing);
    const t = tenantId('back');
    await Wrapped.db(t).create({ n: 1 });
    const first = m.connection(t);
    for (let i = 0; i < 50; i++) Wrapped.db(`${t}_other_${i}`);
    expect(m.connection(t)).not.toBe(first);
    expect(await Wrapped.db(t).countDocuments()).toBe(1);
    expect(m.evict(t)).toBe(true);
    expect(await Wrapped.db(t).countDocuments()).toBe(1);
  });

  test('two adapters on one client keep separate tenant connections, each freed when the tenant is evicted', async () => {
    const poly = env.make({ maxCachedTenants: 2 });
    const a = createMongooseAdapter({ poly });
    const b = createMongooseAdapter({ poly });
    const t = tenantId('two');
    const ca = a.connection(t);
    const cb = b.connection(t);
    expect(ca).not.toBe(cb);
    expect(a.connection(t)).toBe(ca);
    expect(b.connection(t)).toBe(cb);
    expect([a.cachedTenants, b.cachedTenants]).toEqual([1, 1]);
    expect(poly.evict(t)).toBe(true);
    expect([a.cachedTenants, b.cachedTenants]).toEqual([0, 0]);
    expect(a.connection(t)).not.toBe(ca);
    expect(b.connection(t)).not.toBe(cb);
  });
});
