import { describe, expect, test } from 'vitest';
// An application's own zod, of another major than the one PolyMongo is developed with.
import { z } from 'zod3';
import { defineRepository, ValidationError } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();

const Orders = defineRepository({
  collection: 'orders',
  schema: z.object({ sku: z.string().min(1), qty: z.number().int().positive(), status: z.enum(['open', 'paid']).default('open') }),
});

describe('a repository over zod 3', () => {
  test('it is zod 3 indeed', () => {
    expect('_def' in Orders.schema && !('_zod' in Orders.schema)).toBe(true);
  });

  test('inserts are validated and get the schema defaults', async () => {
    const poly = env.make();
    const orders = poly.tenant(tenantId('z3')).repo(Orders);
    const err = await orders.insertOne({ sku: '', qty: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path.join('.')).sort()).toEqual(['qty', 'sku']);
    await orders.insertOne({ sku: 'a-1', qty: 2 });
    expect(await orders.findOne({ sku: 'a-1' }, { projection: { _id: 0 } })).toEqual({ sku: 'a-1', qty: 2, status: 'open' });
  });

  test('updates are validated operator by operator', async () => {
    const poly = env.make();
    const orders = poly.tenant(tenantId('z3u')).repo(Orders);
    await orders.insertOne({ sku: 'b-1', qty: 1 });
    await expect(orders.updateOne({ sku: 'b-1' }, { $set: { status: 'lost' as never } })).rejects.toBeInstanceOf(ValidationError);
    await expect(orders.updateOne({ sku: 'b-1' }, { $inc: { sku: 1 } as never })).rejects.toBeInstanceOf(ValidationError);
    await expect(orders.updateOne({ sku: 'b-1' }, { $unset: { qty: '' } })).rejects.toBeInstanceOf(ValidationError);
    await orders.updateOne({ sku: 'b-1' }, { $set: { status: 'paid' }, $inc: { qty: 2 } });
    expect(await orders.findOne({ sku: 'b-1' }, { projection: { _id: 0 } })).toEqual({ sku: 'b-1', qty: 3, status: 'paid' });
  });
});
