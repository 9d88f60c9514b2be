// PolyMongo against its peers, every scenario for every contender in one run.
// Usage: pnpm bench [--quick] [--only scenario,scenario]   (MONGODB_URI to use a real server)
// Writes bench/results/<date>.json and the tables of BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { Bench } from 'tinybench';
import { COLLECTION, contenders, naivePerTenant, SEED_IDS } from './contenders.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    child: { type: 'string' },
    uri: { type: 'string' },
    tenants: { type: 'string' },
    bound: { type: 'string' },
    settle: { type: 'string' },
  },
});

const QUICK = values.quick;
const config = QUICK
  ? {
      acquireTenants: [10, 1_000],
      acquireTimeMS: 150,
      readSeconds: 2,
      writeSeconds: 1.5,
      insertManyRuns: 3,
      memoryTenants: 2_000,
      readTenants: 1_000,
      coldStartRuns: 3,
      settleMS: 1_500,
    }
  : {
      acquireTenants: [10, 10_000, 100_000],
      acquireTimeMS: 1_000,
      readSeconds: 8,
      writeSeconds: 5,
      insertManyRuns: 10,
      memoryTenants: 10_000,
      readTenants: 1_000,
      coldStartRuns: 7,
      settleMS: 5_000,
    };
const IN_FLIGHT = 32;
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wants = (scenario) => !only || only.has(scenario);

