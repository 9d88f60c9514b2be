// Fleet operations over many tenants: `indexes sync`, `migrate up` and `migrate rerun` (the same run again, every
// tenant already migrated: the deploy-time case) with @polymongo/fleet against the same work as a plain hand-written
// driver loop, at the same concurrency on the same server. The hand loop is what a competent engineer writes: for
// indexes, listIndexes then one createIndexes of the missing ones; for an exactly-once migration, find the record,
// then one transaction with the change and the record insert (no lease: it relies on the transaction alone, as the
// fleet does for a tenant with one pending step). Each run is its own child process (clean heap numbers); the server
// is a separate process too (the embedded one unless --uri / MONGODB_URI is given). Per run: wall time, tenants/s,
// the contender's own CPU (and per tenant), the embedded server's CPU meanwhile, peak heap (garbage included), the
// heap still live after a full GC at the end of the work (what the contender holds), connections.
// Rounds are paired and interleaved: each round runs every contender once, in an order that rotates round by round.
// The embedded server slows down as it accumulates state (a fixed order favoured whoever went first), so each run gets
// a fresh embedded server seeded the same way (with --uri: the tenants are reset to the seeded state instead). A third
// contender, the hand loop again ("hand #2"), gives the noise floor: hand #2 / hand per round is what two identical
// contenders differ by on this machine; fleet / hand is meaningful only beyond that.
// With --baseline-build DIR (another checkout of this repository, built), a fourth contender runs the same fleet work
// from that checkout's packages ("fleet (baseline build)"): a change to the fleet against the code before it, paired
// round by round; `node bench/src/fleet-ci.mjs` then also prints fleet ÷ baseline with its interval.
//   node bench/src/fleet.mjs [--tenants 1000,10000] [--rounds 3] [--concurrency 16] [--only indexes|migrate]
//                            [--no-noise-floor] [--commands] [--uri ...] [--baseline-build DIR]
// Needs a build of packages/fleet (pnpm turbo run build --filter=@polymongo/fleet...). Duration on an idle 2-core
// machine with --tenants 1000,10000 --rounds 3: about 10 minutes (--no-noise-floor: about 7).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import { MongoClient } from 'mongodb';

const HERE = fileURLToPath(import.meta.url);
const PREFIX = 'fleetbench_';
const SPEC = [{ collection: 'orders', indexes: [{ key: { customer: 1 } }, { key: { createdAt: -1 } }, { key: { sku: 1 }, unique: true }] }];
const MIGRATION_ID = '2026-11-23-backfill-status';
const CONTENDER_NAMES = {
  hand: 'hand-written driver loop',
  fleet: '@polymongo/fleet',
  'hand #2': 'hand loop #2 (noise floor)',
  baseline: '@polymongo/fleet (baseline build)',
};

const { values } = parseArgs({
  options: {
    worker: { type: 'string' },
    uri: { type: 'string' },
    tenants: { type: 'string', default: '1000,10000' },
    concurrency: { type: 'string', default: '16' },
    only: { type: 'string' }, // 'indexes' or 'migrate'
    rounds: { type: 'string', default: '1' }, // paired rounds; the order of the contenders rotates
    'no-noise-floor': { type: 'boolean', default: false }, // leave out the second hand loop (shorter, no noise floor)
    commands: { type: 'boolean', default: false }, // count the commands each contender sends, by name (diagnostic)
    'baseline-build': { type: 'string' }, // another built checkout: its fleet runs as a fourth contender
    build: { type: 'string' }, // (worker) the checkout whose packages the fleet worker loads
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  // The header comment of this file is the help.
  const header = readFileSync(HERE, 'utf8').split('\n');
  console.log(
    header
      .slice(
        0,
        header.findIndex((line) => !line.startsWith('//')),
      )
      .map((line) => line.replace(/^\/\/ ?/, ''))
      .join('\n'),
  );
  process.exit(0);
}
const concurrency = Number(values.concurrency);
const baselineBuild = values['baseline-build'];
if (baselineBuild !== undefined && !existsSync(join(baselineBuild, 'packages/fleet/dist/index.js'))) {
  console.error(
    `--baseline-build ${baselineBuild}: no packages/fleet/dist there; build it first (pnpm turbo run build --filter=@polymongo/fleet...)`,
  );
  process.exit(2);
}

/** Bounded-concurrency loop over the tenant databases, as a competent hand-written script does it. */
async function handLoop(client, work) {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  const names = databases.map((d) => d.name).filter((n) => n.startsWith(PREFIX));
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const name = names[next++];
        try {
          await work(client.db(name));
        } catch {
          failed++;
        }
      }
    }),
  );
  return { tenants: names.length, failed };
}

