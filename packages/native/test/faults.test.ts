// Faults injected the standard way (a server stopped and started on the same port, wrong credentials, slow commands
// through failCommand) against the lifecycle: live state, health, cold-path errors and close. Server stop/start and
// authentication users are the embedded server's control surface, so this file starts EmbeddedMongo directly.

import { EmbeddedMongo } from '@polymongo/testkit';
import { MongoClient, ReadPreference } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { classifyError, createPolyMongo, type NativeOptions, type PolyMongo } from '../src/index.js';

const servers: EmbeddedMongo[] = [];
const polys: PolyMongo[] = [];
const clients: MongoClient[] = [];

async function server(options: ConstructorParameters<typeof EmbeddedMongo>[0] = {}): Promise<EmbeddedMongo> {
  const s = await new EmbeddedMongo(options).start();
  servers.push(s);
  return s;
}

function make(uri: string, options: Partial<NativeOptions> = {}): PolyMongo {
  const poly = createPolyMongo({
    uri,
    logger: { level: 'silent' },
    ...options,
    // A short heartbeat so topology changes show within a fraction of a second.
    driverOptions: { heartbeatFrequencyMS: 200, serverSelectionTimeoutMS: 3000, ...options.driverOptions },
  });
  polys.push(poly);
  return poly;
}

