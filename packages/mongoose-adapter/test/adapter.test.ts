import v8 from 'node:v8';
import vm from 'node:vm';
import mongoose, { Schema } from 'mongoose';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { createMongooseAdapter, runWithTenant } from '../src/index.js';
import { serverConnections, tenantId, useServer } from './helpers.js';

const env = useServer();

interface UserDoc {
  name: string;
  email?: string;
  role: 'admin' | 'user';
}
interface UserStatics {
  byName(name: string): Promise<UserDoc | null>;
}
const userSchema = new Schema<UserDoc, mongoose.Model<UserDoc>, object, object, object, UserStatics>(
  { name: { type: String, required: true }, email: String, role: { type: String, enum: ['admin', 'user'], default: 'user' } },
  {
    statics: {
      byName(name: string) {
        return this.findOne({ name }).lean<UserDoc>();
      },
    },
  },
);
userSchema.virtual('shout').get(function (this: UserDoc) {
  return this.name.toUpperCase();
});
const saved: string[] = [];
userSchema.pre('save', function () {
  saved.push(this.name);
});
const BaseUser = mongoose.model('AdapterUser', userSchema);

describe('wrapModel', () => {
  test('each tenant sees only its own documents', async () => {
    const poly = env.make();
    const m = createMongooseAdapter({ poly });
    const User = m.wrapModel(BaseUser);
    const [a, b] = [tenantId('a'), tenantId('b')];
    await User.db(a).create({ name: 'ada' });
    await User.db(b).create([{ name: 'bob' }, { name: 'bea' }]);
    expect((await User.db(a).find().lean()).map((u) => u.name)).toEqual(['ada']);
    expect(await User.db(b).countDocuments()).toBe(2);
    expect(await env.observer.db(a).collection(BaseUser.collection.collectionName).countDocuments()).toBe(1);
  });

  test('concurrent queries on different tenants return the right data', async () => {
    const poly = env.make();
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    const tenants = Array.from({ length: 20 }, (_, i) => tenantId(`c${i}`));
    await Promise.all(tenants.map((t) => User.db(t).create({ name: t })));
    const results = await Promise.all(tenants.flatMap((t) => [User.db(t).findOne().lean(), User.db(t).findOne().lean()]));
    expect(results.map((r) => r?.name)).toEqual(tenants.flatMap((t) => [t, t]));
  });

  test('statics, hooks and virtuals keep working per tenant', async () => {
    const poly = env.make();
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    const t = tenantId('hooks');
    const doc = await User.db(t).create({ name: 'grace' });
    expect(saved).toContain('grace');
    expect((doc as unknown as { shout: string }).shout).toBe('GRACE');
    expect((await User.db(t).byName('grace'))?.role).toBe('user');
    expectTypeOf(User.db(t).byName).toEqualTypeOf<(name: string) => Promise<UserDoc | null>>();
  });

  test("a tenant's models run on the same Db as poly.db(tenant), before and after the pool connects", async () => {
    const poly = env.make();
    const m = createMongooseAdapter({ poly });
    const User = m.wrapModel(BaseUser);
    const [early, late] = [tenantId('early'), tenantId('late')];
    const first = User.db(early).create({ name: 'queued before connect' });
    await first;
    await User.db(late).create({ name: 'after connect' });
    for (const t of [early, late]) {
      expect(m.connection(t).db).toBe(poly.db(t));
      expect((User.db(t).collection as unknown as { collection: unknown }).collection).toMatchObject({ s: { db: poly.db(t) } });
      expect(await User.db(t).countDocuments()).toBe(1);
    }
  });

  test('without .db(), the wrapped model uses the runWithTenant tenant', async () => {
    const poly = env.make();
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    const t = tenantId('ctx');
    await runWithTenant(t, async () => {
      await User.create({ name: 'in-context' });
      const user = new User({ name: 'constructed' });
      await user.save();
      expect(await User.countDocuments()).toBe(2);
    });
    expect((await User.db(t).find().sort({ name: 1 }).lean()).map((u) => u.name)).toEqual(['constructed', 'in-context']);
  });

  test('without .db() or context, the default tenant (URI database, else "default") is used', async () => {
    const url = new URL(env.mongo.uri);
    url.pathname = `/${tenantId('uridb')}`;
    const poly = env.make({ uri: url.toString() });
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    await User.create({ name: 'default-user' });
    expect(await env.observer.db(url.pathname.slice(1)).collection(BaseUser.collection.collectionName).countDocuments()).toBe(1);
  });

  test('strict tenancy: no tenant is TENANT_REQUIRED', () => {
    const poly = env.make({ strictTenancy: true });
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    expect(() => User.find()).toThrow(expect.objectContaining({ code: 'TENANT_REQUIRED' }));
    expect(() => User.db('bad.id')).toThrow(expect.objectContaining({ code: 'INVALID_TENANT' }));
  });

  test('.db(tenant).findOne() keeps the document type', () => {
    const poly = env.make();
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    type Found = Awaited<ReturnType<ReturnType<typeof User.db>['findOne']>>;
    expectTypeOf<NonNullable<Found>['name']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Found>['role']>().toEqualTypeOf<'admin' | 'user'>();
  });
});

