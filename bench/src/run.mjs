// Runs every scenario (each file in scenarios/ in its own process, with its own server process) and saves one JSON.
//   pnpm bench [--quick] [--only read,insert,acquire,coldstart,memory,connections,fairness]
// A full run then regenerates BENCHMARKS.md and the README's headline table from that JSON (src/report.mjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeReports } from './report.mjs';
import { log } from './runner/cli.mjs';
import { runFresh } from './runner/fresh.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SCENARIOS = ['read', 'insert', 'acquire', 'coldstart', 'memory', 'connections', 'fairness', 'fairness-overhead'];
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });
const chosen = values.only ? values.only.split(',') : SCENARIOS;
for (const s of chosen) if (!SCENARIOS.includes(s)) throw new Error(`--only takes ${SCENARIOS.join(', ')}; got "${s}"`);

const version = (pkg) => JSON.parse(readFileSync(join(here, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version;
const started = new Date();
const results = {
  date: started.toISOString(),
  mode: values.quick ? 'quick' : 'full',
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGB: Math.round(os.totalmem() / 107374182.4) / 10,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 10) / 10),
  },
  node: process.version,
  versions: { mongodb: version('mongodb'), mongoose: version('mongoose'), 'polymongo 1.x': version('polymongo-v1') },
  server: process.env.MONGODB_URI ? 'external (MONGODB_URI)' : 'embedded test server, own process',
  scenarios: {},
};

for (const scenario of chosen) {
  const t = performance.now();
  log(`${scenario}...`);
  const {
    scenario: _name,
    processMs: _ms,
    ...result
  } = await runFresh(join(here, 'scenarios', `${scenario}.bench.mjs`), values.quick ? ['--quick'] : [], { nodeArgs: ['--expose-gc'] });
  results.scenarios[scenario] = { ...result, seconds: Math.round((performance.now() - t) / 100) / 10 };
  log(`${scenario}: ${results.scenarios[scenario].seconds} s`);
}
results.machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 10) / 10);
results.seconds = Math.round((Date.now() - started.getTime()) / 1000);

const stamp = results.date.slice(0, 16).replace(':', '-');
const file = join(here, '..', 'results', `${stamp}${values.quick ? '-quick' : ''}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${file}`);
writeReports(file, { write: !values.quick && !values.only });
