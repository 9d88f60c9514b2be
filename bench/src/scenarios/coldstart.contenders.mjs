// How each cold-start contender starts: `starts[name]()` imports what the contender needs, then returns the function
// that builds its client and asks the first question (findOne by _id in read_0.items). Shared by coldstart.child.mjs
// (the measured span) and tools/coldstart-functions.mjs (what that span runs), so both measure the same code.
const ID_HEX = '650000000000000000000000';
const fields = { name: String, n: Number, tags: [String] };
const schemaOptions = { collection: 'items', autoCreate: false, autoIndex: false };

/** @param {string} uri */
export function coldStarts(uri) {
  return {
    'raw driver': async () => {
      const { MongoClient, ObjectId } = await import('mongodb');
      return async () => {
        const client = new MongoClient(uri);
        return client
          .db('read_0')
          .collection('items')
          .findOne({ _id: new ObjectId(ID_HEX) });
      };
    },
    'polymongo native': async () => {
      const { createPolyMongo } = await import('@polymongo/native');
      const { ObjectId } = await import('mongodb');
      return async () => {
        const poly = createPolyMongo({ uri, tracing: false });
        return poly
          .db('read_0')
          .collection('items')
          .findOne({ _id: new ObjectId(ID_HEX) });
      };
    },
    // What an application that has @opentelemetry/api installed gets (no tracer provider registered): the API loaded at
    // construction and command monitoring on. An extra row; see contenders.mjs for why the others pass tracing: false.
    'polymongo native, tracing on': async () => {
      const { createPolyMongo } = await import('@polymongo/native');
      const { ObjectId } = await import('mongodb');
      return async () => {
        const poly = createPolyMongo({ uri });
        return poly
          .db('read_0')
          .collection('items')
          .findOne({ _id: new ObjectId(ID_HEX) });
      };
    },
    'plain Mongoose': async () => {
      const { default: mongoose } = await import('mongoose');
      return async () => {
        const conn = mongoose.createConnection(uri);
        const Item = conn.useDb('read_0', { useCache: true }).model('Item', new mongoose.Schema(fields, schemaOptions));
        return Item.findOne({ _id: ID_HEX }).lean();
      };
    },
    'polymongo mongoose': async () => {
      const { default: mongoose } = await import('mongoose');
      const { createMongooseAdapter } = await import('@polymongo/mongoose');
      return async () => {
        const adapter = createMongooseAdapter({ uri, mongoose, tracing: false });
        const Item = adapter.wrapModel(mongoose.model('Item', new mongoose.Schema(fields, schemaOptions)));
        return Item.db('read_0').findOne({ _id: ID_HEX }).lean();
      };
    },
    // Connects at construction (coldStart: false), as plain Mongoose's createConnection(uri) does; the default connects
    // on the first operation. An extra row: the same work in the same order as the plain Mongoose contender.
    'polymongo mongoose, coldStart: false': async () => {
      const { default: mongoose } = await import('mongoose');
      const { createMongooseAdapter } = await import('@polymongo/mongoose');
      return async () => {
        const adapter = createMongooseAdapter({ uri, mongoose, tracing: false, coldStart: false });
        const Item = adapter.wrapModel(mongoose.model('Item', new mongoose.Schema(fields, schemaOptions)));
        return Item.db('read_0').findOne({ _id: ID_HEX }).lean();
      };
    },
    'polymongo 1.3.0': async () => {
      const { createRequire } = await import('node:module');
      const require = createRequire(import.meta.url);
      const PolyMongoV1 = require('polymongo-v1');
      const v1Mongoose = createRequire(require.resolve('polymongo-v1'))('mongoose');
      return async () => {
        const wrapper = (PolyMongoV1.default ?? PolyMongoV1).createWrapper({ mongoURI: uri, coldStart: true, debug: false });
        const Item = wrapper.wrapModel(v1Mongoose.model('Item', new v1Mongoose.Schema(fields, schemaOptions)));
        return Item.db('read_0').findOne({ _id: ID_HEX }).lean();
      };
    },
  };
}
