// Peak heap of exportTenant on tenants of different sizes: the export is pulled through a cursor, so the heap should
// not grow with the tenant. Each export runs in a fresh child process (clean heap); the server is another process
// (the embedded one unless MONGODB_URI is set).
//   pnpm turbo run build --filter=@polymongo/fleet... && node packages/fleet/scripts/measure-export-memory.mjs 20000 200000
// With `--heap-limit MB` each export runs under --max-old-space-size=MB: an export that held the tenant would crash.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const HERE = fileURLToPath(import.meta.url);

if (process.argv[2] === '--worker') {
  const [, , , uri, tenant] = process.argv;
  const { createPolyMongo } = await import('@polymongo/native');
  const { createFleet } = await import(new URL('../dist/index.js', import.meta.url).href);
  const poly = createPolyMongo({ uri, logger: { level: 'silent' } });
  globalThis.gc?.();
  const baseline = process.memoryUsage();
  let peakHeap = baseline.heapUsed;
  let peakRss = baseline.rss;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 5);
  let bytes = 0;
  const started = performance.now();
  await pipeline(
    createFleet(poly).exportTenant(tenant),
    new Writable({
      write(chunk, _encoding, done) {
        bytes += chunk.length;
        done();
      },
    }),
  );
  const ms = performance.now() - started;
  clearInterval(sampler);
  await poly.close();
  const mb = (n) => +(n / 2 ** 20).toFixed(1);
  process.stdout.write(
    `${JSON.stringify({ exportMB: mb(bytes), seconds: +(ms / 1000).toFixed(1), baselineHeapMB: mb(baseline.heapUsed), peakHeapMB: mb(peakHeap), peakRssMB: mb(peakRss) })}\n`,
  );
  process.exit(0);
}

const args = process.argv.slice(2);
const limitAt = args.indexOf('--heap-limit');
const heapLimit = limitAt >= 0 ? Number(args.splice(limitAt, 2)[1]) : undefined;
const sizes = args.map(Number);
if (sizes.length === 0) sizes.push(20_000, 200_000);
let uri = process.env.MONGODB_URI;
let server;
if (!uri) {
  const bin = fileURLToPath(new URL('../../testkit/bin/polymongo-embedded.js', import.meta.url));
  server = spawn(process.execPath, ['--max-old-space-size=8192', bin, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  uri = String((await once(server.stdout, 'data'))[0]).trim();
}
const client = await new MongoClient(uri).connect();
const rows = [];
for (const n of sizes) {
  const tenant = `exportmem_${n}`;
  const orders = client.db(tenant).collection('orders');
  await client.db(tenant).dropDatabase();
  // ~300-byte documents with a few BSON types.
  for (let i = 0; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
      sku: `sku-${i + j}`,
      customer: `customer-${(i + j) % 977}`,
      createdAt: new Date(1_700_000_000_000 + (i + j) * 1000),
      lines: [
        { item: 'widget', qty: 2, price: 9.99 },
        { item: 'gadget', qty: 1, price: 24.5 },
      ],
      note: 'x'.repeat(120),
    }));
    await orders.insertMany(batch, { ordered: false });
  }
  await orders.createIndex({ customer: 1 });
  const flags = ['--expose-gc', ...(heapLimit ? [`--max-old-space-size=${heapLimit}`] : [])];
  const child = spawn(process.execPath, [...flags, HERE, '--worker', uri, tenant], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const [exitCode, signal] = await once(child, 'exit');
  const row = { documents: n, heapLimitMB: heapLimit ?? null, ...(exitCode === 0 ? JSON.parse(out) : { crashed: signal ?? exitCode }) };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
  await client.db(tenant).dropDatabase();
}
await client.close();
server?.kill('SIGTERM');
console.table(rows);
