// One cold start in a fresh process: import time, then construction → first answer (findOne by _id). Prints JSON.
//   node bench/src/scenarios/coldstart.child.mjs --contender NAME --uri URI [--profile FILE.cpuprofile]
// --profile writes a CPU profile of construction → first answer only (bench/src/tools/profile-summary.mjs reads it).
// Imports are dynamic so that their time is measured on its own; nothing else is loaded before them.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { contender: { type: 'string' }, uri: { type: 'string' }, profile: { type: 'string' } },
});
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

async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  return {
    stop: async (file) => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

const name = values.contender.replace(/, twin$/, '');
// CPU time (process.cpuUsage, all threads) beside wall time: on a busy machine it is the steadier figure.
const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const c0 = process.cpuUsage();
const t0 = performance.now();
const firstQuery = await starts[name]();
// A full collection between import and construction (run with --expose-gc), for every contender alike: otherwise
// whether the first old-space collection of the import's garbage (5+ ms, with helper threads) lands inside the span
// depends on how much each contender's imports allocated, not on what construction and the first query cost.
globalThis.gc?.();
const profiler = values.profile ? await startProfiler() : undefined;
const t1 = performance.now();
const c1 = process.cpuUsage();
const doc = await firstQuery();
const t2 = performance.now();
if (profiler) await profiler.stop(values.profile);
const firstAnswerCpuMs = cpuMs(c1);
const importCpuMs = cpuMs(c0) - firstAnswerCpuMs;
if (!doc) throw new Error(`${name}: the first query found nothing (was read_0 seeded?)`);
process.stdout.write(
  `${JSON.stringify({ importMs: t1 - t0, firstAnswerMs: t2 - t1, importCpuMs, firstAnswerCpuMs, sinceProcessStartMs: t2 })}\n`,
);
process.exit(0);
