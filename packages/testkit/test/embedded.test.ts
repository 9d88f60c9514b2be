// Tests of the embedded server's own surface (authentication users, the control surface, standalone mode).
// They cannot run against MONGODB_URI or a real mongod, so they start EmbeddedMongo directly.
import { MongoClient, MongoServerError } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { EmbeddedMongo, startMongo } from '../src/index.js';

const servers: EmbeddedMongo[] = [];
const clients: MongoClient[] = [];
async function server(options: ConstructorParameters<typeof EmbeddedMongo>[0] = {}) {
  const s = await new EmbeddedMongo(options).start();
  servers.push(s);
  return s;
}
async function connect(uri: string, options = {}) {
  const c = await new MongoClient(uri, { serverSelectionTimeoutMS: 3000, ...options }).connect();
  clients.push(c);
  return c;
}
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(true)));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('embedded server: authentication', () => {
  test('SCRAM-SHA-256 accepts the right password', async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    const c = await connect(`mongodb://app:s3cret@${s.host}/?authSource=admin`);
    await c.db('x').collection('c').insertOne({ ok: 1 });
    expect(await c.db('x').collection('c').countDocuments()).toBe(1);
  });

  test('a wrong password fails with code 18 AuthenticationFailed', async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    const err = await connect(`mongodb://app:wrong@${s.host}/?authSource=admin`).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(18);
    expect(err.codeName).toBe('AuthenticationFailed');
  });

  test('commands without authentication are refused with Unauthorized', async () => {
    const s = await server({ auth: { users: [{ user: 'app', password: 's3cret' }] } });
    const c = await connect(s.uri);
    const err = await c
      .db('x')
      .collection('c')
      .findOne({})
      .catch((e) => e);
    expect(err.code).toBe(13);
  });
});

describe('embedded server: control surface', () => {
  test('connectionCount and the command log follow the clients', async () => {
    const s = await server();
    const c = await connect(s.uri, { maxPoolSize: 3 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.db('logdb').collection('c').insertOne({ i })));
    expect(s.connectionCount).toBeGreaterThanOrEqual(2);
    const log = s.commandLog('logdb');
    expect(log.filter((e) => e.command === 'insert')).toHaveLength(10);
    await c.close();
    await expect.poll(() => s.connectionCount).toBe(0);
  });

  test('dropAllConnections is survived by the driver: the next operation reconnects', async () => {
    const s = await server();
    const c = await connect(s.uri);
    await c.db('d').collection('c').insertOne({ a: 1 });
    s.dropAllConnections();
    expect(await c.db('d').collection('c').countDocuments()).toBe(1);
  });

  test('a change stream resumes after dropAllConnections with no event lost or repeated', async () => {
    const s = await server();
    const c = await connect(s.uri);
    const coll = c.db('d').collection('c');
    await coll.insertOne({ seed: true });
    const stream = coll.watch([], { maxAwaitTimeMS: 50 });
    await stream.tryNext();
    const seen: number[] = [];
    // When every socket drops at once the driver may see the server as unknown and not retry a write itself,
    // so the writer retries with a fixed _id: a duplicate key means the first attempt was applied.
    const insertOnce = async (i: number) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          return await coll.insertOne({ _id: i as never, i });
        } catch (err) {
          if ((err as { code?: number }).code === 11000) return;
        }
      }
      throw new Error(`insert ${i} failed five times`);
    };
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        await insertOnce(i);
        if (i === 20 || i === 40) s.dropAllConnections();
      }
    })();
    while (seen.length < 60) {
      const e = await stream.next();
      if (e.operationType === 'insert') seen.push((e.fullDocument as { i: number }).i);
    }
    await writer;
    await stream.close();
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  test('stop and start on the same port is an outage that keeps the data', async () => {
    const s = await server();
    const c = await connect(s.uri, { serverSelectionTimeoutMS: 5000 });
    await c.db('d').collection('c').insertOne({ a: 1 });
    const port = s.port;
    await s.stop();
    const during = await c
      .db('d')
      .collection('c')
      .findOne({}, { timeoutMS: 300 })
      .catch((e) => e);
    expect(during).toBeInstanceOf(Error);
    await s.start();
    expect(s.port).toBe(port);
    expect(await c.db('d').collection('c').countDocuments()).toBe(1);
  });
});

describe('embedded server: standalone mode', () => {
  test('reports no replica set and refuses transactions', async () => {
    const s = await server({ replSet: false });
    const c = await connect(s.uri);
    const hello = await c.db('admin').command({ hello: 1 });
    expect(hello.setName).toBeUndefined();
    const session = c.startSession();
    session.startTransaction();
    const err = await c
      .db('d')
      .collection('c')
      .insertOne({ a: 1 }, { session })
      .catch((e) => e);
    await session.endSession();
    expect(err).toBeInstanceOf(Error);
    expect(await c.db('d').collection('c').countDocuments()).toBe(0);
  });
});

describe('startMongo', () => {
  test('prefers MONGODB_URI when it is set', async () => {
    const previous = process.env.MONGODB_URI;
    process.env.MONGODB_URI = 'mongodb://127.0.0.1:1/';
    try {
      const m = await startMongo({ quiet: true });
      expect(m.kind).toBe('external');
      expect(m.uri).toBe('mongodb://127.0.0.1:1/');
    } finally {
      if (previous === undefined) delete process.env.MONGODB_URI;
      else process.env.MONGODB_URI = previous;
    }
  });

  test('falls back to the embedded server, without any download, when no mongod is at hand', async () => {
    const saved = { ...process.env };
    delete process.env.MONGODB_URI;
    delete process.env.MONGOMS_SYSTEM_BINARY;
    delete process.env.POLYMONGO_TEST_DOWNLOAD;
    process.env.MONGOMS_DOWNLOAD_DIR = '/nonexistent-polymongo-test';
    process.env.HOME = '/nonexistent-polymongo-test';
    try {
      const m = await startMongo({ quiet: true });
      expect(m.kind).toBe('embedded');
      expect(m.reason).toMatch(/no MONGODB_URI/);
      const c = await connect(m.uri);
      expect((await c.db('admin').command({ ping: 1 })).ok).toBe(1);
      await m.stop();
    } finally {
      process.env = saved;
    }
  });
});

describe('embedded server: transactions across a drop', () => {
  // mongod makes the drop wait for the transaction's locks; the embedded server lets it through, and the commit
  // must still keep every write it acknowledged.
  test('a commit after its collection was dropped keeps the transaction writes', async () => {
    const s = await server();
    const c = await connect(s.uri);
    const coll = c.db('d').collection('c');
    await coll.insertOne({ before: true });
    const session = c.startSession();
    session.startTransaction();
    await coll.insertOne({ inTxn: true }, { session });
    await coll.drop();
    await session.commitTransaction();
    await session.endSession();
    expect(await coll.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ inTxn: true }]);
  });
});
