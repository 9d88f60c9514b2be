// Heap after touching 10,000 tenants through Mongoose: @polymongo/mongoose (maxCachedTenants 1000) against plain
// connection.useDb(name, { useCache: true }) + model(). Each contender runs in its own process for a clean heap.
// Usage: pnpm --filter @polymongo/bench mongoose-heap [--tenants 10000]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { tenants: { type: 'string', default: '10000' }, contender: { type: 'string' }, uri: { type: 'string' } },
});
const tenants = Number(values.tenants);

async function measure(contender, uri) {
  const mongoose = (await import('mongoose')).default;
  const schema = new mongoose.Schema({ name: String, n: Number });
  const Base = mongoose.model('HeapUser', schema);
  const gc = () => {
    global.gc();
    global.gc();
  };
  let touch;
  let close;
  if (contender === 'polymongo') {
    const { createMongooseAdapter } = await import('@polymongo/mongoose');
    const m = createMongooseAdapter({ uri, maxCachedTenants: 1000, logger: { level: 'silent' } });
    const User = m.wrapModel(Base);
    touch = (t) => User.db(t);
    close = () => m.close();
    await User.db('warm').findOne().lean();
  } else {
    const conn = await mongoose.createConnection(uri).asPromise();
    touch = (t) => conn.useDb(t, { useCache: true }).model('HeapUser', schema);
    close = () => conn.close();
    await touch('warm').findOne().lean();
  }
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < tenants; i++) {
    const model = touch(`heap_tenant_${i}`);
    if (i % 1000 === 0) await model.findOne().lean();
  }
  gc();
  const after = process.memoryUsage();
  await close();
  return {
    contender,
    tenants,
    heapGrowthMB: +((after.heapUsed - before.heapUsed) / 1048576).toFixed(1),
    rssMB: +(after.rss / 1048576).toFixed(1),
  };
}

if (values.contender) {
  console.log(JSON.stringify(await measure(values.contender, values.uri)));
  process.exit(0);
}

const { startMongo } = await import('@polymongo/testkit');
const mongo = await startMongo({ quiet: true });
const run = (contender) =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--contender', contender, '--uri', mongo.uri, '--tenants', String(tenants)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${contender} exited ${code}`)),
    );
  });
const results = [await run('plain-useDb'), await run('polymongo')];
await mongo.stop();
console.table(results);
console.log(`polymongo heap / plain useDb heap = ${(results[1].heapGrowthMB / results[0].heapGrowthMB).toFixed(3)}`);
