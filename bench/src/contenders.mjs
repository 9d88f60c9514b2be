// The contenders: each one is what a team would write instead, set up the way its docs suggest.
import { createRequire } from 'node:module';
import { createMongooseAdapter } from '@polymongo/mongoose';
import { createPolyMongo, defineRepository } from '@polymongo/native';
import { MongoClient, ObjectId } from 'mongodb';
import mongoose from 'mongoose';
import { z } from 'zod';

export const COLLECTION = 'items';
export const POOL_SIZE = 32;
/** The _ids of the 10 documents every read tenant holds. */
export const SEED_IDS = Array.from({ length: 10 }, (_, i) => new ObjectId(`6500000000000000000000${i.toString(16).padStart(2, '0')}`));

const itemFields = { name: String, n: Number, tags: [String] };
const ItemSchema = z.object({ name: z.string(), n: z.number().int(), tags: z.array(z.string()) });
const Items = defineRepository({ collection: COLLECTION });
const ValidatedItems = defineRepository({ collection: COLLECTION, schema: ItemSchema });

/** @typedef {{ name: string, handle(t: string): unknown, findById(t: string, id: number): Promise<unknown>, insertOne(t: string, doc: object): Promise<unknown>, insertMany(t: string, docs: object[]): Promise<unknown>, ready(): Promise<void>, close(): Promise<void> }} Contender */

