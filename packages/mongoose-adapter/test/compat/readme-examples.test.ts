import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { useServer } from '../helpers.js';
import { type Child, ensureBuilt, installedProject, mongooseMajor, runNode } from './installed.js';

// "Done when": `const PolyMongo = require('@polymongo/mongoose/compat')` followed by the 1.x README's Quick start and
// Express example works unchanged. The two blocks are read verbatim from readme/examples.md (copied from the 1.x
// README) and run as CommonJS child processes from the built package, on the Mongoose major of this vitest project
// (9 in `default`, 8 in `mongoose8`). The only edits, each asserted to happen exactly once:
//   - require("polymongo") → require("@polymongo/mongoose/compat")
//   - "mongodb://localhost:27017" → the test server's URI
//   - app.listen(3000, ...) → app.listen(0, "127.0.0.1", ...) (a free port on loopback only)
// The Quick start uses top-level `await`, which CommonJS does not allow (with polymongo 1.x either), so it runs inside
// an async function; a preloaded harness file (node -r) reports the port the Express app listens on.

const env = useServer();
const examples = readFileSync(fileURLToPath(new URL('./readme/examples.md', import.meta.url)), 'utf8');
const [quickStart, expressExample] = [...examples.matchAll(/```javascript\n([\s\S]*?)```/g)].map((m) => m[1] as string);

function edit(source: string, from: string, to: string): string {
  expect(source.split(from).length - 1, `"${from}" occurs once`).toBe(1);
  return source.replace(from, to);
}

function migrated(source: string): string {
  const uri = env.mongo.uri;
  return edit(
    edit(source, 'require("polymongo")', 'require("@polymongo/mongoose/compat")'),
    '"mongodb://localhost:27017"',
    JSON.stringify(uri),
  );
}

const reportPort = `const http = require("node:http");
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  this.once("listening", () => console.log("HARNESS_LISTENING " + this.address().port));
  return listen.apply(this, args);
};
`;

beforeAll(() => ensureBuilt(), 300_000);

describe(`the 1.x README examples, unchanged, on Mongoose ${mongooseMajor}`, () => {
  test('Quick start: reads each tenant database and the default one', () => quickStartRun('compat'), 60_000);

  // The reference, as for the Express example below: polymongo@1.3.0 itself, on its own Mongoose 8 (mongoose8 project).
  test.runIf(mongooseMajor === 8)('Quick start on polymongo@1.3.0 gives the same results', () => quickStartRun('v1'), 60_000);

  test('Express example: the routes answer over HTTP, data lands on the server, SIGTERM shuts down', () => express('compat'), 90_000);

  // The reference: the same example on the published polymongo@1.3.0 (require("polymongo") left as it is), which runs on
  // its own Mongoose 8 copy, the one the app requires only in the mongoose8 project.
  test.runIf(mongooseMajor === 8)(
    'Express example on polymongo@1.3.0 gives the same answers, except /stats (wrapper.stats is not a function there)',
    () => express('v1'),
    90_000,
  );
});

async function quickStartRun(entry: 'compat' | 'v1'): Promise<void> {
  for (const db of ['tenant_1', 'tenant_2', 'default']) await env.observer.db(db).dropDatabase();
  await env.observer.db('tenant_1').collection('users').insertOne({ name: 'one', email: 'one@t1' });
  await env.observer
    .db('tenant_2')
    .collection('users')
    .insertMany([
      { name: 'two', email: 'two@t2' },
      { name: 'three', email: 'three@t2' },
    ]);
  await env.observer.db('default').collection('users').insertOne({ name: 'dflt', email: 'd@default' });
  const app = `(async () => {
${entry === 'compat' ? migrated(quickStart as string) : edit(quickStart as string, '"mongodb://localhost:27017"', JSON.stringify(env.mongo.uri))}
console.log("HARNESS_RESULT " + JSON.stringify({ usersFromDB1, usersFromDB2, usersDefault, mongoose: [mongoose.version, wrapper.adv.mongoose.version] }));
await wrapper.actions.closeAll();
})().catch((error) => { console.error(error); process.exitCode = 1; });
`;
  const dir = installedProject({ 'quick-start.cjs': app });
  const child = runNode(dir, ['quick-start.cjs']);
  env.cleanup.push(async () => child.process.exitCode === null && child.process.kill('SIGKILL'));
  const result = JSON.parse((await child.line(/^HARNESS_RESULT /)).slice('HARNESS_RESULT '.length));
  const names = (users: Array<{ name: string }>) => users.map((u) => u.name).sort();
  expect(names(result.usersFromDB1)).toEqual(['one']);
  expect(names(result.usersFromDB2)).toEqual(['three', 'two']);
  expect(names(result.usersDefault)).toEqual(['dflt']);
  // The app and the compat entry run on one Mongoose copy, of the major under test.
  expect(result.mongoose[0]).toMatch(new RegExp(`^${mongooseMajor}\\.`));
  expect(result.mongoose[1]).toBe(result.mongoose[0]);
  // closeAll leaves nothing running: the process ends by itself, without errors and without debug noise on stdout.
  expect(await child.exited).toEqual({ code: 0, signal: null });
  expect(child.stderr.join('\n')).toBe('');
  expect(child.stdout).toEqual([expect.stringMatching(/^HARNESS_RESULT /)]);
}

