// Fairness: one shared pool (maxPoolSize 8); a hot tenant floods it with 64 concurrent slow operations (a failCommand
// fail point blocks its `aggregate`s 200 ms on the server; normal tenants only send `find`) while 20 normal tenants
// run findOne by _id in closed loops. Normal tenants' latency (a) without the flood, (b) with it and fairness off,
// (c) with it and fairness { maxConcurrentPerTenant: 2 }; then the cost of fairness configured without contention,
// in paired rounds against fairness off. The three phases run in rounds, in an order rotated each round.
//   node bench/src/scenarios/fairness.bench.mjs [--quick] [--uri mongodb://...]
import { createPolyMongo } from '@polymongo/native';
import { MongoClient } from 'mongodb';
import { log, runScenario } from '../runner/cli.mjs';
import { closedLoop } from '../runner/load.mjs';
import { pairedRounds, summarise } from '../runner/paired.mjs';

const APP = 'polymongo-bench-fairness';
const NORMAL = 20;
const FLOOD = 64;
const BLOCK_MS = 200;
const POOL = 8;
const HOT = 'fair_hot';
const normal = (i) => `fair_n${i}`;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (v) => Math.round(v * 100) / 100;

function makeClient(uri, fairness) {
  return createPolyMongo({
    uri,
    pool: { maxPoolSize: POOL },
    logger: { level: 'silent' },
    driverOptions: { appName: APP },
    ...(fairness ? { fairness } : {}),
  });
}

