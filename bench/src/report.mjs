// Regenerates BENCHMARKS.md's results and the README's headline table from one results JSON; nothing is typed by hand.
//   node bench/src/report.mjs [bench/results/FILE.json]     (default: the newest full run)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const resultsDir = join(here, '..', 'results');

const RAW = 'raw driver (Db cached in a Map)';
const PLAIN = 'plain Mongoose (useDb useCache, model cached)';

const fmt = (n, digits = 2) =>
  n === null || n === undefined ? '–' : Number(n).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const pct = (f) => `±${fmt(f * 100, 1)}%`;
const fr = (n) => (n !== null && n < 0.1 ? Number(n.toPrecision(2)).toString() : fmt(n, n < 10 ? 3 : 1));
const x = (r) => (r ? `${fr(r.median)}× (${fr(r.min)}–${fr(r.max)})` : '–');
const table = (headers, rows) =>
  [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const label = (row) => `${row.contender}${row.extra ? ' *(extra row, not a baseline)*' : ''}${row.twin ? ' *(noise twin)*' : ''}`;
const ratioVs = (row, figure, vs) => row?.[`${figure}Ratio`]?.find((r) => !vs || r.vs === vs);
const find = (rows, name) => rows?.find((r) => r.contender === name);

function floors(s, figure) {
  const f = s.noiseFloor ?? {};
  return Object.entries(f)
    .map(([group, v]) => `${group === 'driver' ? 'driver group' : 'Mongoose group'} ${pct(v[figure])}`)
    .join(', ');
}

function loadSection(s, title, what) {
  const rows = s.rows.map((r) => [
    label(r),
    fmt(r.opsPerSec, 0),
    r.baseline ? `${x(ratioVs(r, 'opsPerSec', r.baseline))} ${ratioVs(r, 'opsPerSec', r.baseline)?.verdict ?? ''}` : '*baseline*',
    fmt(r.cpuUsPerOp, 1),
    r.baseline ? `${x(ratioVs(r, 'cpuUsPerOp', r.baseline))} ${ratioVs(r, 'cpuUsPerOp', r.baseline)?.verdict ?? ''}` : '*baseline*',
  ]);
  const extra = s.rows
    .flatMap((r) =>
      (r.opsPerSecRatio ?? []).filter((q) => q.vs !== r.baseline).map((q) => `${r.contender} vs ${q.vs}: ${x(q)}, ${q.verdict}`),
    )
    .join('; ');
  return `### ${title}

${what} ${s.config.tenants.toLocaleString('en')} tenants, ${s.config.inFlight} in flight, ${s.rounds} paired rounds of ${s.config.seconds} s per contender.
Noise floor, throughput: ${floors(s, 'opsPerSec')}; client CPU per operation: ${floors(s, 'cpuUsPerOp')}.

${table(['contender', 'ops/s (median)', '× baseline ops/s (median, min–max), verdict', 'client CPU µs/op', '× baseline by CPU/op'], rows)}
${extra ? `\nAlso: ${extra}.\n` : ''}`;
}

function acquireSection(a) {
  return `### Handle acquisition

Getting a tenant's handle (\`Db\`, or the tenant's Mongoose model), round-robin over N tenants; each tenant count in a
fresh process, paired rounds of a time slice per contender. PolyMongo's default bound is \`maxCachedTenants: 10,000\`:
past it, round-robin is an LRU's worst case and every call misses.

${a.sizes
  .map(
    (
      s,
    ) => `**${s.tenants.toLocaleString('en')} tenants** (${s.rounds} rounds of ${s.config.sliceMS} ms; noise floor ${floors(s, 'nsPerOp')})

${table(
  ['contender', 'ns/op (median)', '× baseline speed (median, min–max), verdict'],
  s.rows.map((r) => [
    label(r),
    fmt(r.nsPerOp, 1),
    r.baseline ? `${x(ratioVs(r, 'nsPerOp', r.baseline))} ${ratioVs(r, 'nsPerOp', r.baseline)?.verdict ?? ''}` : '*baseline*',
  ]),
)}`,
  )
  .join('\n\n')}
`;
}

function memorySection(m) {
  return `### Memory per tenant

Heap growth after touching N tenants (each contender's handle: \`Db\`, \`Collection\` or model), after two full GCs, each
row a fresh process. "× baseline" is bytes per tenant against the Map of \`Db\` (driver group) or plain Mongoose
(Mongoose group); lower is better.

${table(
  ['contender', 'tenants', 'cache bound', 'bytes / tenant', 'heap growth MB', 'RSS MB', '× baseline'],
  m.rows.map((r) => [
    r.contender,
    r.tenants.toLocaleString('en'),
    typeof r.bound === 'number' ? r.bound.toLocaleString('en') : r.bound,
    fmt(r.bytesPerTenant, 0),
    fmt(r.heapMB, 1),
    fmt(r.rssMB, 1),
    fmt(r.vsBaseline, 3),
  ]),
)}
`;
}

function coldSection(c) {
  const col = (r, f) => (r.baseline ? `${x(ratioVs(r, f, r.baseline))} ${ratioVs(r, f, r.baseline)?.verdict ?? ''}` : '*baseline*');
  return `### Cold start

Each run a fresh \`node\` process: import time (dynamic \`import()\` of the packages), construction → first answer
(\`findOne\` by \`_id\`), and the whole process from spawn to exit as seen by the parent. ${c.rounds} paired rounds,
rotating order. Ratios are speed (baseline time ÷ contender time): below 1 is slower.
"CPU ms" is the process's CPU time over the same span (\`process.cpuUsage\`, all threads), steadier on a busy machine.
Noise floor, construction → first answer: ${floors(c, 'firstAnswerMs')} (CPU: ${floors(c, 'firstAnswerCpuMs')}); import: ${floors(c, 'importMs')}; whole process: ${floors(c, 'processMs')}.

${table(
  [
    'contender',
    'construction → first answer ms',
    '× baseline',
    'same span, CPU ms',
    '× baseline',
    'import ms',
    '× baseline',
    'whole process ms',
    '× baseline',
  ],
  c.rows.map((r) => [
    label(r),
    fmt(r.firstAnswerMs, 1),
    col(r, 'firstAnswerMs'),
    fmt(r.firstAnswerCpuMs, 1),
    col(r, 'firstAnswerCpuMs'),
    fmt(r.importMs, 1),
    col(r, 'importMs'),
    fmt(r.processMs, 0),
    col(r, 'processMs'),
  ]),
)}
`;
}

function connectionsSection(c) {
  return `### Connections

Server-side connections opened while ${c.config.tenants.toLocaleString('en')} tenants are queried at once (pool size ${c.config.poolSize}).

${table(
  ['contender', 'tenants', 'connections opened', 'per tenant'],
  c.rows.map((r) => [r.contender, r.tenants.toLocaleString('en'), r.connections, fmt(r.perTenant, 3)]),
)}
`;
}

function fairnessSection(f) {
  const c = f.config;
  const row = (name, p) => [
    name,
    fmt(p.p50MS, 1),
    fmt(p.p99MS, 1),
    fmt(p.normalOpsPerSec, 0),
    p.hotOpsPerSec === undefined ? '–' : fmt(p.hotOpsPerSec, 1),
  ];
  const o = find(f.overhead.rows, 'fairness { maxConcurrentPerTenant: 2 }');
  return `### Fairness: one hot tenant on a shared pool

One shared pool (maxPoolSize ${c.poolSize}); ${c.normalTenants} normal tenants run findOne by \`_id\` in closed loops; the hot tenant floods with ${c.flood} concurrent operations that a \`failCommand\` fail point blocks ${c.blockMS} ms on the server. Normal tenants' latency over ${c.phaseRounds ?? 1} × ${c.seconds} s per phase (phases in rounds, order rotated each round):

${table(
  ['phase', 'p50 ms', 'p99 ms', 'normal ops/s', 'hot tenant ops/s'],
  [
    row('(a) no flood', f.phases.a),
    row('(b) flood, fairness off', f.phases.b),
    row('(c) flood, fairness { maxConcurrentPerTenant: 2 }', f.phases.c),
  ],
)}

(c) p99 / (a) p99: **${fmt(f.p99Ratio, 3)}×**. Fairness configured without contention (${c.overheadInFlight} in flight, ${f.overhead.rounds} paired rounds): ops/s ${x(ratioVs(o, 'opsPerSec'))} of fairness off (noise floor ${pct(f.overhead.noiseFloor.fairness?.opsPerSec ?? 0)}).
`;
}

function fairnessOverheadSection(f) {
  const c = f.config;
  const floor = f.overhead.noiseFloor.fairness ?? {};
  const rows = f.overhead.rows.map((r) => {
    const ops = ratioVs(r, 'opsPerSec');
    const cpu = ratioVs(r, 'cpuUsPerOp');
    const added = f.summary?.[r.contender]?.addedNsPerOpHeld;
    return [
      label(r),
      fmt(r.opsPerSec, 0),
      r.baseline ? `${x(ops)} ${ops?.verdict ?? ''}` : r.twin ? 'sets the noise floor' : '*baseline*',
      fmt(r.cpuUsPerOp, 1),
      r.baseline ? `${x(cpu)} ${cpu?.verdict ?? ''}` : r.twin ? 'sets the noise floor' : '*baseline*',
      added ? fmt(added.median, 0) : '–',
    ];
  });
  return `### Fairness overhead without contention (issue #15)

What configuring fairness (and quotas) costs when no tenant reaches its limits: ${c.workers} closed-loop workers on
${c.tenants} tenants (at most one operation per tenant in flight, pool ${c.poolSize}), findOne by \`_id\` on held
Collections, ${f.overhead.rounds} paired rounds of ${c.roundSeconds} s; "added ns/op" is PolyMongo's own path with the
driver call stubbed (${c.microRounds} rounds of ${fmt(c.microOps, 0)} operations). Noise floor: ops/s ${pct(floor.opsPerSec ?? 0)}, CPU/op ${pct(floor.cpuUsPerOp ?? 0)}.

${table(['contender', 'ops/s (median)', '× fairness off (median, min–max), verdict', 'client CPU µs/op', '× off by CPU/op', 'added ns/op (stubbed driver)'], rows)}
`;
}

/** The goals of issue #12, each as a ratio from this run. */
export function goals(res) {
  const s = res.scenarios;
  const out = [];
  const speed = (scenario, name, figure, vs) => ratioVs(find(s[scenario]?.rows, name), figure, vs);
  const add = (goal, r, { min, maxTime }) => {
    if (!r) return out.push({ goal, result: 'not measured', met: null });
    if (min !== undefined)
      return out.push({
        goal,
        result: `${fmt(r.median, 3)}× (${fmt(r.min, 2)}–${fmt(r.max, 2)}), ${r.verdict}`,
        met: r.median >= min,
        ratio: r.median,
      });
    const time = 1 / r.median;
    return out.push({
      goal,
      result: `${fmt(time, 3)}× the time (speed ${fmt(r.median, 3)}×, ${r.verdict})`,
      met: time <= maxTime,
      ratio: time,
    });
  };
  if (s.fairness) {
    out.push({
      goal: 'fairness: normal tenants p99 under a flood ≤ 1.5× without it',
      result: `${fmt(s.fairness.p99Ratio, 3)}×`,
      met: s.fairness.p99Ratio <= 1.5,
      ratio: s.fairness.p99Ratio,
    });
    add(
      'fairness configured, no contention: ops/s ≥ 0.97× off',
      ratioVs(find(s.fairness.overhead.rows, 'fairness { maxConcurrentPerTenant: 2 }'), 'opsPerSec'),
      { min: 0.97 },
    );
  }
  const fo = s['fairness-overhead'];
  if (fo) {
    for (const name of ['fairness { maxConcurrentPerTenant: 2 }', 'fairness + quotas { opsPerSecond: 1e6 }'])
      add(
        `${name} without contention: ops/s ≥ 0.97× fairness off (fairness-overhead)`,
        ratioVs(find(fo.overhead.rows, name), 'opsPerSec'),
        {
          min: 0.97,
        },
      );
  }
  add('native read ops/s ≥ 0.98× raw driver (cached Db)', speed('read', 'polymongo native', 'opsPerSec', RAW), { min: 0.98 });
  add('native insert ops/s ≥ 0.98× raw driver (cached Db)', speed('insert', 'polymongo native', 'opsPerSec', RAW), { min: 0.98 });
  add('native cold start ≤ 1.10× raw driver', speed('coldstart', 'polymongo native', 'firstAnswerMs', 'raw driver'), { maxTime: 1.1 });
  add(
    'native cold start, CPU time of the same span ≤ 1.10× raw driver',
    speed('coldstart', 'polymongo native', 'firstAnswerCpuMs', 'raw driver'),
    {
      maxTime: 1.1,
    },
  );
  add('@polymongo/mongoose read ops/s ≥ 0.98× plain Mongoose', speed('read', 'polymongo mongoose', 'opsPerSec', PLAIN), { min: 0.98 });
  add('@polymongo/mongoose create ops/s ≥ 0.98× plain Mongoose', speed('insert', 'polymongo mongoose', 'opsPerSec', PLAIN), { min: 0.98 });
  add(
    '@polymongo/mongoose cold start ≤ 1.05× plain Mongoose',
    speed('coldstart', 'polymongo mongoose', 'firstAnswerMs', 'plain Mongoose'),
    { maxTime: 1.05 },
  );
  add(
    '@polymongo/mongoose cold start, CPU time of the same span ≤ 1.05× plain Mongoose',
    speed('coldstart', 'polymongo mongoose', 'firstAnswerCpuMs', 'plain Mongoose'),
    { maxTime: 1.05 },
  );
  for (const r of s.memory?.rows ?? []) {
    if (r.contender === 'polymongo mongoose' && r.bound === 'none')
      out.push({
        goal: `@polymongo/mongoose memory, no bound, ${r.tenants.toLocaleString('en')} tenants ≤ 1.0× plain useDb`,
        result: `${fmt(r.vsBaseline, 3)}× (${fmt(r.bytesPerTenant, 0)} B/tenant)`,
        met: r.vsBaseline <= 1,
        ratio: r.vsBaseline,
      });
  }
  const big = s.acquire?.sizes?.find((z) => z.tenants === 100_000);
  if (big) {
    const miss = find(big.rows, 'polymongo native');
    const driver = find(big.rows, 'raw driver (client.db() on every call)');
    if (miss && driver)
      out.push({
        goal: 'cache miss (100,000 tenants, bound 10,000) as cheap as `client.db()`',
        result: `${fmt(miss.nsPerOp, 0)} ns vs ${fmt(driver.nsPerOp, 0)} ns for client.db() (${fmt(driver.nsPerOp / miss.nsPerOp, 3)}× its speed)`,
        met: miss.nsPerOp <= driver.nsPerOp * 1.1,
        ratio: driver.nsPerOp / miss.nsPerOp,
      });
  }
  return out;
}

function header(res, file) {
  const m = res.machine;
  return `Run ${res.date} (${res.mode}, ${Math.round(res.seconds / 60)} min), ${res.server}. Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GiB, ${m.platform}; load average ${m.loadAverageAtStart.join(' / ')} at the start and ${m.loadAverageAtEnd?.join(' / ')} at the end (the machine is shared: absolute numbers are noisy, the paired ratios are the figures to read). Node ${res.node}; mongodb ${res.versions.mongodb}, mongoose ${res.versions.mongoose}, polymongo 1.x ${res.versions['polymongo 1.x']}. Raw numbers: \`${file}\`.`;
}

export function benchmarksMarkdown(res, file) {
  const s = res.scenarios;
  const goalRows = goals(res).map((g) => [
    g.goal,
    g.result,
    g.met === null ? '–' : `${g.met ? '**met**' : '**missed**'}${g.result.includes('tie') ? ' (inside the noise floor)' : ''}`,
  ]);
  return [
    header(res, file),
    `### Goals (issue #12), from this run\n\n${table(['goal', 'this run', ''], goalRows)}\n`,
    s.read && loadSection(s.read, 'Read: findOne by _id', 'findOne by `_id` (Mongoose: `.lean()`) over'),
    s.insert &&
      loadSection(
        s.insert,
        'Insert: insertOne / Model.create',
        'insertOne of a 3-field document (Mongoose: `Model.create`) round-robin over',
      ),
    s.coldstart && coldSection(s.coldstart),
    s.acquire && acquireSection(s.acquire),
    s.memory && memorySection(s.memory),
    s.connections && connectionsSection(s.connections),
    s.fairness && fairnessSection(s.fairness),
    s['fairness-overhead'] && fairnessOverheadSection(s['fairness-overhead']),
  ]
    .filter(Boolean)
    .join('\n');
}

export function headlineMarkdown(res, file) {
  const s = res.scenarios;
  const row = (what, r) => [what, r ? `**${fmt(r.median, 2)}×** (rounds ${fmt(r.min, 2)}–${fmt(r.max, 2)}; ${r.verdict})` : '–'];
  const rows = [
    row(
      'native `poly.db(t)` findOne vs raw driver with `Db` cached in a Map (ops/s)',
      ratioVs(find(s.read?.rows, 'polymongo native'), 'opsPerSec', RAW),
    ),
    row('native insertOne vs the same (ops/s)', ratioVs(find(s.insert?.rows, 'polymongo native'), 'opsPerSec', RAW)),
    row(
      '`@polymongo/mongoose` findOne.lean vs plain `useDb` with the model cached (ops/s)',
      ratioVs(find(s.read?.rows, 'polymongo mongoose'), 'opsPerSec', PLAIN),
    ),
    row('`@polymongo/mongoose` create vs the same (ops/s)', ratioVs(find(s.insert?.rows, 'polymongo mongoose'), 'opsPerSec', PLAIN)),
    row(
      '`@polymongo/mongoose` findOne.lean vs PolyMongo 1.3.0 (ops/s)',
      ratioVs(find(s.read?.rows, 'polymongo mongoose'), 'opsPerSec', 'polymongo 1.3.0'),
    ),
    row(
      'native cold start vs raw driver (speed, fresh process, construction → first answer)',
      ratioVs(find(s.coldstart?.rows, 'polymongo native'), 'firstAnswerMs', 'raw driver'),
    ),
    row(
      '`@polymongo/mongoose` cold start vs plain Mongoose (speed)',
      ratioVs(find(s.coldstart?.rows, 'polymongo mongoose'), 'firstAnswerMs', 'plain Mongoose'),
    ),
    row(
      'native cold start vs raw driver, by CPU time of the same span (speed)',
      ratioVs(find(s.coldstart?.rows, 'polymongo native'), 'firstAnswerCpuMs', 'raw driver'),
    ),
    row(
      '`@polymongo/mongoose` cold start vs plain Mongoose, by CPU time (speed)',
      ratioVs(find(s.coldstart?.rows, 'polymongo mongoose'), 'firstAnswerCpuMs', 'plain Mongoose'),
    ),
    row(
      'import time, `@polymongo/native` vs `mongodb` (speed)',
      ratioVs(find(s.coldstart?.rows, 'polymongo native'), 'importMs', 'raw driver'),
    ),
  ];
  const mem = s.memory?.rows ?? [];
  const bigMem = Math.max(...mem.map((r) => r.tenants));
  const memRow = (name, bound) => mem.find((r) => r.contender === name && r.bound === bound && r.tenants === bigMem);
  const plain = memRow(PLAIN, 'n/a');
  const ours = memRow('polymongo mongoose', 'none');
  const bounded = mem.find((r) => r.contender === 'polymongo mongoose' && typeof r.bound === 'number' && r.tenants === bigMem);
  if (plain && ours)
    rows.push([
      `heap per tenant at ${bigMem.toLocaleString('en')} Mongoose tenants vs plain \`useDb\``,
      `no bound **${fmt(ours.vsBaseline, 2)}×** (${fmt(ours.bytesPerTenant, 0)} vs ${fmt(plain.bytesPerTenant, 0)} B)${bounded ? `; bound ${bounded.bound.toLocaleString('en')}: **${fmt(bounded.vsBaseline, 2)}×**` : ''}`,
    ]);
  const conn = s.connections?.rows;
  if (conn) {
    const n = find(conn, 'polymongo native');
    const naive = conn.find((r) => r.contender.startsWith('one Mongoose'));
    if (n && naive)
      rows.push([
        `server connections, ${n.tenants.toLocaleString('en')} tenants queried at once`,
        `**${n.connections}** (one pool), vs ${fmt(naive.perTenant, 1)} per tenant with a pool per tenant`,
      ]);
  }
  const floorText = ['read', 'insert']
    .filter((k) => s[k])
    .map((k) => `${k}: ${floors(s[k], 'opsPerSec')}`)
    .join('; ');
  return `From \`${file}\` (${res.mode} run, ${res.date.slice(0, 10)}, ${res.machine.cpus} shared cores, embedded server in its own process). Each figure is
the median of per-round ratios from paired, interleaved rounds; "tie" means inside the noise floor measured by two
identical contenders in the same run (${floorText}).

${table(['figure', 'result'], rows)}`;
}

function replaceBetween(doc, start, end, body) {
  const esc = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${esc(start)}[\\s\\S]*?${esc(end)}`);
  if (!re.test(doc)) throw new Error(`markers ${start} … ${end} not found`);
  return doc.replace(re, () => `${start}\n${body}\n${end}`);
}

export function writeReports(resultFile, { write }) {
  const res = JSON.parse(readFileSync(resultFile, 'utf8'));
  const file = relative(root, resultFile);
  const body = benchmarksMarkdown(res, file);
  if (!write) {
    process.stdout.write(`${body}\n`);
    return;
  }
  const benchPath = join(root, 'BENCHMARKS.md');
  writeFileSync(
    benchPath,
    replaceBetween(readFileSync(benchPath, 'utf8'), '<!-- results:start (bench/src/report.mjs) -->', '<!-- results:end -->', body),
  );
  const readmePath = join(root, 'README.md');
  writeFileSync(
    readmePath,
    replaceBetween(
      readFileSync(readmePath, 'utf8'),
      '<!-- headline:start (bench/src/report.mjs) -->',
      '<!-- headline:end -->',
      headlineMarkdown(res, file),
    ),
  );
  process.stderr.write(`regenerated BENCHMARKS.md and the README headline table from ${file}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2];
  const latest = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json') && !f.includes('quick'))
    .sort()
    .at(-1);
  const file = arg ? resolve(arg) : latest && join(resultsDir, latest);
  if (!file) throw new Error('no full results in bench/results: run pnpm bench first, or pass a file');
  writeReports(file, { write: true });
}