async function express(entry: 'compat' | 'v1'): Promise<void> {
  const source =
    entry === 'compat'
      ? migrated(expressExample as string)
      : edit(expressExample as string, '"mongodb://localhost:27017"', JSON.stringify(env.mongo.uri));
  const app = edit(source, 'app.listen(3000, () => {', 'app.listen(0, "127.0.0.1", () => {');
  const dir = installedProject({ 'server.cjs': app, 'report-port.cjs': reportPort });
  // Other tests read and wrote these databases too: start from empty ones.
  await env.observer.db('default').dropDatabase();
  await env.observer.db('acme').dropDatabase();
  const child: Child = runNode(dir, ['-r', './report-port.cjs', 'server.cjs']);
  env.cleanup.push(async () => child.process.exitCode === null && child.process.kill('SIGKILL'));
  const port = Number((await child.line(/^HARNESS_LISTENING \d+$/)).split(' ')[1]);
  await child.line(/^Connection state: /);
  const base = `http://127.0.0.1:${port}`;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of the example's routes
  type Json = any;
  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: await res.json() };
  };
  const post = async (body: object): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };

  // Nothing connected yet (coldStart), as the example's own startup line says.
  expect(child.stdout.slice(1)).toEqual(['Server running on port 3000', 'Connection state: not initialized']);
  expect(await get('/health')).toEqual({
    status: 200,
    body: { status: 'unhealthy', state: 'not initialized', timestamp: expect.any(String) },
  });

  const created = await post({ name: 'Ada', email: 'ada@acme', db: 'acme' });
  expect(created).toEqual({
    status: 200,
    body: { success: true, data: { _id: expect.any(String), name: 'Ada', email: 'ada@acme', createdAt: expect.any(String), __v: 0 } },
  });
  expect((await post({ name: 'Dee', email: 'dee@default' })).status).toBe(200);
  const invalid = await post({ email: 'no-name@acme', db: 'acme' });
  expect(invalid).toEqual({ status: 500, body: { success: false, error: expect.stringContaining('name: Path `name` is required.') } });

  expect(await get('/users?db=acme')).toEqual({
    status: 200,
    body: {
      success: true,
      data: [{ _id: created.body.data._id, name: 'Ada', email: 'ada@acme', createdAt: created.body.data.createdAt, __v: 0 }],
    },
  });
  expect((await get('/users')).body.data.map((u: { name: string }) => u.name)).toEqual(['Dee']);
  expect(await get('/health')).toEqual({ status: 200, body: { status: 'healthy', state: 'connected', timestamp: expect.any(String) } });
  if (entry === 'compat') {
    const stats = await get('/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      activeConnections: expect.any(Number),
      databases: expect.arrayContaining(['acme', 'default']),
      poolStats: { totalConnections: expect.any(Number), maxPoolSize: 10, minFreeConnections: 2, idleTimeoutMS: 30000 },
    });
  } else {
    const stats = await fetch(`${base}/stats`);
    expect([stats.status, await stats.text()]).toEqual([500, expect.stringContaining('wrapper.stats is not a function')]);
  }

  // The change stream route: inserts show up as server-sent events. The route sends its headers with the first event
  // and the change stream starts asynchronously, so insert until one arrives (bounded).
  const controller = new AbortController();
  let received = '';
  let contentType: string | null = null;
  const firstEvent = (async () => {
    const sse = await fetch(`${base}/watch/acme`, { signal: controller.signal });
    contentType = sse.headers.get('content-type');
    const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
    while (!received.includes('\n\n')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended before any event');
      received += Buffer.from(value).toString('utf8');
    }
  })();
  let settled = false;
  void firstEvent.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 50 && !settled; i++) {
    await post({ name: `Watched ${i}`, email: 'w@acme', db: 'acme' });
    await Promise.race([firstEvent, new Promise((resolve) => setTimeout(resolve, 100))]);
  }
  await firstEvent;
  expect(contentType).toBe('text/event-stream');
  const change = JSON.parse(received.slice('data: '.length, received.indexOf('\n\n')));
  expect(change).toMatchObject({ operationType: 'insert', ns: { db: 'acme', coll: 'users' }, fullDocument: { email: 'w@acme' } });
  controller.abort();

  // The data is on the server, where the example put it.
  const onServer = async (db: string) =>
    (
      await env.observer
        .db(db)
        .collection('users')
        .find({}, { projection: { _id: 0, name: 1 } })
        .toArray()
    ).map((u) => u.name);
  expect(await onServer('acme')).toEqual(expect.arrayContaining(['Ada', 'Watched 0']));
  expect(await onServer('default')).toEqual(['Dee']);

  // "Graceful shutdown handled automatically by PolyMongo": SIGTERM closes the connections and exits 0.
  child.process.kill('SIGTERM');
  expect(await child.exited).toEqual({ code: 0, signal: null });
  expect(child.stderr.join('\n')).toBe('');
}
