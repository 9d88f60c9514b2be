// Prints the functions with the most self time in a .cpuprofile written by `node --cpu-prof`, or with --inclusive the
// most time including callees (a function on the stack twice is counted once per sample).
// Usage: node src/tools/profile-summary.mjs FILE.cpuprofile [top=25] [--inclusive] [--match TEXT]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { inclusive: { type: 'boolean', default: false }, match: { type: 'string' } },
  allowPositionals: true,
});
const [file, top = '25'] = positionals;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const keyOf = (frame) => `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
const time = new Map();
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  if (!values.inclusive) {
    const key = keyOf(nodes.get(id).callFrame);
    time.set(key, (time.get(key) ?? 0) + dt);
    return;
  }
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const key = keyOf(nodes.get(n).callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    time.set(key, (time.get(key) ?? 0) + dt);
  }
});
const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
const rows = [...time].filter(([key]) => !values.match || key.includes(values.match));
for (const [key, us] of rows.sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(7)}ms  ${key}`);
}
