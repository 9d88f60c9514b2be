// The contenders, each written the way a competent engineer would write it, on the same pool size.
// Every factory returns { handle(t), findById(t, i), insertOne(t, doc), ready(), close() }.
import { createRequire } from 'node:module';
import { createMongooseAdapter } from '@polymongo/mongoose';
import { createPolyMongo } from '@polymongo/native';
import { MongoClient, ObjectId } from 'mongodb';
import mongoose from 'mongoose';

export const COLLECTION = 'items';
export const POOL_SIZE = 32;
/** The _ids of the 10 documents every read tenant holds. */
export const SEED_IDS = Array.from({ length: 10 }, (_, i) => new ObjectId(`6500000000000000000000${i.toString(16).padStart(2, '0')}`));
export const itemFields = { name: String, n: Number, tags: [String] };
/**
 * Every Mongoose contender declares the same schema. autoCreate/autoIndex are off for all of them: index sync is a
 * deploy step, and otherwise each first-touched tenant sends createCollection + createIndexes to the server.
 */
export const schemaOptions = { collection: COLLECTION, autoCreate: false, autoIndex: false };

/** Get-or-create in a Map: the cache a team writes around a factory. */
function cached(make) {
  const map = new Map();
  return (t) => {
    let v = map.get(t);
    if (v === undefined) {
      v = make(t);
      map.set(t, v);
    }
    return v;
  };
}

function rawDriver(uri, { cache }) {
  const client = new MongoClient(uri, { maxPoolSize: POOL_SIZE });
  let handle;
  let collection;
  if (cache === 'db') {
    handle = cached((t) => client.db(t));
    collection = (t) => handle(t).collection(COLLECTION);
  } else if (cache === 'collection') {
    handle = cached((t) => client.db(t).collection(COLLECTION));
    collection = handle;
  } else {
    handle = (t) => client.db(t);
    collection = (t) => client.db(t).collection(COLLECTION);
  }
  return {
    handle,
    findById: (t, i) => collection(t).findOne({ _id: SEED_IDS[i] }),
    insertOne: (t, doc) => collection(t).insertOne(doc),
    ready: async () => void (await client.connect()),
    close: () => client.close(),
  };
}

// tracing: false on the PolyMongo contenders. @opentelemetry/api resolves from @polymongo/native in this monorepo only
// because native lists it as a devDependency (for its tests); an application without the package gets what
// tracing: false gives (nothing loaded, no command monitoring). With the package, tracing is on by default: that is
// the labelled extra row 'polymongo native, tracing on', with no tracer provider registered (the API's no-op tracer).
function polymongoNative(uri, opts = {}) {
  const poly = createPolyMongo({ uri, pool: { maxPoolSize: POOL_SIZE }, tracing: false, ...opts });
  return {
    handle: (t) => poly.db(t),
    findById: (t, i) => poly.db(t).collection(COLLECTION).findOne({ _id: SEED_IDS[i] }),
    insertOne: (t, doc) => poly.db(t).collection(COLLECTION).insertOne(doc),
    ready: () => poly.connect(),
    close: () => poly.close(),
  };
}

function plainMongoose(uri) {
  const m = new mongoose.Mongoose();
  const schema = new m.Schema(itemFields, schemaOptions);
  const conn = m.createConnection(uri, { maxPoolSize: POOL_SIZE });
  // The Mongoose docs' multi-tenant pattern, cached: one useDb connection per tenant, its model kept in a Map.
  const model = cached((t) => conn.useDb(t, { useCache: true }).model('Item', schema));
  return {
    handle: model,
    findById: (t, i) => model(t).findOne({ _id: SEED_IDS[i] }).lean(),
    insertOne: (t, doc) => model(t).create(doc),
    ready: async () => void (await conn.asPromise()),
    close: () => conn.close(),
  };
}

function polymongoMongoose(uri, opts = {}) {
  const m = new mongoose.Mongoose();
  const Base = m.model('Item', new m.Schema(itemFields, schemaOptions));
  const adapter = createMongooseAdapter({ uri, mongoose: m, pool: { maxPoolSize: POOL_SIZE }, tracing: false, ...opts });
  const Item = adapter.wrapModel(Base);
  return {
    handle: (t) => Item.db(t),
    findById: (t, i) => Item.db(t).findOne({ _id: SEED_IDS[i] }).lean(),
    insertOne: (t, doc) => Item.db(t).create(doc),
    // No warm-up query on a tenant of its own: at exactly maxCachedTenants tenants, one more would evict.
    ready: () => adapter.poly.connect(),
    close: () => adapter.close(),
  };
}