async function observer(uri: string): Promise<MongoClient> {
  const c = await new MongoClient(uri).connect();
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(polys.splice(0).map((p) => p.forceClose()));
  await Promise.all(clients.splice(0).map((c) => c.close(true)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('state follows the server after the first connect', () => {
  test('a stopped server moves the pool and the client to retrying, and back to connected once it is up', async () => {
    const s = await server();
    const poly = make(s.uri);
    const seen: string[] = [];
    poly.on('stateChange', (e) => {
      if (e.scope === 'client') seen.push(e.to);
    });
    poly.on('disconnect', (e) => seen.push(`disconnect:${e.reason}`));
    poly.on('reconnect', () => seen.push('reconnect'));
    await poly.connect();
    expect(poly.state).toBe('connected');

    await s.stop();
    await expect.poll(() => poly.state, { timeout: 10_000 }).toBe('retrying');
    expect(poly.stats().pools[0]?.state).toBe('retrying');

    await s.start();
    await expect.poll(() => poly.state, { timeout: 10_000 }).toBe('connected');
    expect(seen).toEqual(['connecting', 'connected', 'retrying', 'disconnect:server', 'connected', 'reconnect']);
    expect(poly.stats().pools[0]?.transitions).toEqual({ disconnects: 1, reconnects: 1 });
    await poly.db('acme').collection('c').insertOne({ after: true });
  });

  test('health answers within its timeout during an outage, ok: false with a state that agrees', { timeout: 15_000 }, async () => {
    const s = await server();
    // Server selection would wait 30 s; health must not.
    const poly = make(s.uri, { driverOptions: { serverSelectionTimeoutMS: 30_000 } });
    expect(await poly.health()).toMatchObject({ ok: true, state: 'connected' });
    await s.stop();
    const during = await poly.health({ timeoutMS: 300 });
    expect(during.ok).toBe(false);
    expect(during.state).not.toBe('connected');
    expect(during.error?.message).toBeTruthy();
    await s.start();
    await expect.poll(async () => (await poly.health({ timeoutMS: 300 })).ok, { timeout: 10_000 }).toBe(true);
    expect(poly.state).toBe('connected');
  });
});

describe('cold-path errors name their cause; a kept handle keeps working', () => {
  // Every operation names its cause: the ones queued on the very first connect attempt (issued at once, before
  // anything answered) and the ones after it. PolyMongo opens the topology so that no failure closes it.
  test('wrong credentials: operations issued together and one after another all fail naming authentication', async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    // Three clients in a row: each round races PolyMongo's own connect against the operations.
    for (let round = 0; round < 3; round++) {
      const poly = make(`mongodb://app:wrong@${s.host}/?authSource=admin`);
      const coll = poly.db('acme').collection('c');
      const together = await Promise.all(Array.from({ length: 5 }, () => coll.findOne({}).catch((e: unknown) => e)));
      const sequential: unknown[] = [];
      for (let i = 0; i < 3; i++) sequential.push(await coll.findOne({}).catch((e: unknown) => e));
      for (const error of [...together, ...sequential]) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).not.toMatch(/Topology is closed/);
        expect(classifyError(error)).toBe('auth');
      }
    }
  });

  test('an unreachable server: operations queued on the first connect fail naming it, not "Topology is closed"', {
    timeout: 20_000,
  }, async () => {
    const s = await server();
    const { host } = s;
    await s.stop();
    const poly = make(`mongodb://${host}`, { retry: { attempts: 1 }, driverOptions: { serverSelectionTimeoutMS: 500 } });
    const coll = poly.db('acme').collection('c');
    const queued = await Promise.all(Array.from({ length: 5 }, (_, n) => coll.insertOne({ n }).catch((e: unknown) => e)));
    for (const error of queued) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toMatch(/Topology is closed/);
      expect(classifyError(error)).toBe('retryable');
    }
    await s.start();
    await coll.insertOne({ n: 9 });
    expect(await coll.countDocuments({})).toBe(1);
  });

  test('an unreachable server: operations fail naming it; once it is up the same Db handle works', { timeout: 20_000 }, async () => {
    const s = await server();
    const { host } = s;
    await s.stop();
    const poly = make(`mongodb://${host}`, { retry: { attempts: 1 }, driverOptions: { serverSelectionTimeoutMS: 500 } });
    const db = poly.db('acme');
    await db
      .collection('c')
      .insertOne({ n: 0 })
      .catch(() => undefined);
    const failures = [
      await db
        .collection('c')
        .insertOne({ n: 0 })
        .catch((e: unknown) => e),
      await db
        .collection('c')
        .insertOne({ n: 0 })
        .catch((e: unknown) => e),
    ];
    for (const error of failures) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).not.toMatch(/Topology is closed/);
      expect(classifyError(error)).toBe('retryable');
    }
    await s.start();
    await db.collection('c').insertOne({ n: 1 });
    expect(await db.collection('c').countDocuments({ n: 1 })).toBe(1);
  });
  // On mongod the operator would run updateUser; the embedded server takes its users at start, so it is restarted on
  // the same port with the password the application uses.
  test('credentials fixed after auth_failed: new tenants and kept handles succeed on the same pool', { timeout: 20_000 }, async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    const poly = make(`mongodb://app:wrong@${s.host}/?authSource=admin`);
    const created: string[] = [];
    poly.on('poolCreated', (e) => created.push(e.poolKey));
    const kept = poly.db('acme').collection('c');
    expect(classifyError(await kept.findOne({}).catch((e: unknown) => e))).toBe('auth');
    await expect.poll(() => poly.state).toBe('auth_failed');
    // Still wrong: a new tenant gets a handle, and its operations name authentication.
    expect(
      classifyError(
        await poly
          .db('beta')
          .collection('c')
          .findOne({})
          .catch((e: unknown) => e),
      ),
    ).toBe('auth');

    const port = Number(new URL(s.uri).port);
    await s.stop();
    await server({ port, auth: { users: [{ user: 'app', password: 'wrong' }] } });
    await poly.db('gamma').collection('c').insertOne({ fixed: true });
    await kept.insertOne({ fixed: true });
    expect(await kept.countDocuments({})).toBe(1);
    await expect.poll(async () => (await poly.health()).ok).toBe(true);
    expect(poly.state).toBe('connected');
    expect(created).toEqual(['cluster:default']);
  });
});

