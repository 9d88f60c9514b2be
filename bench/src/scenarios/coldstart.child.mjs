// One cold start in a fresh process: import time, then construction → first answer (findOne by _id). Prints JSON.
//   node bench/src/scenarios/coldstart.child.mjs --contender NAME --uri URI [--profile FILE.cpuprofile]
// --profile writes a CPU profile of construction → first answer only (bench/src/tools/profile-summary.mjs reads it).
// Imports are dynamic so that their time is measured on its own; nothing else is loaded before them.
import { parseArgs } from 'node:util';
import { coldStarts } from './coldstart.contenders.mjs';

const { values } = parseArgs({
  options: { contender: { type: 'string' }, uri: { type: 'string' }, profile: { type: 'string' } },
});
const { uri } = values;
const starts = coldStarts(uri);

async function startProfiler() {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
  return {
    stop: async (file) => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
    },
  };
}

const name = values.contender.replace(/, twin$/, '');
// CPU time (process.cpuUsage, all threads) beside wall time: on a busy machine it is the steadier figure.
const cpuMs = (since) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
const c0 = process.cpuUsage();
const t0 = performance.now();
const firstQuery = await starts[name]();
// A full collection between import and construction (run with --expose-gc), for every contender alike: otherwise
// whether the first old-space collection of the import's garbage (5+ ms, with helper threads) lands inside the span
// depends on how much each contender's imports allocated, not on what construction and the first query cost.
globalThis.gc?.();
const profiler = values.profile ? await startProfiler() : undefined;
const t1 = performance.now();
const c1 = process.cpuUsage();
const doc = await firstQuery();
const t2 = performance.now();
if (profiler) await profiler.stop(values.profile);
const firstAnswerCpuMs = cpuMs(c1);
const importCpuMs = cpuMs(c0) - firstAnswerCpuMs;
if (!doc) throw new Error(`${name}: the first query found nothing (was read_0 seeded?)`);
process.stdout.write(
  `${JSON.stringify({ importMs: t1 - t0, firstAnswerMs: t2 - t1, importCpuMs, firstAnswerCpuMs, sinceProcessStartMs: t2 })}\n`,
);
process.exit(0);
