// Handle acquisition of one contender at N tenants, for CPU profiling:
//   node --cpu-prof --cpu-prof-dir=/tmp/prof src/tools/profile-acquire.mjs 'polymongo native' 100000
//   node src/tools/profile-summary.mjs /tmp/prof/*.cpuprofile
import { startMongo } from '@polymongo/testkit';
import { contenders } from '../contenders.mjs';

const [which = 'polymongo native', tenants = '10000', seconds = '4'] = process.argv.slice(2);
const n = Number(tenants);
const mongo = await startMongo({ quiet: true, embeddedOnly: true });
const c = contenders[which].make(mongo.uri);
await c.ready();
const ids = Array.from({ length: n }, (_, i) => `p_${i}`);
for (const id of ids) c.handle(id);
const started = performance.now();
let ops = 0;
while (performance.now() - started < Number(seconds) * 1000) {
  for (let k = 0; k < 100; k++) c.handle(ids[ops++ % n]);
}
console.log(`${which} at ${n} tenants: ${(((performance.now() - started) * 1e6) / ops).toFixed(1)} ns/op`);
await c.close();
await mongo.stop();
