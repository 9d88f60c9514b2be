// Connections: server-side connections opened while 1,000 tenants are queried at once (one pool per tenant: 100).
//   node bench/src/scenarios/connections.bench.mjs [--uri mongodb://...]
import { MongoClient } from 'mongodb';
import { ADAPTER, COLLECTION, contenders, NATIVE, PLAIN, poolPerTenant, RAW, SEED_IDS, V1 } from '../contenders.mjs';
import { runScenario } from '../runner/cli.mjs';

await runScenario('connections', async ({ uri, quick }) => {
  const tenants = quick ? 100 : 1_000;
  const observer = await new MongoClient(uri).connect();
  for (let t = 0; t < tenants; t++) {
    const coll = observer.db(`conn_${t}`).collection(COLLECTION);
    await coll.deleteMany({});
    await coll.insertOne({ _id: SEED_IDS[0], name: 'item-0', n: 0, tags: [] });
  }
  const current = async () => (await observer.db('admin').command({ serverStatus: 1 })).connections.current;
  const measure = async (c, n) => {
    const baseline = await current();
    let peak = baseline;
    const sampler = setInterval(() => {
      current().then(
        (v) => (peak = Math.max(peak, v)),
        () => {},
      );
    }, 10);
    await Promise.all(Array.from({ length: n }, (_, t) => c.findById(`conn_${t}`, 0)));
    peak = Math.max(peak, await current());
    clearInterval(sampler);
    return peak - baseline;
  };
  const rows = [];
  for (const name of [RAW, NATIVE, PLAIN, ADAPTER, V1]) {
    const c = contenders[name].make(uri);
    const opened = await measure(c, tenants);
    rows.push({ contender: name, tenants, connections: opened, perTenant: opened / tenants });
    await c.close();
  }
  const naive = poolPerTenant(uri);
  const n = quick ? 30 : 100;
  const opened = await measure(naive, n);
  rows.push({ contender: 'one Mongoose connection (pool) per tenant', tenants: n, connections: opened, perTenant: opened / n });
  await naive.close();
  await observer.close();
  return { config: { tenants, poolSize: 32 }, rows };
});
