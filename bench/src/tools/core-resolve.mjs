// Cost of TenantRouter.resolve() and of the core hot path acquire(), and heap growth after 1,000,000 tenants.
// Usage: pnpm --filter @polymongo/bench core-resolve   (runs node --expose-gc)
import { createCore } from '@polymongo/core';

const noopPort = {
  createPool: (spec) => ({ spec }),
  connect: async () => {},
  handle: (pool, dbName) => ({ pool, dbName }),
  close: async () => {},
  ping: async () => {},
  numbers: () => ({ open: 0, inUse: 0, available: 0, waiting: 0 }),
};

function makeCore() {
  return createCore({ uri: 'mongodb://127.0.0.1:27017', logger: { level: 'silent' } }, noopPort);
}

function timeLoop(fn, ids, ops) {
  const n = ids.length;
  // Warm up, then measure ops calls round-robin over the ids.
  for (let i = 0; i < Math.min(ops, 200_000); i++) fn(ids[i % n]);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn(ids[i % n]);
  return Number(process.hrtime.bigint() - start) / ops;
}

// Heap first, in a fresh heap, so the timing runs below leave nothing behind in the measurement.
if (!global.gc) throw new Error('run with node --expose-gc');
global.gc();
const core = makeCore();
global.gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < 1_000_000; i++) core.acquire(`heap-tenant-${i}`);
global.gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    node: process.version,
    heapGrowthAfter1MTenantsMB: +((after - before) / 1024 / 1024).toFixed(2),
    cachedTenants: core.stats().tenants.cached,
    maxCachedTenants: core.stats().tenants.maxCached,
  }),
);

const results = [];
for (const distinct of [10, 10_000, 1_000_000]) {
  const ids = Array.from({ length: distinct }, (_, i) => `tenant-${i}`);
  const ops = Math.max(2_000_000, distinct * 2);
  const resolveCore = makeCore();
  const acquireCore = makeCore();
  results.push({
    distinctTenants: distinct,
    ops,
    'resolve ns/op': +timeLoop((id) => resolveCore.router.resolve(id), ids, ops).toFixed(1),
    'acquire ns/op': +timeLoop((id) => acquireCore.acquire(id), ids, ops).toFixed(1),
  });
}
console.table(results);
