// Read: findOne by _id, 1,000 tenants (--quick: 200) with 10 documents each, 32 in flight, every contender in paired rounds.
//   node bench/src/scenarios/read.bench.mjs [--quick] [--uri mongodb://...]
import { MongoClient } from 'mongodb';
import { COLLECTION, SEED_IDS } from '../contenders.mjs';
import { runScenario } from '../runner/cli.mjs';
import { throughput } from '../runner/throughput.mjs';

const tenant = (t) => `read_${t}`;

await runScenario('read', async ({ uri, quick }) => {
  const TENANTS = quick ? 200 : 1_000;
  const seeder = await new MongoClient(uri).connect();
  for (let t = 0; t < TENANTS; t++) {
    const coll = seeder.db(tenant(t)).collection(COLLECTION);
    await coll.deleteMany({});
    await coll.insertMany(SEED_IDS.map((_id, i) => ({ _id, name: `item-${i}`, n: i, tags: ['a', 'b'] })));
  }
  await seeder.close();
  // A stride that is prime to the tenant count visits every tenant, never two neighbours in a row.
  return throughput({ uri, quick, tenants: TENANTS, tenant, op: (c, n) => c.findById(tenant((n * 7919) % TENANTS), n % 10) });
});
