// Client-side cost of admission per operation, without a server: Collection.prototype.findOne is stubbed to resolve
// at once, so what is timed is PolyMongo's own path (handle lookup, Proxy, quota/slot bookkeeping, promise plumbing)
// with fairness off and with fairness { maxConcurrentPerTenant: 2 }, in alternating rounds.
// Usage: node bench/src/tools/fairness-overhead.mjs
import { createPolyMongo } from '@polymongo/native';
import { Collection } from 'mongodb';

Collection.prototype.findOne = function findOne() {
  return Promise.resolve(null);
};

const TENANTS = 20;
const OPS = 200_000;
const ROUNDS = 7;
const make = (fairness) =>
  createPolyMongo({
    uri: 'mongodb://127.0.0.1:9',
    logger: { level: 'silent' },
    pool: { maxPoolSize: 8 },
    ...(fairness ? { fairness } : {}),
  });
const clients = { off: make(), fairness: make({ maxConcurrentPerTenant: 2 }) };
const ids = Array.from({ length: TENANTS }, (_, i) => `ovh_${i}`);

// Two call shapes: `poly.db(t).collection(name).findOne()` on every call (the driver makes a new Collection each
// time; the admitted handle caches its Collection proxies), and findOne on Collections held by the caller.
const held = Object.fromEntries(Object.entries(clients).map(([k, poly]) => [k, ids.map((t) => poly.db(t).collection('items'))]));
const shapes = {
  perCall: (name) => (i) =>
    clients[name]
      .db(ids[i % TENANTS])
      .collection('items')
      .findOne({ _id: i }),
  held: (name) => (i) => held[name][i % TENANTS].findOne({ _id: i }),
};

async function time(op) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < OPS; i++) await op(i);
  return Number(process.hrtime.bigint() - start) / OPS;
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const out = {};
for (const [shape, op] of Object.entries(shapes)) {
  for (const name of Object.keys(clients)) await time(op(name));
  const results = { off: [], fairness: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 ? ['fairness', 'off'] : ['off', 'fairness']) results[name].push(await time(op(name)));
  }
  const off = median(results.off);
  const on = median(results.fairness);
  out[shape] = { nsPerOpOff: Math.round(off), nsPerOpFairness: Math.round(on), addedNsPerOp: Math.round(on - off) };
}
for (const poly of Object.values(clients)) await poly.forceClose();
console.log(JSON.stringify(out));
