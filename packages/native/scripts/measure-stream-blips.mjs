// Events lost and duplicated by change streams across dropped connections and a server restart.
// Run after a build: pnpm turbo run build --filter=@polymongo/native... && node packages/native/scripts/measure-stream-blips.mjs [rounds]
import { createPolyMongo, InMemoryResumeTokenStore } from '@polymongo/native';
import { startMongo } from '@polymongo/testkit';

const rounds = Number(process.argv[2] ?? 5);
const TENANTS = ['m_a', 'm_b', 'm_c'];
const BATCHES = 10;
const PER_BATCH = 60;

let retried = 0;
async function insertOnce(poly, tenant, i) {
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) retried += 1;
    try {
      await poly.db(tenant).collection('c').insertOne({ _id: i, i });
      return;
    } catch (error) {
      if (error?.code === 11000) return;
      if (attempt >= 50) throw error;
    }
  }
}

async function settle(check, timeoutMS) {
  const until = Date.now() + timeoutMS;
  while (Date.now() < until && !check()) await new Promise((r) => setTimeout(r, 50));
}

function score(seen, expected) {
  const unique = new Set(seen);
  const lost = expected.filter((i) => !unique.has(i)).length;
  const missing = expected.filter((i) => !unique.has(i));
  return {
    delivered: seen.length,
    lost,
    duplicated: seen.length - unique.size,
    ...(missing.length ? { missing: missing.slice(0, 10) } : {}),
  };
}

const totals = {};
for (let round = 0; round < rounds; round++) {
  const mongo = await startMongo({ embeddedOnly: true, quiet: true });
  const poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' } });
  poly.on('error', () => {});
  for (const t of TENANTS) await poly.db(t).collection('c').insertOne({ seed: t });
  const seen = { watch: [], resumeWatchHandler: [], watchAll: [] };
  const stream = poly.watch('m_a', { collection: 'c', maxAwaitTimeMS: 50 });
  stream.on('change', (e) => seen.watch.push(e.fullDocument.i));
  await poly.resumeWatch('m_b', {
    collection: 'c',
    maxAwaitTimeMS: 50,
    store: new InMemoryResumeTokenStore(),
    key: 'b',
    maxInFlight: 4,
    handler: async (e) => void seen.resumeWatchHandler.push(e.fullDocument.i),
  });
  const fan = poly.watchAll({ tenants: TENANTS, collection: 'c', maxAwaitTimeMS: 50 });
  fan.on('change', ({ change }) => seen.watchAll.push(change.fullDocument.i));
  await fan.ready;
  // A new stream starts at its first aggregate: write markers (negative ids, not scored) until every stream sees one.
  for (let marker = -1; marker > -200; marker--) {
    await insertOnce(poly, 'm_a', marker);
    await insertOnce(poly, 'm_b', marker);
    await settle(() => seen.watch.length > 0 && seen.resumeWatchHandler.length > 0 && seen.watchAll.length > 0, 100);
    if (seen.watch.length > 0 && seen.resumeWatchHandler.length > 0 && seen.watchAll.length > 0) break;
  }
  let n = 0;
  let blips = 0;
  let restarts = 0;
  for (let b = 0; b < BATCHES; b++) {
    const batch = [];
    for (let k = 0; k < PER_BATCH; k++, n++) batch.push(insertOnce(poly, TENANTS[n % 3], n));
    await Promise.all(batch);
    if (b === BATCHES / 2) {
      await mongo.embedded.stop();
      await mongo.embedded.start();
      restarts += 1;
    } else {
      mongo.embedded.dropAllConnections();
      blips += 1;
    }
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const expected = {
    watch: all.filter((i) => i % 3 === 0),
    resumeWatchHandler: all.filter((i) => i % 3 === 1),
    watchAll: all,
  };
  for (const k of Object.keys(seen)) seen[k] = seen[k].filter((i) => i >= 0);
  const count = (k) => new Set(seen[k].filter((i) => i >= 0)).size;
  await settle(() => Object.keys(expected).every((k) => count(k) >= expected[k].length), 20_000);
  const result = Object.fromEntries(Object.keys(expected).map((k) => [k, score(seen[k], expected[k])]));
  console.log(JSON.stringify({ round, writes: n, appRetries: retried, blips, restarts, ...result }));
  retried = 0;
  for (const [k, v] of Object.entries(result)) {
    totals[k] ??= { lost: 0, duplicated: 0, delivered: 0 };
    totals[k].lost += v.lost;
    totals[k].duplicated += v.duplicated;
    totals[k].delivered += v.delivered;
  }
  await poly.forceClose();
  await mongo.stop();
}
console.log(JSON.stringify({ rounds, totals }));
