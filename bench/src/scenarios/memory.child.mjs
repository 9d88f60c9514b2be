// One contender in a fresh process: heap growth (after GC) from touching N tenants, per tenant. Prints JSON.
//   node --expose-gc bench/src/scenarios/memory.child.mjs --contender NAME --tenants N --uri URI [--bound B]
import { parseArgs } from 'node:util';
import { contenders } from '../contenders.mjs';

const { values } = parseArgs({
  options: { contender: { type: 'string' }, tenants: { type: 'string' }, uri: { type: 'string' }, bound: { type: 'string' } },
});
const tenants = Number(values.tenants);
const c = contenders[values.contender].make(values.uri, values.bound ? { maxCachedTenants: Number(values.bound) } : {});
await c.ready();
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
await settle();
global.gc();
global.gc();
const before = process.memoryUsage();
for (let i = 0; i < tenants; i++) c.handle(`mem_${i}`);
// Mongoose runs each newly compiled model's init() in the background: let it finish, so what is counted stays.
await settle();
global.gc();
global.gc();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    heapMB: (after.heapUsed - before.heapUsed) / 1048576,
    bytesPerTenant: (after.heapUsed - before.heapUsed) / tenants,
    rssMB: after.rss / 1048576,
  })}\n`,
);
await c.close();
process.exit(0);