const workers = {
  async 'raw:indexes'(uri) {
    const client = new MongoClient(uri, { maxPoolSize: concurrency, monitorCommands: values.commands });
    countCommands(client);
    await client.connect();
    const result = await handLoop(client, async (db) => {
      const orders = db.collection('orders');
      const existing = new Set((await orders.listIndexes().toArray()).map((ix) => ix.name));
      const missing = SPEC[0].indexes.filter(
        (ix) =>
          !existing.has(
            Object.entries(ix.key)
              .map(([k, v]) => `${k}_${v}`)
              .join('_'),
          ),
      );
      if (missing.length > 0) await orders.createIndexes(missing);
    });
    settle();
    await client.close();
    return result;
  },
  async 'fleet:indexes'(uri) {
    const { poly, fleet } = await makeFleet(uri);
    const result = await fleet.indexes.sync(SPEC, { concurrency });
    settle();
    await poly.close();
    return { tenants: result.tenants, failed: result.failed.length, created: result.created };
  },
  async 'raw:migrate'(uri) {
    const client = new MongoClient(uri, { maxPoolSize: concurrency, monitorCommands: values.commands });
    countCommands(client);
    await client.connect();
    const result = await handLoop(client, async (db) => {
      const records = db.collection('_migrations');
      if (await records.findOne({ _id: MIGRATION_ID })) return;
      const session = client.startSession();
      try {
        await session.withTransaction(async () => {
          await db.collection('orders').updateMany({ status: { $exists: false } }, { $set: { status: 'open' } }, { session });
          await records.insertOne({ _id: MIGRATION_ID, appliedAt: new Date() }, { session });
        });
      } finally {
        await session.endSession();
      }
    });
    settle();
    await client.close();
    return result;
  },
  async 'fleet:migrate'(uri) {
    const { poly, fleet, defineMigration } = await makeFleet(uri);
    const migration = defineMigration({
      id: MIGRATION_ID,
      up: ({ db, session }) =>
        db.collection('orders').updateMany({ status: { $exists: false } }, { $set: { status: 'open' } }, { session }),
    });
    let tenants = 0;
    const onProgress = (p) => {
      tenants = p.done + p.failed;
    };
    const result = await fleet.migrate({ migrations: [migration], concurrency, onProgress });
    settle();
    await poly.close();
    return { tenants, failed: result.failed.length };
  },
};

let modules;
/** Loaded before the clock starts, as the hand loop's `mongodb` is: module loading is not the work measured. */
async function loadFleet() {
  // The bench package does not depend on fleet; its build is loaded from the workspace (or from --build's checkout,
  // native with it).
  const root = values.build === undefined ? new URL('../../', import.meta.url) : pathToFileURL(`${resolve(values.build)}/`);
  const { createPolyMongo } =
    values.build === undefined ? await import('@polymongo/native') : await import(new URL('packages/native/dist/index.js', root).href);
  const { createFleet, defineMigration } = await import(new URL('packages/fleet/dist/index.js', root).href);
  modules = { createPolyMongo, createFleet, defineMigration };
}

async function makeFleet(uri) {
  const { createPolyMongo, createFleet, defineMigration } = modules;
  // No command spans: the hand loop creates none. (With @opentelemetry/api resolvable, as in this workspace, PolyMongo
  // traces every command by default, which also switches on the driver's command monitoring.)
  const poly = createPolyMongo({
    uri,
    pool: { maxPoolSize: concurrency },
    logger: { level: 'silent' },
    monitorOperations: values.commands,
    tracing: false,
  });
  countCommands(poly.client());
  return { poly, fleet: createFleet(poly), defineMigration };
}

