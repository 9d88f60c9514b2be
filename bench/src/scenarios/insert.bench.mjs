// Insert: insertOne (Mongoose: Model.create) of a small document, round-robin over 200 tenants, 32 in flight.
//   node bench/src/scenarios/insert.bench.mjs [--quick] [--uri mongodb://...]
import { runScenario } from '../runner/cli.mjs';
import { throughput } from '../runner/throughput.mjs';

const TENANTS = 200;
const tenant = (t) => `insert_${t}`;

await runScenario('insert', ({ uri, quick }) =>
  throughput({ uri, quick, tenants: TENANTS, tenant, op: (c, n) => c.insertOne(tenant(n % TENANTS), { name: `w${n}`, n, tags: ['x'] }) }),
);