// ---- child process mode: memory after touching N tenants, in a fresh heap --------------------------------------
if (values.child) {
  const tenants = Number(values.tenants);
  const opts = values.bound ? { maxCachedTenants: Number(values.bound) } : {};
  const c = contenders[values.child](values.uri, opts);
  await c.ready();
  const held = [];
  // Raw handles are not cached by anything; hold them as an app with a per-tenant map would.
  const keep = values.child === 'raw driver' ? (h) => held.push(h) : () => {};
  global.gc();
  global.gc();
  const before = process.memoryUsage();
  for (let i = 0; i < tenants; i++) keep(c.handle(`mem_${i}`));
  await c.findById('mem_0', 0);
  // Mongoose compiles each tenant's model with init() (createCollection, createIndexes) in the background;
  // let those finish so the heap holds what stays, not what is in flight.
  await new Promise((resolve) => setTimeout(resolve, Number(values.settle ?? 2000)));
  global.gc();
  global.gc();
  const after = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ heapMB: (after.heapUsed - before.heapUsed) / 1048576, rssMB: after.rss / 1048576 })}\n`);
  await c.close();
  process.exit(0);
}

// ---- server ----------------------------------------------------------------------------------------------------
async function startServer() {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, kind: 'external', stop: async () => {} };
  const require = createRequire(import.meta.url);
  const cli = join(dirname(require.resolve('@polymongo/testkit/package.json')), 'dist', 'cli.js');
  const child = spawn(process.execPath, [cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const uri = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`embedded server exited with ${code}`)));
  });
  // SIGKILL and wait: a server still working through a backlog must not compete for the CPU with what comes next.
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    uri,
    kind: 'embedded (own process)',
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const round = (n, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const log = (line) => process.stderr.write(`${line}\n`);

async function concurrentLoop(seconds, op, raw = false) {
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  let i = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        const n = i++;
        const t = performance.now();
        await op(n);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (raw) return { latencies, seconds: elapsed };
  latencies.sort((a, b) => a - b);
  return {
    opsPerSec: round(latencies.length / elapsed, 0),
    p50ms: round(percentile(latencies, 0.5)),
    p99ms: round(percentile(latencies, 0.99)),
    samples: latencies.length,
  };
}

async function serverConnections(observer) {
  const status = await observer.db('admin').command({ serverStatus: 1 });
  return status.connections.current;
}

let server = await startServer();
let observer = await new MongoClient(server.uri).connect();

/** Writes the read tenants: readTenants tenants with 10 documents each, through the raw driver. */
async function seed() {
  log(`seeding ${config.readTenants} tenants on ${server.kind}...`);
  for (let t = 0; t < config.readTenants; t++) {
    const coll = observer.db(`read_${t}`).collection(COLLECTION);
    await coll.deleteMany({});
    await coll.insertMany(SEED_IDS.map((_id, i) => ({ _id, name: `item-${i}`, n: i, tags: ['a', 'b'] })));
  }
}

/**
 * Handle acquisition leaves the server busy (Mongoose creates collections and indexes for every tenant it touched,
 * 100,000s of them): later scenarios get a fresh embedded server, or wait for an external one to go quiet.
 */
async function quietServer() {
  if (server.kind === 'external') {
    let last = -1;
    for (let i = 0; i < 120; i++) {
      const { opcounters } = await observer.db('admin').command({ serverStatus: 1 });
      const total = Object.values(opcounters).reduce((a, b) => a + Number(b), 0);
      if (total - last < 50) return;
      last = total;
      await new Promise((r) => setTimeout(r, 1000));
    }
    return;
  }
  await observer.close();
  await server.stop();
  server = await startServer();
  observer = await new MongoClient(server.uri).connect();
  await seed();
}
const results = {
  date: new Date().toISOString(),
  mode: QUICK ? 'quick' : 'full',
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGB: round(os.totalmem() / 1073741824, 1),
    platform: `${os.platform()} ${os.release()}`,
  },
  node: process.version,
  versions: Object.fromEntries(
    ['mongodb', 'mongoose', 'polymongo-v1', 'tinybench'].map((p) => [
      p,
      JSON.parse(readFileSync(join(here, '..', 'node_modules', p, 'package.json'), 'utf8')).version,
    ]),
  ),
  server: server.kind,
  config: { ...config, inFlight: IN_FLIGHT },
  scenarios: {},
};
const names = Object.keys(contenders);

try {
  await seed();

  if (wants('acquire')) {
    log('scenario 1: handle acquisition');
    const rows = [];
    for (const tenants of config.acquireTenants) {
      const ids = Array.from({ length: tenants }, (_, i) => `acq_${i}`);
      // Past the default cache bound (10,000) every round-robin call misses; rows with a bound >= tenants show the
      // cached path at that size.
      const runs = names.map((name) => [name, name, {}]);
      if (tenants > 10_000) {
        for (const name of ['polymongo native', 'polymongo mongoose'])
          runs.push([`${name} (cache ≥ tenants)`, name, { maxCachedTenants: tenants * 2 }]);
      }
      for (const [label, name, opts] of runs) {
        const c = contenders[name](server.uri, opts);
        await c.ready();
        for (const id of ids) c.handle(id);
        let i = 0;
        const BATCH = 100;
        const bench = new Bench({ time: config.acquireTimeMS, warmupTime: Math.min(200, config.acquireTimeMS) });
        bench.add(label, () => {
          for (let k = 0; k < BATCH; k++) c.handle(ids[i++ % tenants]);
        });
        await bench.run();
        const lat = bench.tasks[0].result.latency;
        rows.push({
          contender: label,
          tenants,
          nsPerOp: round((lat.mean * 1e6) / BATCH, 1),
          p99NsPerOp: round((lat.p99 * 1e6) / BATCH, 1),
          samples: lat.samplesCount,
        });
        await c.close();
      }
    }
    results.scenarios.acquire = rows;
  }

  if (wants('acquire') && (wants('read') || wants('write') || wants('memory') || wants('connections') || wants('coldstart'))) {
    await quietServer();
  }

  if (wants('read')) {
    log('scenario 2: findOne by _id over 1,000 tenants');
    // Two rounds, the second in reverse order, so no contender always runs first or last.
    const samples = new Map(names.map((n) => [n, []]));
    for (const order of [names, [...names].reverse()]) {
      for (const name of order) {
        const c = contenders[name](server.uri);
        await c.ready();
        for (let t = 0; t < config.readTenants; t++) c.handle(`read_${t}`);
        await concurrentLoop(0.5, (n) => c.findById(`read_${n % config.readTenants}`, n % 10));
        samples
          .get(name)
          .push(await concurrentLoop(config.readSeconds / 2, (n) => c.findById(`read_${(n * 7919) % config.readTenants}`, n % 10), true));
        await c.close();
      }
    }
    const rows = names.map((name) => {
      const runs = samples.get(name);
      const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
      const seconds = runs.reduce((t, r) => t + r.seconds, 0);
      return {
        contender: name,
        opsPerSec: round(latencies.length / seconds, 0),
        p50ms: round(percentile(latencies, 0.5)),
        p99ms: round(percentile(latencies, 0.99)),
        samples: latencies.length,
      };
    });
    results.scenarios.read = rows;
  }

  if (wants('write')) {
    log('scenario 3: insertOne and insertMany(1,000) into one tenant');
    const rows = [];
    for (const name of names) {
      const c = contenders[name](server.uri);
      await c.ready();
      const tenant = `write_${name.replace(/\W+/g, '_')}`;
      const one = await concurrentLoop(config.writeSeconds, (n) => c.insertOne(tenant, { name: `w${n}`, n, tags: ['x'] }));
      const batchTimes = [];
      for (let r = 0; r < config.insertManyRuns; r++) {
        const docs = Array.from({ length: 1000 }, (_, i) => ({ name: `b${i}`, n: i, tags: ['y'] }));
        const t = performance.now();
        await c.insertMany(`${tenant}_many`, docs);
        batchTimes.push(performance.now() - t);
      }
      batchTimes.sort((a, b) => a - b);
      rows.push({
        contender: name,
        insertOneOpsPerSec: one.opsPerSec,
        insertOneP99ms: one.p99ms,
        insertOneSamples: one.samples,
        insertManyMedianMs: round(percentile(batchTimes, 0.5)),
        insertManyP99ms: round(batchTimes.at(-1)),
        insertManyRuns: batchTimes.length,
      });
      await observer.db(tenant).dropDatabase();
      await observer.db(`${tenant}_many`).dropDatabase();
      await c.close();
    }
    results.scenarios.write = rows;
  }

  if (wants('memory')) {
    log(`scenario 4: heap and RSS after touching ${config.memoryTenants} tenants (one process each)`);
    const rows = [];
    const runChild = (name, bound) =>
      new Promise((resolve, reject) => {
        const args = [
          '--expose-gc',
          fileURLToPath(import.meta.url),
          '--child',
          name,
          '--uri',
          server.uri,
          '--tenants',
          String(config.memoryTenants),
          '--settle',
          String(config.settleMS),
          ...(bound ? ['--bound', String(bound)] : []),
        ];
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`${name} memory child exited ${code}`)),
        );
      });
    for (const name of names) {
      const unbounded = await runChild(name, name.startsWith('polymongo') || name.startsWith('native') ? 10_000_000 : undefined);
      rows.push({
        contender: name,
        bound: name.startsWith('polymongo 1') || name.startsWith('raw') || name.startsWith('plain') ? 'n/a' : 'none',
        heapMB: round(unbounded.heapMB, 1),
        rssMB: round(unbounded.rssMB, 1),
      });
      if (name === 'polymongo native' || name === 'polymongo mongoose') {
        const bounded = await runChild(name, 1000);
        rows.push({ contender: name, bound: 1000, heapMB: round(bounded.heapMB, 1), rssMB: round(bounded.rssMB, 1) });
      }
    }
    results.scenarios.memory = rows;
  }

  if (wants('connections')) {
    log('scenario 5: server-side connections while 1,000 tenants are queried at once');
    const rows = [];
    const measure = async (c, tenants) => {
      const baseline = await serverConnections(observer);
      let peak = baseline;
      const sampler = setInterval(() => {
        serverConnections(observer).then(
          (n) => {
            peak = Math.max(peak, n);
          },
          () => {},
        );
      }, 10);
      await Promise.all(Array.from({ length: tenants }, (_, t) => c.findById(`read_${t % config.readTenants}`, t % 10)));
      peak = Math.max(peak, await serverConnections(observer));
      clearInterval(sampler);
      return peak - baseline;
    };
    for (const name of names) {
      const c = contenders[name](server.uri);
      const extra = await measure(c, 1000);
      rows.push({ contender: name, tenants: 1000, connections: extra, perTenant: round(extra / 1000, 3) });
      await c.close();
    }
    const naive = naivePerTenant(server.uri);
    const naiveExtra = await measure(naive, 100);
    rows.push({ contender: naive.name, tenants: 100, connections: naiveExtra, perTenant: round(naiveExtra / 100, 3) });
    await naive.close();
    results.scenarios.connections = rows;
  }

  if (wants('coldstart')) {
    log('scenario 6: cold start, construction to first answer');
    const rows = [];
    for (const name of names) {
      const times = [];
      for (let r = 0; r < config.coldStartRuns; r++) {
        const t = performance.now();
        const c = contenders[name](server.uri);
        await c.findById('read_0', 0);
        times.push(performance.now() - t);
        await c.close();
      }
      times.sort((a, b) => a - b);
      rows.push({ contender: name, medianMs: round(percentile(times, 0.5)), maxMs: round(times.at(-1)), runs: times.length });
    }
    results.scenarios.coldstart = rows;
  }
} finally {
  await observer.close();
  await server.stop();
}

// ---- report ----------------------------------------------------------------------------------------------------
const day = results.date.slice(0, 10);
mkdirSync(join(here, '..', 'results'), { recursive: true });
const resultFile = join(here, '..', 'results', `${day}${QUICK ? '-quick' : ''}.json`);
writeFileSync(resultFile, `${JSON.stringify(results, null, 2)}\n`);

const ratio = (value, base, higherIsBetter) => (base ? round(higherIsBetter ? value / base : base / value, 3) : '');
const table = (headers, rows) =>
  [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const sections = [];
const s = results.scenarios;
if (s.acquire) {
  const byTenants = {};
  for (const r of s.acquire) {
    byTenants[r.tenants] ??= [];
    byTenants[r.tenants].push(r);
  }
  sections.push(
    `### 1. Handle acquisition (ns/op, lower is better; ratio = raw driver ns / contender ns)\n\n${Object.entries(byTenants)
      .map(([n, rows]) => {
        const base = rows.find((r) => r.contender === 'raw driver')?.nsPerOp;
        return `${Number(n).toLocaleString('en')} distinct tenants, round-robin:\n\n${table(
          ['contender', 'ns/op (mean)', 'p99 ns/op', 'samples', '× raw speed'],
          rows.map((r) => [r.contender, r.nsPerOp, r.p99NsPerOp, r.samples, ratio(r.nsPerOp, base, false)]),
        )}`;
      })
      .join('\n\n')}`,
  );
}
if (s.read) {
  const base = s.read.find((r) => r.contender === 'raw driver')?.opsPerSec;
  sections.push(
    `### 2. Read path: findOne by _id over 1,000 tenants, ${IN_FLIGHT} in flight\n\n${table(
      ['contender', 'ops/s', 'p50 ms', 'p99 ms', 'samples', '× raw ops/s'],
      s.read.map((r) => [r.contender, r.opsPerSec, r.p50ms, r.p99ms, r.samples, ratio(r.opsPerSec, base, true)]),
    )}`,
  );
}
if (s.write) {
  const base = s.write.find((r) => r.contender === 'raw driver');
  sections.push(
    `### 3. Write path into one tenant\n\n${table(
      ['contender', 'insertOne ops/s', 'insertOne p99 ms', 'samples', '× raw', 'insertMany(1,000) median ms', 'runs', '× raw'],
      s.write.map((r) => [
        r.contender,
        r.insertOneOpsPerSec,
        r.insertOneP99ms,
        r.insertOneSamples,
        ratio(r.insertOneOpsPerSec, base?.insertOneOpsPerSec, true),
        r.insertManyMedianMs,
        r.insertManyRuns,
        ratio(r.insertManyMedianMs, base?.insertManyMedianMs, false),
      ]),
    )}`,
  );
}
if (s.memory) {
  const plain = s.memory.find((r) => r.contender === 'plain mongoose useDb')?.heapMB;
  sections.push(
    `### 4. Memory after touching ${config.memoryTenants.toLocaleString('en')} tenants (after GC; heap growth, process RSS)\n\n${table(
      ['contender', 'tenant cache bound', 'heap MB', 'RSS MB', 'heap ÷ plain useDb'],
      s.memory.map((r) => [r.contender, r.bound, r.heapMB, r.rssMB, plain ? round(r.heapMB / plain, 3) : '']),
    )}`,
  );
}
if (s.connections) {
  sections.push(
    `### 5. Server-side connections opened while tenants are queried at once\n\n${table(
      ['contender', 'tenants', 'connections', 'per tenant'],
      s.connections.map((r) => [r.contender, r.tenants, r.connections, r.perTenant]),
    )}`,
  );
}
if (s.coldstart) {
  const base = s.coldstart.find((r) => r.contender === 'raw driver')?.medianMs;
  sections.push(
    `### 6. Cold start: construction to first query answered\n\n${table(
      ['contender', 'median ms', 'max ms', 'runs', '× raw speed'],
      s.coldstart.map((r) => [r.contender, r.medianMs, r.maxMs, r.runs, ratio(r.medianMs, base, false)]),
    )}`,
  );
}
const generated = `<!-- generated by bench/src/run.mjs: do not edit between these markers -->
Run: ${results.date} (${results.mode}), ${results.server} server. Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGB} GiB, ${results.machine.platform}. Node ${results.node}; mongodb ${results.versions.mongodb}, mongoose ${results.versions.mongoose}, polymongo ${results.versions['polymongo-v1']}, tinybench ${results.versions.tinybench}. Raw numbers: \`bench/results/${day}${QUICK ? '-quick' : ''}.json\`.

${sections.join('\n\n')}
<!-- end generated -->`;
if (!QUICK) {
  const file = join(root, 'BENCHMARKS.md');
  let doc;
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '# Benchmarks\n\n<!-- generated by bench/src/run.mjs -->\n<!-- end generated -->\n';
  }
  doc = doc.replace(/<!-- generated by bench\/src\/run\.mjs[\s\S]*?<!-- end generated -->/, generated);
  writeFileSync(file, doc);
  log(`wrote BENCHMARKS.md and ${resultFile}`);
} else {
  process.stdout.write(`${generated}\n`);
  log(`wrote ${resultFile} (quick runs do not touch BENCHMARKS.md)`);
}
