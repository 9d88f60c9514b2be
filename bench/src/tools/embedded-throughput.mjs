// Throughput of the embedded test server for findOne by _id and insertOne, measured from a separate client process.
// Usage: pnpm --filter @polymongo/bench embedded-throughput [--seconds 5] [--concurrency 32]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '32' } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

const require = createRequire(import.meta.url);
const cli = require.resolve('@polymongo/testkit/package.json').replace(/package\.json$/, 'dist/cli.js');
const server = spawn(process.execPath, [cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const uri = await new Promise((resolve, reject) => {
  server.stdout.once('data', (d) => resolve(String(d).trim()));
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});

async function measure(label, op) {
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  let i = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const n = i++;
      const t = performance.now();
      await op(n);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(2);
  return { scenario: label, ops: latencies.length, opsPerSec: Math.round(latencies.length / elapsed), p50ms: pct(0.5), p99ms: pct(0.99) };
}

const client = await new MongoClient(uri, { maxPoolSize: concurrency }).connect();
try {
  const coll = client.db('throughput').collection('docs');
  await coll.insertMany(Array.from({ length: 10_000 }, (_, n) => ({ _id: n, name: `doc-${n}`, n })));
  const results = [
    await measure('findOne by _id', (n) => coll.findOne({ _id: n % 10_000 })),
    await measure('insertOne', (n) => client.db('throughput').collection('inserts').insertOne({ n, at: new Date() })),
  ];
  console.log(JSON.stringify({ node: process.version, seconds, concurrency, results }, null, 2));
} finally {
  await client.close();
  server.kill('SIGTERM');
}
