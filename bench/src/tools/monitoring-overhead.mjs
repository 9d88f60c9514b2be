// Cost of operation monitoring (slowOperationMS / monitorOperations: driver command monitoring feeding the
// slow-operation log, stats and metrics) on the native read path. Runs the two configurations interleaved
// (A B A B ...) against the same server so drift hits both alike.
// Usage: pnpm --filter @polymongo/bench monitoring-overhead [--rounds 4] [--seconds 3]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPolyMongo } from '@polymongo/native';
import { MongoClient } from 'mongodb';
import { SEED_IDS } from '../contenders.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '4' }, seconds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const TENANTS = 200;

const require = createRequire(import.meta.url);
const cli = join(dirname(require.resolve('@polymongo/testkit/package.json')), 'dist', 'cli.js');
const server = spawn(process.execPath, [cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const uri = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));

const seed = await new MongoClient(uri).connect();
for (let t = 0; t < TENANTS; t++)
  await seed
    .db(`mon_${t}`)
    .collection('items')
    .insertMany(SEED_IDS.map((_id, i) => ({ _id, n: i })));
await seed.close();

async function run(slowOperationMS) {
  const poly = createPolyMongo({
    uri,
    pool: { maxPoolSize: 32 },
    logger: { level: 'silent' },
    ...(slowOperationMS === undefined ? {} : { slowOperationMS }),
  });
  await poly.connect();
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < deadline) {
        const i = n++;
        await poly
          .db(`mon_${(i * 7919) % TENANTS}`)
          .collection('items')
          .findOne({ _id: SEED_IDS[i % 10] });
      }
    }),
  );
  const opsPerSec = n / ((performance.now() - started) / 1000);
  await poly.close();
  return opsPerSec;
}

const off = [];
const on = [];
for (let r = 0; r < rounds; r++) {
  off.push(await run(undefined));
  // A threshold no operation reaches: monitoring runs, nothing is logged.
  on.push(await run(60_000));
}
server.kill('SIGTERM');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  rounds,
  seconds,
  offOpsPerSec: Math.round(median(off)),
  onOpsPerSec: Math.round(median(on)),
  ratio: +(median(on) / median(off)).toFixed(3),
  samplesOff: off.map(Math.round),
  samplesOn: on.map(Math.round),
};
console.log(JSON.stringify(result, null, 2));
