// One cold start in a fresh process: import time, then construction → first answer (findOne by _id). Prints JSON.
//   node bench/src/scenarios/coldstart.child.mjs --contender NAME --uri URI
// Imports are dynamic so that their time is measured on its own; nothing else is loaded before them.
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { contender: { type: 'string' }, uri: { type: 'string' } } });
const { uri } = values;
const ID_HEX = '650000000000000000000000';
const fields = { name: String, n: Number, tags: [String] };
const schemaOptions = { collection: 'items', autoCreate: false, autoIndex: false };

const starts = {
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
      const adapter = createMongooseAdapter({ uri, mongoose });
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

const name = values.contender.replace(/, twin$/, '');
// CPU time (process.cpuUsage, all threads) beside wall time: on a busy machine it is the steadier figure.
const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const c0 = process.cpuUsage();
const t0 = performance.now();
const firstQuery = await starts[name]();
const t1 = performance.now();
const c1 = process.cpuUsage();
const doc = await firstQuery();
const t2 = performance.now();
const firstAnswerCpuMs = cpuMs(c1);
const importCpuMs = cpuMs(c0) - firstAnswerCpuMs;
if (!doc) throw new Error(`${name}: the first query found nothing (was read_0 seeded?)`);
process.stdout.write(
  `${JSON.stringify({ importMs: t1 - t0, firstAnswerMs: t2 - t1, importCpuMs, firstAnswerCpuMs, sinceProcessStartMs: t2 })}\n`,
);
process.exit(0);