describe('close()', () => {
  test('close() during an outage waits for an operation still in server selection; it completes once the server is back', {
    timeout: 20_000,
  }, async () => {
    const s = await server();
    const poly = make(s.uri, { driverOptions: { serverSelectionTimeoutMS: 15_000 } });
    await poly.connect();
    const coll = poly.db('acme').collection('outage');
    await s.stop();
    await expect.poll(() => poly.state, { timeout: 10_000 }).toBe('retrying');
    const insert = coll.insertOne({ during: true });
    // It holds no connection, yet it is in flight: stats count it as waiting.
    await expect.poll(() => poly.stats().pools[0]?.connections.waiting).toBe(1);
    const closing = poly.close({ timeoutMS: 15_000 });
    await s.start();
    await insert;
    await closing;
    expect(await (await observer(s.uri)).db('acme').collection('outage').countDocuments({ during: true })).toBe(1);
  });

  test('close() of a cold client whose server is down, with nothing issued, resolves: no operation was in flight', async () => {
    const s = await server();
    const { host } = s;
    await s.stop();
    const poly = make(`mongodb://${host}`, { retry: { attempts: 1 }, driverOptions: { serverSelectionTimeoutMS: 30_000 } });
    poly.db('acme');
    await expect.poll(() => poly.state).toBe('connecting');
    expect(poly.stats().pools[0]?.connections.waiting).toBe(0);
    await poly.close({ timeoutMS: 300 });
    expect(poly.state).toBe('closed');
  });
});

describe('dedicated pools with autoClose under traffic', () => {
  test('an operation waiting for a server on a connected pool keeps it open past the TTL and fails with its own cause', async () => {
    const s = await server();
    const poly = make(s.uri, {
      dedicated: [
        { tenants: 'waiter', autoClose: true, ttlMS: 300 },
        { tenants: 'clock', autoClose: true, ttlMS: 300 },
      ],
      driverOptions: { serverSelectionTimeoutMS: 3000 },
    });
    const closed: string[] = [];
    poly.on('poolClosed', (e) => closed.push(e.poolKey));
    const coll = poly.db('waiter').collection('c');
    await coll.insertOne({ n: 1 });
    // No member carries this tag: the read waits in server selection on a pool that stays connected.
    const read = coll.findOne({}, { readPreference: new ReadPreference('nearest', [{ dc: 'nowhere' }]) }).then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await expect.poll(() => poly.stats().pools.find((p) => p.key === 'dedicated:waiter')?.connections.waiting).toBe(1);
    await poly.db('clock').collection('c').insertOne({ tick: 1 });
    await expect.poll(() => closed, { timeout: 5000 }).toContain('dedicated:clock');
    expect(closed).not.toContain('dedicated:waiter');
    expect(poly.stats().pools.find((p) => p.key === 'dedicated:waiter')?.state).toBe('connected');
    const error = await read;
    expect((error as Error).name).toBe('MongoServerSelectionError');
    expect((error as Error).message).not.toMatch(/Topology is closed/);
  });

  test('a cursor paused between batches for longer than the TTL keeps the pool open and reads on', async () => {
    const s = await server();
    const poly = make(s.uri, {
      dedicated: [
        { tenants: 'reader', autoClose: true, ttlMS: 300 },
        { tenants: 'clock', autoClose: true, ttlMS: 300 },
      ],
    });
    const closed: string[] = [];
    poly.on('poolClosed', (e) => closed.push(e.poolKey));
    const coll = poly.db('reader').collection('c');
    await coll.insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const cursor = coll.find({}, { batchSize: 1, projection: { _id: 0 } });
    expect(await cursor.next()).toEqual({ n: 1 });
    // The clock pool is used after the reader's last batch: once it closes as idle, the reader has been paused longer.
    await poly.db('clock').collection('c').insertOne({ tick: 1 });
    await expect.poll(() => closed, { timeout: 5000 }).toContain('dedicated:clock');
    expect(closed).not.toContain('dedicated:reader');
    expect(await cursor.toArray()).toEqual([{ n: 2 }, { n: 3 }]);
    // Exhausted: nothing holds the reader's pool any more.
    await expect.poll(() => closed, { timeout: 5000 }).toContain('dedicated:reader');
  });
});
