// Lists the functions that run between construction and the first answer of a cold start (V8 precise coverage),
// grouped by package, so that two contenders can be compared: what one runs and compiles that the other does not.
//   node bench/src/tools/coldstart-functions.mjs --contender NAME --uri URI > A.txt   (then diff two such files)
// Contenders start as in coldstart.child.mjs (both use scenarios/coldstart.contenders.mjs): imports first, and only
// the span from construction to the first answer is counted. Any contender of that file works (mongoose ones too).
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { coldStarts } from '../scenarios/coldstart.contenders.mjs';

const { values } = parseArgs({ options: { contender: { type: 'string' }, uri: { type: 'string' }, summary: { type: 'boolean' } } });
const { uri } = values;
const starts = coldStarts(uri);
const name = values.contender.replace(/, twin$/, '');
if (!starts[name]) throw new Error(`--contender: one of ${Object.keys(starts).join(', ')}`);
const first = await starts[name]();
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
// Taking coverage resets the counts: what ran before this point (imports, the profiler itself) is left out.
await session.post('Profiler.takePreciseCoverage');
const doc = await first();
const after = await session.post('Profiler.takePreciseCoverage');
if (!doc) throw new Error('the first query found nothing (was read_0 seeded?)');
// Each function with its source size: compiling a function on first call costs in proportion to its size.
const key = (url, f) =>
  `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '@polymongo/')} ${f.functionName || '(anonymous)'}@${f.ranges[0].startOffset} ${f.ranges[0].endOffset - f.ranges[0].startOffset}B`;
const counts = (cov) => {
  const m = new Map();
  for (const s of cov.result) for (const f of s.functions) if (f.ranges[0].count > 0) m.set(key(s.url, f), f.ranges[0].count);
  return m;
};
const lines = [...counts(after).keys()].sort();
if (values.summary) {
  const byPkg = new Map();
  for (const l of lines) {
    const pkg = l
      .split(' ')[0]
      .split('/')
      .slice(0, l.startsWith('@') ? 2 : 1)
      .join('/');
    const s = byPkg.get(pkg) ?? { functions: 0, bytes: 0 };
    s.functions += 1;
    s.bytes += Number(l.split(' ').at(-1).slice(0, -1));
    byPkg.set(pkg, s);
  }
  for (const [p, s] of [...byPkg].sort((x, y) => y[1].bytes - x[1].bytes))
    console.log(String(s.functions).padStart(5), String(s.bytes).padStart(8), 'B', p);
} else for (const l of lines) console.log(l);
process.exit(0);
