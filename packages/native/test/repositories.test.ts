import { describe, expect, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { defineRepository, PolyMongoError, ValidationError } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();

const Users = defineRepository({
  collection: 'users',
  schema: z.object({ email: z.email(), name: z.string().min(1), plan: z.enum(['free', 'pro']).default('free') }),
  indexes: [{ key: { email: 1 }, unique: true, name: 'email_unique' }],
});

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  const err = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).code).toBe('VALIDATION_FAILED');
  return err as ValidationError;
}

describe('repositories', () => {
  test('insertOne validates, applies schema defaults and returns typed documents', async () => {
    const poly = env.make();
    const users = poly.tenant(tenantId('repo')).repo(Users);
    await users.insertOne({ email: 'ada@example.com', name: 'Ada' });
    const ada = await users.findOne({ email: 'ada@example.com' });
    expect(ada).toMatchObject({ email: 'ada@example.com', name: 'Ada', plan: 'free' });
    expectTypeOf(ada?.plan).toEqualTypeOf<'free' | 'pro' | undefined>();
    expectTypeOf(ada?.email).toEqualTypeOf<string | undefined>();
    expectTypeOf(ada?._id).toEqualTypeOf<import('mongodb').ObjectId | undefined>();
  });

  test('an invalid insertOne throws VALIDATION_FAILED with zod issues and writes nothing', async () => {
    const poly = env.make();
    const t = tenantId('bad');
    const users = poly.tenant(t).repo(Users);
    const err = await rejection(users.insertOne({ email: 'not-an-email', name: '' }));
    expect(err.issues.map((i) => i.path.join('.')).sort()).toEqual(['email', 'name']);
    expect(await poly.tenantExists(t)).toBe(false);
  });

  test('insertMany with one invalid document writes none of them', async () => {
    const poly = env.make();
    const users = poly.tenant(tenantId('many')).repo(Users);
    await rejection(
      users.insertMany([
        { email: 'a@x.io', name: 'A' },
        { email: 'b@x.io', name: '' },
      ]),
    );
    expect(await users.countDocuments()).toBe(0);
  });

  test('$set and $setOnInsert fields are validated; replaceOne validates the whole document', async () => {
    const poly = env.make();
    const users = poly.tenant(tenantId('upd')).repo(Users);
    await users.insertOne({ email: 'c@x.io', name: 'C' });
    await rejection(users.updateOne({ email: 'c@x.io' }, { $set: { plan: 'enterprise' as never } }));
    await rejection(users.updateOne({ email: 'z@x.io' }, { $setOnInsert: { email: 'nope' } }, { upsert: true }));
    await rejection(users.replaceOne({ email: 'c@x.io' }, { email: 'c@x.io', name: '' }));
    expect(await users.find({}, { projection: { _id: 0 } })).toEqual([{ email: 'c@x.io', name: 'C', plan: 'free' }]);
    await users.updateOne({ email: 'c@x.io' }, { $set: { plan: 'pro' } });
    expect((await users.findOne({ email: 'c@x.io' }))?.plan).toBe('pro');
  });

  test('ensureIndexes creates the declared indexes in that tenant only', async () => {
    const poly = env.make();
    const [a, b] = [tenantId('ia'), tenantId('ib')];
    await poly.tenant(a).repo(Users).ensureIndexes();
    await poly.db(b).collection('users').insertOne({});
    const namesA = (await env.observer.db(a).collection('users').listIndexes().toArray()).map((i) => i.name);
    const namesB = (await env.observer.db(b).collection('users').listIndexes().toArray()).map((i) => i.name);
    expect(namesA).toContain('email_unique');
    expect(namesB).not.toContain('email_unique');
    await poly.tenant(a).repo(Users).insertOne({ email: 'd@x.io', name: 'D' });
    await expect(poly.tenant(a).repo(Users).insertOne({ email: 'd@x.io', name: 'D2' })).rejects.toMatchObject({ code: 11000 });
  });

  test('a repository stays in its tenant: $out or $merge into another database is refused with CROSS_TENANT_WRITE', async () => {
    const poly = env.make();
    const t = tenantId('out');
    const other = tenantId('victim');
    const users = poly.tenant(t).repo(Users);
    await users.insertOne({ email: 'e@x.io', name: 'E' });
    await expect(users.aggregate([{ $match: {} }, { $out: { db: other, coll: 'stolen' } }])).rejects.toMatchObject({
      code: 'CROSS_TENANT_WRITE',
      target: other,
    });
    await expect(users.aggregate([{ $match: {} }, { $merge: { into: { db: other, coll: 'stolen' } } }])).rejects.toBeInstanceOf(
      PolyMongoError,
    );
    await expect(users.aggregate([{ $match: {} }, { $merge: { into: { db: other, coll: 'stolen' } } }])).rejects.toMatchObject({
      code: 'CROSS_TENANT_WRITE',
    });
    expect(await poly.tenantExists(other)).toBe(false);
    expect(await users.aggregate([{ $group: { _id: null, n: { $sum: 1 } } }])).toEqual([{ _id: null, n: 1 }]);
  });

  test('a repository without a schema passes documents through', async () => {
    const poly = env.make();
    const Logs = defineRepository({ collection: 'logs' });
    const logs = poly.tenant(tenantId('free')).repo(Logs);
    await logs.insertOne({ anything: [1, 2] });
    expect(await logs.countDocuments({ anything: 2 })).toBe(1);
  });

  test('repository operations go through plugins', async () => {
    const poly = env.make();
    const seen: string[] = [];
    poly.use({
      name: 'spy',
      wrapOperation: (op, next) => {
        seen.push(op.command);
        return next();
      },
    });
    await poly.tenant(tenantId('plug')).repo(Users).insertOne({ email: 'f@x.io', name: 'F' });
    expect(seen).toEqual(['repo.insertOne']);
  });

  test('defineRepository refuses a missing collection name', () => {
    expect(() => defineRepository({ collection: '' })).toThrow(/collection name/);
  });
});