/** @returns {Record<string, (uri: string, opts?: { maxCachedTenants?: number }) => Contender>} */
export const contenders = {
  'raw driver': (uri) => {
    const client = new MongoClient(uri, { maxPoolSize: POOL_SIZE });
    return {
      name: 'raw driver',
      handle: (t) => client.db(t),
      findById: (t, id) => client.db(t).collection(COLLECTION).findOne({ _id: SEED_IDS[id] }),
      insertOne: (t, doc) => client.db(t).collection(COLLECTION).insertOne(doc),
      insertMany: (t, docs) => client.db(t).collection(COLLECTION).insertMany(docs),
      ready: async () => void (await client.connect()),
      close: () => client.close(),
    };
  },
  'polymongo native': (uri, opts = {}) => {
    const poly = createPolyMongo({ uri, pool: { maxPoolSize: POOL_SIZE }, logger: { level: 'silent' }, ...opts });
    return {
      name: 'polymongo native',
      handle: (t) => poly.db(t),
      findById: (t, id) => poly.db(t).collection(COLLECTION).findOne({ _id: SEED_IDS[id] }),
      insertOne: (t, doc) => poly.db(t).collection(COLLECTION).insertOne(doc),
      insertMany: (t, docs) => poly.db(t).collection(COLLECTION).insertMany(docs),
      ready: () => poly.connect(),
      close: () => poly.close(),
    };
  },
  'native repository': (uri, opts = {}) => {
    const poly = createPolyMongo({ uri, pool: { maxPoolSize: POOL_SIZE }, logger: { level: 'silent' }, ...opts });
    return {
      name: 'native repository',
      handle: (t) => poly.tenant(t).repo(Items),
      findById: (t, id) => poly.tenant(t).repo(Items).findOne({ _id: SEED_IDS[id] }),
      insertOne: (t, doc) => poly.tenant(t).repo(Items).insertOne(doc),
      insertMany: (t, docs) => poly.tenant(t).repo(Items).insertMany(docs),
      ready: () => poly.connect(),
      close: () => poly.close(),
    };
  },
  'native repository + zod': (uri, opts = {}) => {
    const poly = createPolyMongo({ uri, pool: { maxPoolSize: POOL_SIZE }, logger: { level: 'silent' }, ...opts });
    return {
      name: 'native repository + zod',
      handle: (t) => poly.tenant(t).repo(ValidatedItems),
      findById: (t, id) => poly.tenant(t).repo(ValidatedItems).findOne({ _id: SEED_IDS[id] }),
      insertOne: (t, doc) => poly.tenant(t).repo(ValidatedItems).insertOne(doc),
      insertMany: (t, docs) => poly.tenant(t).repo(ValidatedItems).insertMany(docs),
      ready: () => poly.connect(),
      close: () => poly.close(),
    };
  },
  'plain mongoose useDb': (uri) => {
    const m = new mongoose.Mongoose();
    const schema = new m.Schema(itemFields, { collection: COLLECTION });
    const conn = m.createConnection(uri, { maxPoolSize: POOL_SIZE });
    // The pattern the Mongoose docs suggest: a cached useDb connection per tenant, a model on it.
    const model = (t) => conn.useDb(t, { useCache: true }).model('Item', schema);
    return {
      name: 'plain mongoose useDb',
      handle: model,
      findById: (t, id) => model(t).findOne({ _id: SEED_IDS[id] }).lean(),
      insertOne: (t, doc) => model(t).create(doc),
      insertMany: (t, docs) => model(t).insertMany(docs),
      ready: async () => void (await conn.asPromise()),
      close: () => conn.close(),
    };
  },
  'polymongo mongoose': (uri, opts = {}) => {
    const m = new mongoose.Mongoose();
    const Base = m.model('Item', new m.Schema(itemFields, { collection: COLLECTION }));
    const adapter = createMongooseAdapter({ uri, mongoose: m, pool: { maxPoolSize: POOL_SIZE }, logger: { level: 'silent' }, ...opts });
    const Item = adapter.wrapModel(Base);
    return {
      name: 'polymongo mongoose',
      handle: (t) => Item.db(t),
      findById: (t, id) => Item.db(t).findOne({ _id: SEED_IDS[id] }).lean(),
      insertOne: (t, doc) => Item.db(t).create(doc),
      insertMany: (t, docs) => Item.db(t).insertMany(docs),
      ready: async () => {
        await adapter.poly.connect();
        await Item.db('warmup').findOne().lean();
      },
      close: () => adapter.close(),
    };
  },
  'polymongo 1.3.0': (uri) => {
    const require = createRequire(import.meta.url);
    const PolyMongoV1 = require('polymongo-v1');
    const v1Mongoose = createRequire(require.resolve('polymongo-v1'))('mongoose');
    const wrapper = (PolyMongoV1.default ?? PolyMongoV1).createWrapper({
      mongoURI: uri,
      maxPoolSize: POOL_SIZE,
      coldStart: true,
      debug: false,
    });
    const model = v1Mongoose.models.Item ?? v1Mongoose.model('Item', new v1Mongoose.Schema(itemFields, { collection: COLLECTION }));
    const Item = wrapper.wrapModel(model);
    // polymongo 1.3.0 runs on mongoose 8 and bson 6, which refuse bson 7 values.
    const ids = SEED_IDS.map((id) => new v1Mongoose.Types.ObjectId(id.toHexString()));
    return {
      name: 'polymongo 1.3.0',
      handle: (t) => Item.db(t),
      findById: (t, id) => Item.db(t).findOne({ _id: ids[id] }).lean(),
      insertOne: (t, doc) => Item.db(t).create(doc),
      insertMany: (t, docs) => Item.db(t).insertMany(docs),
      ready: async () => void (await Item.db('warmup').findOne().lean()),
      close: () => wrapper.actions.forceCloseAll(),
    };
  },
};

/** One pool per tenant, the pattern PolyMongo replaces: measured for connection counts only. */
export function naivePerTenant(uri) {
  const m = new mongoose.Mongoose();
  const schema = new m.Schema(itemFields, { collection: COLLECTION });
  const conns = new Map();
  const model = (t) => {
    let conn = conns.get(t);
    if (!conn) {
      conn = m.createConnection(uri, { dbName: t, maxPoolSize: 5 });
      conns.set(t, conn);
    }
    return conn.model('Item', schema);
  };
  return {
    name: 'naive pool per tenant',
    findById: (t, id) => model(t).findOne({ _id: SEED_IDS[id] }).lean(),
    close: () => Promise.all([...conns.values()].map((c) => c.close())),
  };
}
