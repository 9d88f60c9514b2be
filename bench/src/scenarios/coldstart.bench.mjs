// Cold start: each run a fresh Node process; construction → first answer, import time apart, and the whole process
// (spawn → exit) as seen from outside. Paired rounds in rotating order; median of per-round ratios.
//   node bench/src/scenarios/coldstart.bench.mjs [--quick] [--uri mongodb://...] [--rounds N] [--contenders 'a,b,...']
// (--contenders picks rows by name, e.g. 'raw driver,raw driver, twin,polymongo native'; separate names with commas
// not followed by a space.)
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { COLLECTION, SEED_IDS } from '../contenders.mjs';
import { log, runScenario } from '../runner/cli.mjs';
import { runFresh } from '../runner/fresh.mjs';
import { pairedRounds, summarise } from '../runner/paired.mjs';

const child = fileURLToPath(new URL('./coldstart.child.mjs', import.meta.url));
const allEntries = [
  ['raw driver', { group: 'driver' }],
  ['raw driver, twin', { group: 'driver', baseline: 'raw driver', twinOf: 'raw driver' }],
  ['polymongo native', { group: 'driver', baseline: 'raw driver' }],
  ['polymongo native, tracing on', { group: 'driver', baseline: 'raw driver', extra: true }],
  ['plain Mongoose', { group: 'mongoose' }],
  ['plain Mongoose, twin', { group: 'mongoose', baseline: 'plain Mongoose', twinOf: 'plain Mongoose' }],
  ['polymongo mongoose', { group: 'mongoose', baseline: 'plain Mongoose', alsoVs: ['polymongo 1.3.0'] }],
  ['polymongo mongoose, coldStart: false', { group: 'mongoose', baseline: 'plain Mongoose', extra: true }],
  ['polymongo 1.3.0', { group: 'mongoose', baseline: 'plain Mongoose' }],
];

await runScenario(
  'coldstart',
  async ({ uri, quick, args }) => {
    const picked = args.contenders ? args.contenders.split(/,(?! )/) : undefined;
    for (const name of picked ?? []) {
      if (!allEntries.some(([n]) => n === name)) throw new Error(`--contenders: no contender "${name}"`);
    }
    const entries = picked ? allEntries.filter(([n]) => picked.includes(n)) : allEntries;
    const seeder = await new MongoClient(uri).connect();
    await seeder.db('read_0').collection(COLLECTION).deleteMany({});
    await seeder
      .db('read_0')
      .collection(COLLECTION)
      .insertMany(SEED_IDS.map((_id, n) => ({ _id, name: `item-${n}`, n, tags: ['a'] })));
    await seeder.close();
    // CPU time of a ~40 ms span is coarse (it includes V8's helper threads), and one round's ratio varies by about
    // ±6% on a shared machine: many rounds, medians of paired ratios (41 rounds: about 3 minutes).
    const config = { rounds: args.rounds ? Number(args.rounds) : quick ? 3 : 41 };
    const rounds = await pairedRounds(
      entries.map(([name]) => name),
      config.rounds,
      (name) => runFresh(child, ['--contender', name, '--uri', uri], { nodeArgs: ['--expose-gc'] }),
      log,
    );
    return {
      config,
      ...summarise(rounds, entries, {
        firstAnswerMs: { higherIsBetter: false },
        firstAnswerCpuMs: { higherIsBetter: false },
        importMs: { higherIsBetter: false },
        importCpuMs: { higherIsBetter: false },
        processMs: { higherIsBetter: false },
      }),
    };
  },
  { rounds: { type: 'string' }, contenders: { type: 'string' } },
);