describe('discriminators', () => {
  test('a discriminator of the base model works on every tenant', async () => {
    const eventSchema = new Schema({ at: { type: Date, default: Date.now } }, { discriminatorKey: 'kind' });
    const BaseEvent = mongoose.model('AdapterEvent', eventSchema);
    BaseEvent.discriminator('Click', new Schema({ x: Number }));
    const poly = env.make();
    const Event = createMongooseAdapter({ poly }).wrapModel(BaseEvent);
    for (const t of [tenantId('d1'), tenantId('d2')]) {
      const Click = Event.db(t).discriminators?.Click;
      expect(Click).toBeDefined();
      await Click?.create({ x: 7 });
      const found = await Event.db(t).findOne({ kind: 'Click' }).lean();
      expect(found).toMatchObject({ kind: 'Click', x: 7 });
      expect(await Event.db(t).countDocuments()).toBe(1);
    }
  });
});

describe('one pool for native and Mongoose', () => {
  test('native and Mongoose access share one MongoClient: server connections stay within maxPoolSize', async () => {
    const poly = env.make({ pool: { maxPoolSize: 4 } });
    const User = createMongooseAdapter({ poly }).wrapModel(BaseUser);
    const before = await serverConnections(env.observer);
    const tenants = Array.from({ length: 100 }, (_, i) => tenantId(`sh${i}`));
    await Promise.all(tenants.flatMap((t) => [User.db(t).create({ name: t }), poly.db(t).collection('native').insertOne({ t })]));
    const after = await serverConnections(env.observer);
    expect(after - before).toBeLessThanOrEqual(4 + 2);
    expect(User.db(tenants[0]).db.getClient()).toBe(poly.client(tenants[0]));
    expect(poly.stats().pools).toHaveLength(1);
  });

  test('createMongooseAdapter(options) creates its own client and closes it', async () => {
    const m = createMongooseAdapter({ uri: env.mongo.uri, logger: { level: 'silent' } });
    const User = m.wrapModel(BaseUser);
    const t = tenantId('own');
    await User.db(t).create({ name: 'x' });
    expect(await User.db(t).countDocuments()).toBe(1);
    await m.close();
    expect(m.poly.state).toBe('closed');
  });
});

describe('tenant connections made before the pool connects', () => {
  test('those evicted before the base is bound are not kept, even while its first connect never succeeds', async () => {
    // Nothing listens on port 9: the pool's first connect stays pending (then fails), so the base is not bound.
    const poly = env.make({ uri: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=30000', maxCachedTenants: 1 });
    const m = createMongooseAdapter({ poly });
    const base = m.baseConnection() as unknown as { _queue: unknown[] };
    const evicted: Array<WeakRef<object>> = [];
    for (let i = 0; i < 5; i++) evicted.push(new WeakRef(m.connection(tenantId(`pre${i}`))));
    const live = evicted.pop();
    expect(m.cachedTenants).toBe(1);
    // Mongoose queues each connection's wiring on its unopened base: only the cached tenant's is left.
    expect(base._queue).toHaveLength(1);
    // WeakRefs keep their target until the job ends; then nothing of the adapter's holds the evicted connections.
    await new Promise((resolve) => setImmediate(resolve));
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    expect(evicted.map((ref) => ref.deref() === undefined)).toEqual([true, true, true, true]);
    expect(live?.deref()).toBeDefined();
  });
});