function polymongoV1(uri) {
  const require = createRequire(import.meta.url);
  const PolyMongoV1 = require('polymongo-v1');
  const v1Mongoose = createRequire(require.resolve('polymongo-v1'))('mongoose');
  const wrapper = (PolyMongoV1.default ?? PolyMongoV1).createWrapper({
    mongoURI: uri,
    maxPoolSize: POOL_SIZE,
    coldStart: true,
    debug: false,
  });
  const model = v1Mongoose.models.Item ?? v1Mongoose.model('Item', new v1Mongoose.Schema(itemFields, schemaOptions));
  const Item = wrapper.wrapModel(model);
  // polymongo 1.3.0 runs on mongoose 8 and bson 6, which refuse bson 7 values.
  const ids = SEED_IDS.map((id) => new v1Mongoose.Types.ObjectId(id.toHexString()));
  return {
    handle: (t) => Item.db(t),
    findById: (t, i) => Item.db(t).findOne({ _id: ids[i] }).lean(),
    insertOne: (t, doc) => Item.db(t).create(doc),
    ready: async () => void (await Item.db('warmup').findOne().lean()),
    close: () => wrapper.actions.forceCloseAll(),
  };
}

export const RAW = 'raw driver (Db cached in a Map)';
export const RAW_TWIN = 'raw driver (Db cached in a Map), twin';
export const PLAIN = 'plain Mongoose (useDb useCache, model cached)';
export const PLAIN_TWIN = 'plain Mongoose (useDb useCache, model cached), twin';
export const NATIVE = 'polymongo native';
export const NATIVE_TRACED = 'polymongo native, tracing on (OTel API, no provider)';
export const ADAPTER = 'polymongo mongoose';
export const V1 = 'polymongo 1.3.0';

/**
 * name → { make(uri, opts), group, baseline, extra? }. `group` says which twin sets the noise floor; `extra` rows are
 * shown, labelled, but never used as a baseline.
 */
export const contenders = {
  [RAW]: { make: (uri) => rawDriver(uri, { cache: 'db' }), group: 'driver' },
  [RAW_TWIN]: { make: (uri) => rawDriver(uri, { cache: 'db' }), group: 'driver', baseline: RAW, twinOf: RAW },
  'raw driver (Collection cached in a Map)': { make: (uri) => rawDriver(uri, { cache: 'collection' }), group: 'driver', baseline: RAW },
  'raw driver (client.db() on every call)': {
    make: (uri) => rawDriver(uri, { cache: 'none' }),
    group: 'driver',
    baseline: RAW,
    extra: true,
  },
  [NATIVE]: { make: polymongoNative, group: 'driver', baseline: RAW },
  [NATIVE_TRACED]: { make: (uri) => polymongoNative(uri, { tracing: true }), group: 'driver', baseline: RAW, extra: true },
  [PLAIN]: { make: plainMongoose, group: 'mongoose' },
  [PLAIN_TWIN]: { make: plainMongoose, group: 'mongoose', baseline: PLAIN, twinOf: PLAIN },
  [ADAPTER]: { make: polymongoMongoose, group: 'mongoose', baseline: PLAIN, alsoVs: [V1] },
  [V1]: { make: polymongoV1, group: 'mongoose', baseline: PLAIN },
};

/** One pool per tenant, the pattern PolyMongo replaces: measured for connection counts only. */
export function poolPerTenant(uri) {
  const m = new mongoose.Mongoose();
  const schema = new m.Schema(itemFields, schemaOptions);
  const model = cached((t) => m.createConnection(uri, { dbName: t, maxPoolSize: 5 }).model('Item', schema));
  const conns = [];
  return {
    findById: (t, i) => {
      const M = model(t);
      conns.push(M.db);
      return M.findOne({ _id: SEED_IDS[i] }).lean();
    },
    close: () => Promise.all([...new Set(conns)].map((c) => c.close())),
  };
}