/** Normal tenants' findOne latencies for `seconds`, with the hot tenant flooding when `flood` is set. */
async function phase(uri, { fairness, flood, seconds, warmupSeconds }) {
  const poly = makeClient(uri, fairness);
  await poly.connect();
  const find = (i) =>
    poly
      .db(normal(i % NORMAL))
      .collection('items')
      .findOne({ _id: i % 10 });
  await closedLoop(warmupSeconds, NORMAL, find);
  let stopFlood = false;
  const hot = { done: 0, rejected: 0 };
  const flooding = flood
    ? Array.from({ length: FLOOD }, async () => {
        while (!stopFlood) {
          try {
            await poly.db(HOT).collection('slow').countDocuments({});
            hot.done += 1;
          } catch (error) {
            if (error?.code !== 'TENANT_OVERLOADED') throw error;
            hot.rejected += 1;
          }
        }
      })
    : [];
  // Let the flood fill the pool (and the driver's wait queue) before measuring.
  if (flood) await new Promise((r) => setTimeout(r, 2 * BLOCK_MS));
  const latencies = [];
  const hotBefore = hot.done;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: NORMAL }, async (_, worker) => {
      for (let n = worker; performance.now() < deadline; n += NORMAL) {
        const t = performance.now();
        await poly
          .db(normal(worker))
          .collection('items')
          .findOne({ _id: n % 10 });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const hotDone = hot.done - hotBefore;
  stopFlood = true;
  await Promise.all(flooding);
  await poly.close({ timeoutMS: 5_000 });
  return { latencies, elapsed, hotDone, hotRejected: hot.rejected };
}

/** One phase's figures over every round it ran in. */
function summarisePhase(runs, flood) {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((n, r) => n + r.elapsed, 0);
  return {
    normalOps: latencies.length,
    normalOpsPerSec: Math.round(latencies.length / elapsed),
    p50MS: ms(percentile(latencies, 50)),
    p99MS: ms(percentile(latencies, 99)),
    maxMS: ms(latencies.at(-1)),
    ...(flood
      ? {
          hotOpsPerSec: Math.round((runs.reduce((n, r) => n + r.hotDone, 0) / elapsed) * 10) / 10,
          hotRejected: runs.reduce((n, r) => n + r.hotRejected, 0),
        }
      : {}),
  };
}

await runScenario('fairness', async ({ uri, quick }) => {
  const config = quick
    ? { phaseRounds: 1, seconds: 2, warmupSeconds: 0.5, rounds: 4, roundSeconds: 0.3 }
    : { phaseRounds: 3, seconds: 2, warmupSeconds: 0.5, rounds: 12, roundSeconds: 1 };
  const observer = await new MongoClient(uri).connect();
  for (let i = 0; i < NORMAL; i++) {
    const coll = observer.db(normal(i)).collection('items');
    await coll.deleteMany({});
    await coll.insertMany(Array.from({ length: 10 }, (_, k) => ({ _id: k, name: `item-${k}`, n: k })));
  }
  await observer.db(HOT).collection('slow').deleteMany({});
  await observer.db(HOT).collection('slow').insertOne({ x: 1 });
  const failPoint = (mode) =>
    observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode,
      data: { failCommands: ['aggregate'], blockConnection: true, blockTimeMS: BLOCK_MS, appName: APP },
    });
  await failPoint('alwaysOn');
  // The phases run in rounds, in an order rotated each round, so a slow minute of a shared machine hits them alike.
  const PHASES = {
    a: { label: '(a) no flood', flood: false },
    b: { label: '(b) flood, fairness off', flood: true },
    c: { label: '(c) flood, fairness { maxConcurrentPerTenant: 2 }', flood: true, fairness: { maxConcurrentPerTenant: 2 } },
  };
  const keys = Object.keys(PHASES);
  const runs = { a: [], b: [], c: [] };
  try {
    for (let r = 0; r < config.phaseRounds; r++) {
      for (const key of keys.map((_, i) => keys[(i + r) % keys.length])) {
        log(`  round ${r + 1}/${config.phaseRounds}: ${PHASES[key].label}`);
        runs[key].push(await phase(uri, { ...config, ...PHASES[key] }));
      }
    }
  } finally {
    await failPoint('off');
  }
  const phases = Object.fromEntries(keys.map((k) => [k, summarisePhase(runs[k], PHASES[k].flood)]));

  // Overhead without contention: POOL operations in flight over the normal tenants, never over a tenant's limit.
  // (bench/src/scenarios/fairness-overhead.bench.mjs measures this in more detail, serverless cost included.)
  log('  overhead: fairness configured vs off, paired rounds');
  const contenders = {
    'fairness off': makeClient(uri),
    'fairness off (twin)': makeClient(uri),
    'fairness { maxConcurrentPerTenant: 2 }': makeClient(uri, { maxConcurrentPerTenant: 2 }),
  };
  // Each operation takes a tenant no other operation is using (tenant n % NORMAL could have 3 in flight when one
  // stalls, and queue at the limit of 2: contention, not overhead). Every contender pays the same bookkeeping.
  const op = (poly) => {
    const free = Array.from({ length: NORMAL }, (_, i) => i);
    return async (n) => {
      const i = free.shift();
      try {
        await poly
          .db(normal(i))
          .collection('items')
          .findOne({ _id: n % 10 });
      } finally {
        free.push(i);
      }
    };
  };
  for (const poly of Object.values(contenders)) {
    await poly.connect();
    await closedLoop(config.warmupSeconds, POOL, op(poly));
  }
  const rounds = await pairedRounds(
    Object.keys(contenders),
    config.rounds,
    (name) => closedLoop(config.roundSeconds, POOL, op(contenders[name])),
    log,
  );
  for (const poly of Object.values(contenders)) await poly.close();
  await observer.close();
  const overhead = summarise(
    rounds,
    [
      ['fairness off', { group: 'fairness' }],
      ['fairness off (twin)', { group: 'fairness', twinOf: 'fairness off' }],
      ['fairness { maxConcurrentPerTenant: 2 }', { group: 'fairness', baseline: 'fairness off' }],
    ],
    { opsPerSec: { higherIsBetter: true }, cpuUsPerOp: { higherIsBetter: false } },
  );
  const p99Ratio = Math.round((phases.c.p99MS / phases.a.p99MS) * 1000) / 1000;
  return {
    config: { ...config, poolSize: POOL, normalTenants: NORMAL, flood: FLOOD, blockMS: BLOCK_MS, overheadInFlight: POOL },
    phases,
    p99Ratio,
    overhead,
  };
});