/** With --commands: commands sent per name, from the driver's command monitoring. */
const sent = {};
function countCommands(client) {
  if (values.commands) client.on('commandStarted', (e) => (sent[e.commandName] = (sent[e.commandName] ?? 0) + 1));
}

/**
 * At the end of the work, before the client closes (the fleet still holds its result and its cached tenant handles):
 * the heap left after a full GC, i.e. what the contender keeps. Its time and CPU are taken off the measurement.
 */
const settled = { heapMB: undefined, ms: 0, cpuMS: 0 };
function settle() {
  const t = performance.now();
  const c = process.cpuUsage();
  globalThis.gc?.();
  settled.heapMB = getHeapStatistics().used_heap_size / 2 ** 20;
  const cpu = process.cpuUsage(c);
  settled.ms = performance.now() - t;
  settled.cpuMS = (cpu.user + cpu.system) / 1000;
}

if (values.worker) {
  if (values.worker.startsWith('fleet')) await loadFleet();
  // v8's heap statistics, not process.memoryUsage(): that one also reads the RSS from /proc, a cost inside the clock.
  let peakHeap = getHeapStatistics().used_heap_size;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)), 10);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await workers[values.worker](values.uri);
  const ms = performance.now() - started - settled.ms;
  const cpu = process.cpuUsage(cpuStart);
  clearInterval(sampler);
  // Client CPU is far less sensitive to a loaded machine than wall time: it shows what each contender costs itself.
  const cpuMS = (cpu.user + cpu.system) / 1000 - settled.cpuMS;
  const retainedHeapMB = settled.heapMB;
  process.stdout.write(
    `${JSON.stringify({ ...result, ms, cpuMS, peakHeapMB: peakHeap / 2 ** 20, retainedHeapMB, ...(values.commands ? { sent } : {}) })}\n`,
  );
  process.exit(0);
}

async function startServer() {
  if (values.uri ?? process.env.MONGODB_URI) return { uri: values.uri ?? process.env.MONGODB_URI, stop: async () => undefined };
  const bin = fileURLToPath(new URL('../../packages/testkit/bin/polymongo-embedded.js', import.meta.url));
  const child = spawn(process.execPath, ['--max-old-space-size=8192', bin, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  const exited = once(child, 'exit');
  return {
    uri: String(line).trim(),
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU seconds the embedded server process has used (Linux /proc; undefined for a given URI or elsewhere). */
function serverCpuSeconds(pid) {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return undefined;
  }
}

/** The bench's tenant databases on the server. */
async function benchTenants(client) {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return databases.map((d) => d.name).filter((name) => name.startsWith(PREFIX));
}

async function forEachName(names, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < names.length) await fn(names[next++]);
    }),
  );
}

async function forAll(client, n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) await fn(client.db(`${PREFIX}${next++}`));
    }),
  );
}

