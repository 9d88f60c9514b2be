import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineRepository } from '@polymongo/native';
import { ObjectId } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createFleet, zodToJsonSchema } from '../src/index.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();

const Orders = defineRepository({
  collection: 'orders',
  schema: z.strictObject({
    sku: z.string().min(1),
    email: z.email().optional(),
    qty: z.number().int().min(1),
    price: z.number(),
    at: z.date(),
    tags: z.array(z.string()).default([]),
    status: z.enum(['open', 'paid']),
    note: z.string().nullable(),
  }),
});

async function validatorOf(dbName: string, collection: string) {
  const [info] = await env.observer.db(dbName).listCollections({ name: collection }).toArray();
  return (info as { options?: { validator?: unknown } } | undefined)?.options?.validator;
}

describe('zod to $jsonSchema', () => {
  test('uses bsonType and drops what MongoDB refuses, allowing _id', () => {
    const schema = zodToJsonSchema(Orders.schema);
    const text = JSON.stringify(schema);
    for (const refused of ['$schema', '"format"', '"default"', '"type"']) expect(text).not.toContain(refused);
    expect(schema).toMatchObject({
      bsonType: 'object',
      additionalProperties: false,
      required: ['sku', 'qty', 'price', 'at', 'status', 'note'],
      properties: {
        _id: {},
        sku: { bsonType: 'string', minLength: 1 },
        qty: { bsonType: ['int', 'long'], minimum: 1 },
        price: { bsonType: 'number' },
        at: { bsonType: 'date' },
        tags: { bsonType: 'array', items: { bsonType: 'string' } },
        status: { bsonType: 'string', enum: ['open', 'paid'] },
        note: { bsonType: ['string', 'null'] },
      },
    });
  });

  test('importing the fleet does not load zod; zodToJsonSchema loads it on first use', () => {
    // A fresh process, CommonJS build (`pnpm test` builds first): require.cache lists every module loaded.
    const script = `
      const loaded = () => Object.keys(require.cache).some((p) => /[\\\\/]zod[\\\\/]/.test(p));
      const { zodToJsonSchema } = require(${JSON.stringify(fileURLToPath(new URL('../dist/index.cjs', import.meta.url)))});
      const atImport = loaded();
      const { z } = require(${JSON.stringify(createRequire(import.meta.url).resolve('zod'))});
      const schema = zodToJsonSchema(z.object({ at: z.date() }));
      console.log(JSON.stringify({ atImport, schema }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(out.atImport).toBe(false);
    expect(out.schema).toMatchObject({ bsonType: 'object', required: ['at'], properties: { at: { bsonType: 'date' } } });
  });
});

describe('validators', () => {
  test('plan finds missing and different validators; sync sets them with collMod and creates missing collections', async () => {
    const ids = await seedTenants(env.observer, unique('val'), 3);
    const [a, b, c] = ids as [string, string, string];
    await env.observer.db(a).createCollection('orders', { validator: { $jsonSchema: { bsonType: 'object', required: ['old'] } } });
    await env.observer.db(b).createCollection('orders');
    const fleet = createFleet(env.make());
    const plan = await fleet.validators.plan([Orders], { tenants: ids });
    expect(Object.keys(plan).sort()).toEqual(['drift', 'tenants']); // the shape DESIGN.md settles
    expect(plan.drift.map((d) => [d.tenant, d.missing, d.different])).toEqual([
      [a, false, true],
      [b, true, false],
      [c, true, false],
    ]);
    const dry = await fleet.validators.sync([Orders], { tenants: ids, dryRun: true });
    expect(dry.drift).toHaveLength(3);
    expect(await validatorOf(c, 'orders')).toBeUndefined();
    expect(await validatorOf(a, 'orders')).toEqual({ $jsonSchema: { bsonType: 'object', required: ['old'] } });

    const synced = await fleet.validators.sync([Orders], { tenants: ids });
    expect(synced).toMatchObject({ created: 1, modified: 2, dropped: 0, failed: [], skipped: 0 });
    for (const id of ids) expect(await validatorOf(id, 'orders')).toEqual({ $jsonSchema: zodToJsonSchema(Orders.schema) });
    expect((await fleet.validators.plan([Orders], { tenants: ids })).drift).toEqual([]);

    // The validator the server holds accepts a good document (with _id) and refuses a bad one.
    const orders = env.observer.db(a).collection('orders');
    await orders.insertOne({ _id: new ObjectId(), sku: 'x', qty: 2, price: 1.5, at: new Date(), tags: [], status: 'open', note: null });
    await expect(orders.insertOne({ sku: '', qty: 'two' })).rejects.toMatchObject({ code: 121 });
  });

  test('literal validators are accepted as given', async () => {
    const [t] = (await seedTenants(env.observer, unique('vallit'), 1)) as [string];
    const validator = { $jsonSchema: { bsonType: 'object', required: ['name'] } };
    const fleet = createFleet(env.make());
    await fleet.validators.sync([{ collection: 'things', validator, validationAction: 'warn' }], { tenants: [t] });
    expect(await validatorOf(t, 'things')).toEqual(validator);
    const [info] = await env.observer.db(t).listCollections({ name: 'things' }).toArray();
    expect((info as { options: { validationAction?: string } }).options.validationAction).toBe('warn');
  });

  test('a validator the spec does not name is reported as extra and removed only with dropExtra', async () => {
    const [t, u] = (await seedTenants(env.observer, unique('valx'), 2)) as [string, string];
    const legacy = { $jsonSchema: { bsonType: 'object', required: ['legacy'] } };
    await env.observer.db(t).createCollection('legacy', { validator: legacy });
    await env.observer.db(t).createCollection('plain'); // no validator: never extra
    const fleet = createFleet(env.make());
    const plan = await fleet.validators.plan([Orders], { tenants: [t, u] });
    const extra = plan.drift.filter((d) => d.extra);
    expect(extra).toEqual([
      { tenant: t, collection: 'legacy', missing: false, extra: true, different: false, expected: undefined, actual: legacy },
    ]);

    const kept = await fleet.validators.sync([Orders], { tenants: [t, u] });
    expect(kept.dropped).toBe(0);
    expect(await validatorOf(t, 'legacy')).toEqual(legacy);
    const dry = await fleet.validators.sync([Orders], { tenants: [t, u], dropExtra: true, dryRun: true });
    expect(dry.dropped).toBe(1);
    expect(await validatorOf(t, 'legacy')).toEqual(legacy);

    const dropped = await fleet.validators.sync([Orders], { tenants: [t, u], dropExtra: true });
    expect(dropped.dropped).toBe(1);
    expect(Object.keys((await validatorOf(t, 'legacy')) ?? {})).toEqual([]); // mongod may show {} or nothing
    await env.observer.db(t).collection('legacy').insertOne({ anything: true }); // no longer refused
    expect((await fleet.validators.plan([Orders], { tenants: [t, u] })).drift).toEqual([]);
  });
});
