// Writes a heap snapshot after touching N tenants with one contender (after two full GCs), for heap-diff.mjs.
//   node --expose-gc bench/src/tools/heap-snapshot.mjs CONTENDER N OUT.heapsnapshot URI [BOUND]
import v8 from 'node:v8';
import { contenders } from '../contenders.mjs';

const [name, n, out, uri, bound] = process.argv.slice(2);
const c = contenders[name].make(uri, bound ? { maxCachedTenants: Number(bound) } : {});
await c.ready();
await new Promise((r) => setTimeout(r, 300));
for (let i = 0; i < Number(n); i++) c.handle(`mem_${i}`);
await new Promise((r) => setTimeout(r, 300));
global.gc();
global.gc();
v8.writeHeapSnapshot(out);
await c.close();
process.exit(0);
