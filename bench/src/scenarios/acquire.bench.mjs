// Handle acquisition: the cost of getting a tenant's handle (Db, or Mongoose model), round-robin over 10 / 10,000 /
// 100,000 tenants (--quick: 10 / 2,000 / 20,000), against a Map of Db handles. Each tenant count runs in a fresh
// process; inside it, paired rounds.
//   node bench/src/scenarios/acquire.bench.mjs [--quick] [--tenants N]
import { fileURLToPath } from 'node:url';
import { ADAPTER, contenders, NATIVE, PLAIN_TWIN, V1 } from '../contenders.mjs';
import { log, runScenario } from '../runner/cli.mjs';
import { runFresh } from '../runner/fresh.mjs';
import { pairedRounds, summarise } from '../runner/paired.mjs';

const DEFAULT_BOUND = 10_000;
const BATCH = 100;

/** The contenders at one tenant count; past the default bound, PolyMongo also runs with a bound that covers them. */
function entriesFor(tenants, quick) {
  let entries = Object.entries(contenders).filter(([name]) => !name.includes('Collection'));
  // --quick past the bound: the driver group only (compiling tens of thousands of Mongoose models takes minutes).
  if (tenants > DEFAULT_BOUND && quick) entries = entries.filter(([, def]) => def.group === 'driver');
  if (tenants > DEFAULT_BOUND) {
    entries.push([
      `${NATIVE} (maxCachedTenants ≥ tenants)`,
      { ...contenders[NATIVE], make: (uri) => contenders[NATIVE].make(uri, { maxCachedTenants: tenants * 2 }) },
    ]);
  }
  if (tenants > 50_000) {
    // 100,000 compiled Mongoose models cost about 1 GB per contender: keep the plain baseline and the adapter only.
    return entries.filter(([name]) => ![PLAIN_TWIN, V1].includes(name));
  }
  if (tenants > DEFAULT_BOUND) {
    entries.push([
      `${ADAPTER} (maxCachedTenants ≥ tenants)`,
      { ...contenders[ADAPTER], make: (uri) => contenders[ADAPTER].make(uri, { maxCachedTenants: tenants * 2 }) },
    ]);
  }
  return entries;
}

async function oneSize(uri, quick, tenants) {
  const config = quick ? { rounds: 3, sliceMS: 40 } : { rounds: 10, sliceMS: 200 };
  const entries = entriesFor(tenants, quick);
  const ids = Array.from({ length: tenants }, (_, i) => `acq_${i}`);
  const live = new Map();
  for (const [name, def] of entries) {
    const c = def.make(uri);
    await c.ready();
    // Fill the caches first, except where a bound smaller than the tenants makes every call a miss anyway.
    const thrashes = name.startsWith('polymongo') && !name.includes('≥') && tenants > DEFAULT_BOUND;
    if (!thrashes && !def.extra) for (const id of ids) c.handle(id);
    live.set(name, { c, next: 0 });
  }
  const measure = async (name) => {
    const entry = live.get(name);
    const { c } = entry;
    let i = entry.next;
    let ops = 0;
    const started = performance.now();
    const deadline = started + config.sliceMS;
    while (performance.now() < deadline) {
      for (let k = 0; k < BATCH; k++) c.handle(ids[i++ % tenants]);
      ops += BATCH;
    }
    const elapsed = performance.now() - started;
    entry.next = i;
    // Let Mongoose's per-model init() and the driver's timers run between slices, outside the timed part.
    await new Promise((resolve) => setImmediate(resolve));
    return { nsPerOp: (elapsed * 1e6) / ops, ops };
  };
  // One untimed round warms every contender's code path.
  await pairedRounds([...live.keys()], 1, measure);
  const rounds = await pairedRounds([...live.keys()], config.rounds, measure, log);
  for (const { c } of live.values()) await c.close();
  return { tenants, config: { ...config, batch: BATCH }, ...summarise(rounds, entries, { nsPerOp: { higherIsBetter: false } }) };
}

const here = fileURLToPath(import.meta.url);
await runScenario(
  'acquire',
  async ({ uri, quick, args }) => {
    if (args.tenants) return oneSize(uri, quick, Number(args.tenants));
    // --quick: a miss-heavy size (past the default bound) that still runs in seconds.
    const sizes = quick ? [10, 2_000, 20_000] : [10, 10_000, 100_000];
    const results = [];
    for (const tenants of sizes) {
      log(` ${tenants.toLocaleString('en')} tenants`);
      const r = await runFresh(here, ['--uri', uri, '--tenants', String(tenants), ...(quick ? ['--quick'] : [])], {
        nodeArgs: ['--max-old-space-size=4096'],
      });
      results.push(r);
    }
    return { sizes: results.map(({ scenario: _s, processMs: _p, ...r }) => r) };
  },
  { tenants: { type: 'string' } },
);
