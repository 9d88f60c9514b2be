// Fairness overhead without contention: what configuring fairness (and quotas) costs when no tenant ever reaches its
// limits (issue #15's goal: ops/s ≥ 0.97× fairness off, in paired rounds). Two measurements, one process:
//  1. serverless, in ns per operation: Collection.prototype.findOne is stubbed to resolve at once, so only PolyMongo's
//     own path is timed (handle, wrapper, quota and slot bookkeeping, promise plumbing); contenders in rotated rounds,
//     with a twin of "off" for the noise floor.
//  2. against the server: 8 closed-loop workers, each on tenants of its own (at most one operation of a tenant in
//     flight, never more than the pool), findOne by _id on Collections the caller holds (the shape where admission
//     costs the most: the handle's cached Collections cannot win anything back); ops/s and client CPU per operation in
//     paired, interleaved rounds (order rotated each round), "fairness off (twin)" giving the noise floor.
//   node bench/src/scenarios/fairness-overhead.bench.mjs [--quick] [--uri mongodb://...]
import { createPolyMongo } from '@polymongo/native';
import { Collection } from 'mongodb';
import { log, runScenario } from '../runner/cli.mjs';
import { pairedRounds, summarise } from '../runner/paired.mjs';
import { median, round } from '../runner/stats.mjs';

const POOL = 8;
const WORKERS = 8;
const TENANTS = 24;
const DOCS = 10;
const tenant = (i) => `fovh_${i}`;

const CONTENDERS = {
  'fairness off': {},
  'fairness off (twin)': {},
  'fairness { maxConcurrentPerTenant: 2 }': { fairness: { maxConcurrentPerTenant: 2 } },
  'fairness + quotas { opsPerSecond: 1e6 }': { fairness: { maxConcurrentPerTenant: 2 }, quotas: { opsPerSecond: 1e6 } },
};
const ENTRIES = [
  ['fairness off', { group: 'fairness' }],
  ['fairness off (twin)', { group: 'fairness', twinOf: 'fairness off' }],
  ['fairness { maxConcurrentPerTenant: 2 }', { group: 'fairness', baseline: 'fairness off' }],
  ['fairness + quotas { opsPerSecond: 1e6 }', { group: 'fairness', baseline: 'fairness off' }],
];

const make = (uri, options) => createPolyMongo({ uri, pool: { maxPoolSize: POOL }, logger: { level: 'silent' }, ...options });

/** Per contender, the Collections of every tenant, taken once (the caller holds them). */
const held = (poly) => Array.from({ length: TENANTS }, (_, i) => poly.db(tenant(i)).collection('items'));

/** PolyMongo's own cost per findOne, in ns, with the driver call stubbed out. Rounds rotate the contenders. */
async function serverless({ rounds, ops }) {
  const original = Collection.prototype.findOne;
  Collection.prototype.findOne = function findOne() {
    return Promise.resolve(null);
  };
  const clients = Object.fromEntries(Object.entries(CONTENDERS).map(([name, options]) => [name, make('mongodb://127.0.0.1:9', options)]));
  try {
    const shapes = {
      // Collections held by the caller.
      held: (name) => {
        const colls = held(clients[name]);
        return (i) => colls[i % TENANTS].findOne({ _id: i % DOCS });
      },
      // poly.db(t).collection(name) on every call (the driver makes a new Collection each time; an admitted handle
      // hands out its cached one).
      perCall: (name) => (i) =>
        clients[name]
          .db(tenant(i % TENANTS))
          .collection('items')
          .findOne({ _id: i % DOCS }),
    };
    const time = async (op) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) await op(i);
      return Number(process.hrtime.bigint() - start) / ops;
    };
    const names = Object.keys(CONTENDERS);
    const out = {};
    for (const [shape, build] of Object.entries(shapes)) {
      const ops = Object.fromEntries(names.map((n) => [n, build(n)]));
      for (const n of names) await time(ops[n]); // warm-up: every path compiled before anything is timed
      const ns = await pairedRounds(names, rounds, async (n) => ({ ns: await time(ops[n]) }));
      const perRound = Object.fromEntries(names.map((n) => [n, ns.map((r) => r.get(n).ns)]));
      // Added ns per op, paired inside each round against "off".
      const added = (n) => ns.map((r) => r.get(n).ns - r.get('fairness off').ns);
      const twin = added('fairness off (twin)');
      const floorNs = Math.max(Math.abs(median(twin)), (quantile(twin, 0.75) - quantile(twin, 0.25)) / 2);
      out[shape] = {
        nsPerOp: Object.fromEntries(names.map((n) => [n, Math.round(median(perRound[n]))])),
        addedNsPerOp: Object.fromEntries(
          names.slice(1).map((n) => {
            const a = added(n);
            return [n, { median: Math.round(median(a)), min: Math.round(Math.min(...a)), max: Math.round(Math.max(...a)) }];
          }),
        ),
        noiseFloorNs: Math.round(floorNs),
      };
    }
    return out;
  } finally {
    for (const poly of Object.values(clients)) await poly.forceClose();
    Collection.prototype.findOne = original;
  }
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.ceil(at)] - sorted[lo]) * (at - lo);
}

