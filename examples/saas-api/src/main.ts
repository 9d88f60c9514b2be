import type { Server } from 'node:http';
import { startMongo } from '@polymongo/testkit';
import { createDemo, Events } from './app.js';

const SEED: Record<string, { name: string; users: Array<{ name: string; email: string; role?: string }> }> = {
  acme: {
    name: 'Acme Corp',
    users: [
      { name: 'Wile E.', email: 'wile@acme.test', role: 'admin' },
      { name: 'Road Runner', email: 'beep@acme.test' },
    ],
  },
  globex: { name: 'Globex', users: [{ name: 'Hank Scorpio', email: 'hank@globex.test', role: 'admin' }] },
  initech: {
    name: 'Initech',
    users: [
      { name: 'Peter Gibbons', email: 'peter@initech.test' },
      { name: 'Milton', email: 'milton@initech.test' },
    ],
  },
};

const port = Number(process.env.PORT ?? 3000);
const mongo = await startMongo({ replSet: true });
const demo = await createDemo({ uri: mongo.uri, logLevel: 'info' });

for (const [id, tenant] of Object.entries(SEED)) {
  await demo.registerTenant(id, tenant.name);
  const users = demo.poly.db(id).collection('users');
  if ((await users.countDocuments()) === 0) {
    await users.insertMany(tenant.users.map((u) => ({ role: 'member', ...u, createdAt: new Date(), updatedAt: new Date() })));
    await demo.poly
      .tenant(id)
      .repo(Events)
      .insertOne({ type: 'tenant.seeded', payload: { users: tenant.users.length } });
  }
}

const server: Server = demo.app.listen(port, '127.0.0.1', () => {
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(
    [
      '',
      `PolyMongo SaaS demo on ${base}  (MongoDB: ${mongo.kind})`,
      `  dashboard  ${base}/dashboard`,
      `  events     curl ${base}/t/acme/events`,
      `  add one    curl -X POST -H 'content-type: application/json' -d '{"type":"signup"}' ${base}/t/acme/events`,
      `  users      curl -H 'x-tenant: globex' ${base}/api/users`,
      `  changes    curl -N ${base}/t/acme/changes`,
      `  metrics    ${base}/metrics   health ${base}/health   ready ${base}/ready`,
      '  load       pnpm demo:load   (in another terminal)',
      'Ctrl-C stops it gracefully.',
      '',
    ].join('\n'),
  );
});
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(
    err.code === 'EADDRINUSE' ? `Port ${port} is in use; run with PORT=3001 pnpm demo\n` : `server error: ${err.message}\n`,
  );
  void shutdown(1);
});

let stopping = false;
async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nshutting down: finishing in-flight requests...\n');
  // Stop accepting, end SSE streams and idle keep-alive sockets; requests in flight finish first.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await demo.close();
  server.closeIdleConnections();
  await closed;
  await mongo.stop();
  process.stdout.write('stopped.\n');
  process.exitCode = code;
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
