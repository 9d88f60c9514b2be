// Memory: heap per tenant after touching 10,000 and 50,000 tenants, after GC, each contender in a fresh process.
//   node bench/src/scenarios/memory.bench.mjs [--quick]
import { fileURLToPath } from 'node:url';
import { ADAPTER, contenders, NATIVE, PLAIN, RAW, V1 } from '../contenders.mjs';
import { log, runScenario } from '../runner/cli.mjs';
import { runFresh } from '../runner/fresh.mjs';
import { round } from '../runner/stats.mjs';

const child = fileURLToPath(new URL('./memory.child.mjs', import.meta.url));
const DEFAULT_BOUND = 10_000;

await runScenario('memory', async ({ uri, quick }) => {
  const sizes = quick ? [2_000] : [10_000, 50_000];
  const runs = [
    [RAW, undefined, 'n/a'],
    ['raw driver (Collection cached in a Map)', undefined, 'n/a'],
    [NATIVE, 'none', 'none'],
    [NATIVE, DEFAULT_BOUND, DEFAULT_BOUND],
    [PLAIN, undefined, 'n/a'],
    [ADAPTER, 'none', 'none'],
    [ADAPTER, DEFAULT_BOUND, DEFAULT_BOUND],
    [V1, undefined, 'n/a'],
  ];
  const rows = [];
  for (const tenants of sizes) {
    for (const [name, bound, label] of runs) {
      if (bound === DEFAULT_BOUND && tenants <= DEFAULT_BOUND) continue;
      const args = ['--contender', name, '--tenants', String(tenants), '--uri', uri];
      if (bound !== undefined) args.push('--bound', String(bound === 'none' ? tenants * 2 : bound));
      const r = await runFresh(child, args, { nodeArgs: ['--expose-gc', '--max-old-space-size=4096'] });
      log(`  ${tenants} ${name} bound ${label}: ${Math.round(r.bytesPerTenant)} B/tenant`);
      rows.push({
        contender: name,
        tenants,
        bound: label,
        heapMB: round(r.heapMB, 1),
        bytesPerTenant: Math.round(r.bytesPerTenant),
        rssMB: round(r.rssMB, 1),
      });
    }
  }
  for (const row of rows) {
    const base = rows.find(
      (r) => r.tenants === row.tenants && r.contender === (contenders[row.contender].group === 'mongoose' ? PLAIN : RAW),
    );
    row.vsBaseline = base ? round(row.bytesPerTenant / base.bytesPerTenant, 3) : null;
  }
  return { config: { sizes, defaultBound: DEFAULT_BOUND }, rows };
});