/** WORKERS closed loops for `seconds`; worker w only touches tenants w, w + WORKERS, ... so no tenant has 2 in flight. */
async function closedLoops(seconds, colls) {
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: WORKERS }, async (_, w) => {
      for (let k = 0; performance.now() < deadline; k++) {
        await colls[(w + WORKERS * (k % (TENANTS / WORKERS))) % TENANTS].findOne({ _id: k % DOCS });
        ops++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { opsPerSec: ops / elapsed, cpuUsPerOp: (cpu.user + cpu.system) / ops, ops };
}

await runScenario('fairness-overhead', async ({ uri, quick }) => {
  const config = quick
    ? { microRounds: 5, microOps: 50_000, rounds: 6, roundSeconds: 0.3, warmupSeconds: 0.5 }
    : { microRounds: 9, microOps: 200_000, rounds: 24, roundSeconds: 0.5, warmupSeconds: 1 };

  log('  serverless: ns per findOne with the driver call stubbed');
  const micro = await serverless({ rounds: config.microRounds, ops: config.microOps });

  log('  against the server: paired rounds, no contention');
  const seed = make(uri, {});
  for (let i = 0; i < TENANTS; i++) {
    const coll = seed.db(tenant(i)).collection('items');
    await coll.deleteMany({});
    await coll.insertMany(Array.from({ length: DOCS }, (_, k) => ({ _id: k, name: `item-${k}`, n: k })));
  }
  await seed.close();
  const clients = Object.fromEntries(Object.entries(CONTENDERS).map(([name, options]) => [name, make(uri, options)]));
  const colls = Object.fromEntries(Object.entries(clients).map(([name, poly]) => [name, held(poly)]));
  for (const [name, poly] of Object.entries(clients)) {
    await poly.connect();
    await closedLoops(config.warmupSeconds, colls[name]);
  }
  const rounds = await pairedRounds(Object.keys(clients), config.rounds, (name) => closedLoops(config.roundSeconds, colls[name]), log);
  const leaks = Object.entries(clients)
    .map(([name, poly]) => [name, poly.stats().admission])
    .filter(([, a]) => a && (a.inFlight !== 0 || a.queued !== 0 || a.rejected !== 0 || a.throttled !== 0));
  for (const poly of Object.values(clients)) await poly.close();
  if (leaks.length > 0) throw new Error(`admission not back to zero after the rounds: ${JSON.stringify(leaks)}`);

  const overhead = summarise(rounds, ENTRIES, { opsPerSec: { higherIsBetter: true }, cpuUsPerOp: { higherIsBetter: false } });
  const off = overhead.rows.find((r) => r.contender === 'fairness off');
  // What the serverless cost predicts for throughput if the client's CPU were the bottleneck: off's client CPU per op
  // over the same plus the added ns.
  const predicted = Object.fromEntries(
    ENTRIES.filter(([, d]) => d.baseline).map(([name]) => [
      name,
      round(off.cpuUsPerOp / (off.cpuUsPerOp + micro.held.addedNsPerOp[name].median / 1000), 4),
    ]),
  );
  const floor = overhead.noiseFloor.fairness ?? {};
  return {
    config: { ...config, poolSize: POOL, workers: WORKERS, tenants: TENANTS },
    micro,
    overhead,
    summary: Object.fromEntries(
      ENTRIES.filter(([, d]) => d.baseline).map(([name]) => {
        const row = overhead.rows.find((r) => r.contender === name);
        const ops = row.opsPerSecRatio[0];
        const cpu = row.cpuUsPerOpRatio[0];
        return [
          name,
          {
            opsPerSecRatio: { median: ops.median, min: ops.min, max: ops.max, noiseFloor: round(floor.opsPerSec, 4), verdict: ops.verdict },
            cpuPerOpRatio: { median: cpu.median, min: cpu.min, max: cpu.max, noiseFloor: round(floor.cpuUsPerOp, 4), verdict: cpu.verdict },
            addedNsPerOpHeld: micro.held.addedNsPerOp[name],
            predictedClientBoundRatio: predicted[name],
            goalMet: ops.median >= 0.97,
          },
        ];
      }),
    ),
  };
});