async function runWorker(uri, observer, name, build) {
  const current = async () => (await observer.db('admin').command({ serverStatus: 1 })).connections.current;
  const baseline = await current();
  const serverCpuBefore = serverCpuSeconds(server.pid);
  let peak = baseline;
  const sampler = setInterval(
    () =>
      void current().then(
        (v) => (peak = Math.max(peak, v)),
        () => undefined,
      ),
    100,
  );
  const args = [
    '--expose-gc',
    HERE,
    '--worker',
    name,
    '--uri',
    uri,
    '--concurrency',
    String(concurrency),
    ...(values.commands ? ['--commands'] : []),
    ...(build ? ['--build', build] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await once(child, 'exit');
  clearInterval(sampler);
  const serverCpuAfter = serverCpuSeconds(server.pid);
  const serverCpu = serverCpuAfter === undefined ? undefined : +(serverCpuAfter - serverCpuBefore).toFixed(2);
  return { ...JSON.parse(out), connections: peak - baseline, serverCpu };
}

const benchStarted = performance.now();
const givenUri = values.uri ?? process.env.MONGODB_URI;
// The embedded server gets slower as it accumulates state (its CPU for the same round doubled by the second round at
// 10,000 tenants): unless a URI is given, every contender's run gets a fresh server, seeded the same way.
const freshServers = givenUri === undefined;
let server = await startServer();
let observer = await new MongoClient(server.uri).connect();
const rows = [];
const hand2 = values['no-noise-floor'] ? [] : ['hand #2'];
let setupSeconds = 0;
/** Seeds n tenants (one order each): drops leftover bench tenants beyond n, creates the missing ones. */
async function seed(n) {
  const setupStarted = performance.now();
  const existing = await benchTenants(observer);
  await forEachName(
    existing.filter((name) => Number(name.slice(PREFIX.length)) >= n),
    (name) => observer.db(name).dropDatabase(),
  );
  const have = new Set(existing);
  await forEachName(
    Array.from({ length: n }, (_, i) => `${PREFIX}${i}`).filter((name) => !have.has(name)),
    (name) => observer.db(name).collection('orders').insertOne({ sku: 'a', customer: 'c', createdAt: new Date() }),
  );
  setupSeconds += (performance.now() - setupStarted) / 1000;
}
for (const n of values.tenants.split(',').map(Number)) {
  if (!freshServers) await seed(n);
  // Before each run: a fresh seeded server, or (given URI) every tenant back to its seeded state for the scenario about
  // to run: no secondary indexes, or no migration applied.
  const reset = async (family) => {
    if (freshServers) {
      const started = performance.now();
      await observer.close();
      await server.stop();
      server = await startServer();
      observer = await new MongoClient(server.uri).connect();
      setupSeconds += (performance.now() - started) / 1000;
      await seed(n);
      return;
    }
    const started = performance.now();
    await forAll(observer, n, async (db) => {
      if (family === 'indexes') {
        await db.collection('orders').dropIndexes();
        return;
      }
      await db.collection('orders').updateMany({ status: { $exists: true } }, { $unset: { status: '' } });
      await db.collection('_migrations').drop();
      await db.collection('_polymongo_migrations').drop();
    });
    setupSeconds += (performance.now() - started) / 1000;
  };
  for (const [family, worker, scenarios] of [
    ['indexes', { hand: 'raw:indexes', fleet: 'fleet:indexes' }, ['indexes sync']],
    // The second run of the same contender right after its `migrate up` finds every tenant migrated: the rerun on each
    // deploy.
    ['migrate', { hand: 'raw:migrate', fleet: 'fleet:migrate' }, ['migrate up', 'migrate rerun']],
  ]) {
    if (values.only && !family.startsWith(values.only)) continue;
    const contenders = ['hand', 'fleet', ...hand2, ...(baselineBuild ? ['baseline'] : [])];
    for (let round = 0; round < Number(values.rounds); round++) {
      // Rotate: each contender takes each position in turn (with 3 rounds and 3 contenders, each position once).
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const contender of order) {
        await reset(family);
        for (const scenario of scenarios) {
          const fleetWork = contender === 'fleet' || contender === 'baseline';
          const r = await runWorker(
            server.uri,
            observer,
            fleetWork ? worker.fleet : worker.hand,
            contender === 'baseline' ? baselineBuild : undefined,
          );
          const row = {
            round: round + 1,
            scenario,
            contender: CONTENDER_NAMES[contender],
            tenants: r.tenants,
            failed: r.failed,
            seconds: +(r.ms / 1000).toFixed(2),
            tenantsPerSecond: Math.round(r.tenants / (r.ms / 1000)),
            clientCpuSeconds: +(r.cpuMS / 1000).toFixed(2),
            cpuPerTenantUs: Math.round((r.cpuMS * 1000) / r.tenants),
            serverCpuSeconds: r.serverCpu,
            peakHeapMB: +r.peakHeapMB.toFixed(1),
            liveHeapMB: r.retainedHeapMB === undefined ? undefined : +r.retainedHeapMB.toFixed(1),
            connections: r.connections,
          };
          if (r.sent) row.commandsPerTenant = Object.fromEntries(Object.entries(r.sent).map(([k, v]) => [k, +(v / r.tenants).toFixed(2)]));
          rows.push(row);
          process.stderr.write(`${JSON.stringify(row)}\n`);
        }
      }
    }
  }
}
await forEachName(await benchTenants(observer), (name) => observer.db(name).dropDatabase());
await observer.close();
await server.stop();
console.log(
  `${new Date().toISOString()}: ${((performance.now() - benchStarted) / 1000).toFixed(0)} s in all, of which ${setupSeconds.toFixed(0)} s setup (${freshServers ? 'a fresh embedded server seeded before every run' : 'resets between runs'})`,
);
console.log(
  `concurrency ${concurrency}, server: ${givenUri ? 'given URI' : 'embedded (separate process)'}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.table(rows);
// Per scenario and size: per round, fleet time / hand time of the pair that ran in that round (and hand #2 / hand: the
// noise floor), their median and range; over all rounds, client CPU per tenant of each and the CPU ratios (client CPU
// is far less sensitive to a busy machine than wall time), peak and live heap, connections.
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (list) =>
  `${list.map((v) => v.toFixed(2)).join(', ')} (median ${median(list).toFixed(2)}, range ${Math.min(...list).toFixed(2)}–${Math.max(...list).toFixed(2)})`;
const groups = new Map();
for (const row of rows) {
  const key = `${row.scenario} ${row.tenants}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(row);
}
const mean = (list, field) => list.reduce((n, r) => n + (r[field] ?? 0), 0) / list.length;
const span = (list, field) => `${Math.min(...list.map((r) => r[field]))}–${Math.max(...list.map((r) => r[field]))}`;
for (const [key, list] of groups) {
  const of = (contender) => list.filter((r) => r.contender === CONTENDER_NAMES[contender]);
  const byRound = (contender) => new Map(of(contender).map((r) => [r.round, r]));
  const [hand, fleet, second, baseline] = [byRound('hand'), byRound('fleet'), byRound('hand #2'), byRound('baseline')];
  const ratios = (other, field, against = hand) =>
    [...other.entries()].filter(([round]) => against.has(round)).map(([round, r]) => r[field] / against.get(round)[field]);
  const lines = [`${key}:`];
  lines.push(`  wall fleet/hand ${fmt(ratios(fleet, 'seconds'))}`);
  if (second.size > 0) lines.push(`  wall hand #2/hand (noise floor) ${fmt(ratios(second, 'seconds'))}`);
  lines.push(`  client CPU fleet/hand ${fmt(ratios(fleet, 'clientCpuSeconds'))}`);
  if (baseline.size > 0) {
    lines.push(
      `  fleet/baseline build: wall ${fmt(ratios(fleet, 'seconds', baseline))}; client CPU ${fmt(ratios(fleet, 'clientCpuSeconds', baseline))}`,
    );
  }
  if (second.size > 0) lines.push(`  client CPU hand #2/hand (noise floor) ${fmt(ratios(second, 'clientCpuSeconds'))}`);
  const perTenant = ['hand', 'fleet', ...hand2, 'baseline']
    .filter((c) => of(c).length > 0)
    .map((c) => `${c} ${Math.round(mean(of(c), 'cpuPerTenantUs'))}`)
    .join(', ');
  lines.push(`  client CPU per tenant, µs (mean): ${perTenant}`);
  if (of('hand').every((r) => r.serverCpuSeconds !== undefined)) {
    lines.push(`  server CPU fleet/hand ${fmt(ratios(fleet, 'serverCpuSeconds'))}`);
  }
  lines.push(
    `  tenants/s (median): hand ${Math.round(median(of('hand').map((r) => r.tenantsPerSecond)))}, fleet ${Math.round(median(of('fleet').map((r) => r.tenantsPerSecond)))}`,
  );
  lines.push(
    `  heap MB peak hand ${span(of('hand'), 'peakHeapMB')} / fleet ${span(of('fleet'), 'peakHeapMB')}; live after the work hand ${span(of('hand'), 'liveHeapMB')} / fleet ${span(of('fleet'), 'liveHeapMB')}; connections hand ${span(of('hand'), 'connections')} / fleet ${span(of('fleet'), 'connections')}`,
  );
  console.log(lines.join('\n'));
}
