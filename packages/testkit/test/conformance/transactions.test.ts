import { MongoServerError, MongoWriteConcernError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Multi-document transactions as mongod 7.0 runs them on a single-node replica set.
const env = useMongo();

async function inTransaction<T>(fn: (session: ReturnType<typeof env.client.startSession>) => Promise<T>): Promise<T> {
  const session = env.client.startSession();
  try {
    session.startTransaction();
    return await fn(session);
  } finally {
    await session.endSession();
  }
}

const collectionNames = async (dbName: string) =>
  (await env.client.db(dbName).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();

describe('DDL inside a transaction', () => {
  test('a collection created by an insert in a transaction is invisible to others until commit', async () => {
    const dbName = uniqueDbName('txn-ddl');
    const db = env.client.db(dbName);
    await db.collection('existing').insertOne({ warm: true });
    await inTransaction(async (session) => {
      await db.collection('fresh').insertOne({ inside: true }, { session });
      expect(await db.collection('fresh').findOne({ inside: true }, { session })).toMatchObject({ inside: true });
      expect(await collectionNames(dbName)).toEqual(['existing']);
      expect(await db.collection('fresh').countDocuments()).toBe(0);
      await session.commitTransaction();
    });
    expect(await collectionNames(dbName)).toEqual(['existing', 'fresh']);
    expect(await db.collection('fresh').countDocuments()).toBe(1);
  });

  test('two transactions creating the same collection: the second fails with WriteConflict, nothing is merged', async () => {
    const dbName = uniqueDbName('txn-race');
    const db = env.client.db(dbName);
    await db.collection('existing').insertOne({ warm: true });
    const [a, b] = [env.client.startSession(), env.client.startSession()];
    try {
      a.startTransaction();
      b.startTransaction();
      await db.collection('fresh').insertOne({ _id: 'state', by: 'a' } as never, { session: a });
      // mongod may refuse the second creation at once, or (the embedded server) at its commit.
      const second = async () => {
        await db.collection('fresh').insertOne({ _id: 'state', by: 'b' } as never, { session: b });
        await a.commitTransaction();
        await b.commitTransaction();
      };
      const error = await second().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoServerError);
      expect((error as MongoServerError).code).toBe(112);
      expect((error as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
      if (a.inTransaction()) await a.commitTransaction();
      if (b.inTransaction()) await b.abortTransaction().catch(() => undefined);
    } finally {
      await a.endSession();
      await b.endSession();
    }
    expect(await db.collection('fresh').find().toArray()).toEqual([{ _id: 'state', by: 'a' }]);
  });

  test('an explicit create in an aborted transaction leaves nothing behind', async () => {
    const dbName = uniqueDbName('txn-create');
    const db = env.client.db(dbName);
    await db.collection('existing').insertOne({ warm: true });
    await inTransaction(async (session) => {
      await db.createCollection('made', { session });
      expect(await collectionNames(dbName)).toEqual(['existing']);
      await session.abortTransaction();
    });
    expect(await collectionNames(dbName)).toEqual(['existing']);
  });

  test('createIndexes on a collection created in the transaction is applied at commit', async () => {
    const dbName = uniqueDbName('txn-index');
    const db = env.client.db(dbName);
    await db.collection('existing').insertOne({ warm: true });
    await inTransaction(async (session) => {
      await db.createCollection('indexed', { session });
      await db.collection('indexed').createIndex({ email: 1 }, { unique: true, session });
      await session.commitTransaction();
    });
    const names = (await db.collection('indexed').listIndexes().toArray()).map((ix) => ix.name).sort();
    expect(names).toEqual(['_id_', 'email_1']);
  });

  test('createIndexes on a collection that existed before the transaction is refused', async () => {
    const db = env.client.db(uniqueDbName('txn-index-old'));
    await db.collection('old').insertOne({ warm: true });
    await inTransaction(async (session) => {
      const err = await db
        .collection('old')
        .createIndex({ a: 1 }, { session })
        .catch((e) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err.code).toBe(263);
      await session.abortTransaction().catch(() => undefined);
    });
  });
});

describe('commands not allowed in a transaction', () => {
  test('count fails with OperationNotSupportedInTransaction (263), without TransientTransactionError', async () => {
    const coll = env.client.db(uniqueDbName('txn-count')).collection('c');
    await coll.insertOne({ warm: true });
    await inTransaction(async (session) => {
      const err = await coll.estimatedDocumentCount({ session } as never).catch((e) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err.code).toBe(263);
      expect(err.codeName).toBe('OperationNotSupportedInTransaction');
      expect(err.errorLabels ?? []).not.toContain('TransientTransactionError');
      await session.abortTransaction().catch(() => undefined);
    });
  });
});

describe('write concern on commit', () => {
  test('an unsatisfiable w on commitTransaction returns a write concern error, and the transaction commits', async () => {
    const coll = env.client.db(uniqueDbName('txn-wc')).collection('c');
    await coll.insertOne({ warm: true });
    const session = env.client.startSession();
    try {
      session.startTransaction({ writeConcern: { w: 10 } });
      await coll.insertOne({ committed: true }, { session });
      const err = await session.commitTransaction().catch((e) => e);
      expect(err).toBeInstanceOf(MongoWriteConcernError);
      expect(err.code).toBe(100);
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments({ committed: true })).toBe(1);
  });
});

describe('transaction failures and snapshots', () => {
  // mongod evaluates `failCommand` before the command checks out its session (ExecCommandDatabase::_initiateCommand),
  // so the injected error never touches the transaction; only errors raised while the command runs abort it.
  test('a failCommand error on a later command leaves the transaction open: the next command and the commit succeed', async () => {
    const coll = env.client.db(uniqueDbName('txn-failcmd')).collection('c');
    await coll.insertOne({ _id: 0 as never });
    const admin = env.client.db('admin');
    await inTransaction(async (session) => {
      await coll.insertOne({ _id: 1 as never }, { session });
      await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 2 } });
      await expect(coll.insertOne({ _id: 2 as never }, { session })).rejects.toMatchObject({ code: 2 });
      await coll.insertOne({ _id: 3 as never }, { session });
      await session.commitTransaction();
    });
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 0 }, { _id: 1 }, { _id: 3 }]);
  });

  test('a failCommand error on the first command means the transaction never started: later commands and the commit fail with NoSuchTransaction', async () => {
    const coll = env.client.db(uniqueDbName('txn-failfirst')).collection('c');
    await coll.insertOne({ _id: 0 as never });
    const admin = env.client.db('admin');
    await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 2 } });
    await inTransaction(async (session) => {
      await expect(coll.insertOne({ _id: 1 as never }, { session })).rejects.toMatchObject({ code: 2 });
      const next = await coll.insertOne({ _id: 2 as never }, { session }).catch((e: MongoServerError) => e);
      expect(next).toBeInstanceOf(MongoServerError);
      expect((next as MongoServerError).code).toBe(251);
      expect((next as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
      const commit = await session.commitTransaction().catch((e: MongoServerError) => e);
      expect(commit).toBeInstanceOf(MongoServerError);
      expect((commit as MongoServerError).code).toBe(251);
      expect((commit as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
    });
    expect(await coll.find({}).toArray()).toEqual([{ _id: 0 }]);
  });

  test('a command that fails while it runs aborts the transaction: the commit fails with NoSuchTransaction', async () => {
    const coll = env.client.db(uniqueDbName('txn-dup')).collection('c');
    await coll.insertOne({ _id: 0 as never });
    await inTransaction(async (session) => {
      await coll.insertOne({ _id: 1 as never }, { session });
      await expect(coll.insertOne({ _id: 0 as never }, { session })).rejects.toMatchObject({ code: 11000 });
      const commit = await session.commitTransaction().catch((e: MongoServerError) => e);
      expect(commit).toBeInstanceOf(MongoServerError);
      expect((commit as MongoServerError).code).toBe(251);
      expect((commit as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
    });
    expect(await coll.find({}).toArray()).toEqual([{ _id: 0 }]);
  });

  test('a transaction reads every collection as of its start, even one it first touches later', async () => {
    const db = env.client.db(uniqueDbName('txn-snap'));
    await db.collection('a').insertOne({ _id: 1 as never, v: 1 });
    await db.collection('b').insertOne({ _id: 1 as never, v: 1 });
    await inTransaction(async (session) => {
      expect(await db.collection('a').findOne({ _id: 1 as never }, { session })).toEqual({ _id: 1, v: 1 });
      await db.collection('b').updateOne({ _id: 1 as never }, { $set: { v: 2 } });
      await db.collection('b').insertOne({ _id: 2 as never, v: 2 });
      expect(await db.collection('b').find({}, { session }).toArray()).toEqual([{ _id: 1, v: 1 }]);
      await session.abortTransaction();
    });
  });
});

// MongoDB manual, Transactions → Production Considerations → "In-progress Transactions and Write Conflicts".
describe('write conflicts between transactions and other writes', () => {
  test('a transaction writing a document modified after its snapshot fails with WriteConflict and TransientTransactionError', async () => {
    const coll = env.client.db(uniqueDbName('wc-snapshot')).collection('c');
    await coll.insertMany([{ _id: 1 as never, v: 0 }, { _id: 2 as never }]);
    await inTransaction(async (session) => {
      await coll.findOne({ _id: 2 as never }, { session });
      await coll.updateOne({ _id: 1 as never }, { $set: { v: 5 } });
      const err = await coll.updateOne({ _id: 1 as never }, { $set: { v: 6 } }, { session }).catch((e: MongoServerError) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(112);
      expect((err as MongoServerError).hasErrorLabel('TransientTransactionError')).toBe(true);
      await session.abortTransaction();
    });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 5 });
  });

  test('a write outside any transaction to a document a transaction has written waits for it (maxTimeMS ends the wait)', async () => {
    const coll = env.client.db(uniqueDbName('wc-wait')).collection('c');
    await coll.insertOne({ _id: 1 as never, n: 0 });
    await inTransaction(async (session) => {
      await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session });
      await expect(coll.updateOne({ _id: 1 as never }, { $inc: { n: 10 } }, { maxTimeMS: 50 })).rejects.toMatchObject({ code: 50 });
      const waiting = coll.updateOne({ _id: 1 as never }, { $inc: { n: 100 } });
      expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, n: 0 });
      await session.commitTransaction();
      expect((await waiting).modifiedCount).toBe(1);
    });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, n: 101 });
  });

  test('a write that waited for a transaction counts once in serverStatus opcounters', async () => {
    // Exact deltas: assumes no other client writes to this server meanwhile (true of the per-file test server).
    const coll = env.client.db(uniqueDbName('wc-count')).collection('c');
    await coll.insertMany([{ _id: 1 as never, n: 0 }, { _id: 3 as never }]);
    const counters = async () => (await env.client.db('admin').command({ serverStatus: 1 })).opcounters;
    await inTransaction(async (session) => {
      await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session });
      await coll.insertOne({ _id: 2 as never }, { session });
      await coll.updateOne({ _id: 3 as never }, { $set: { held: true } }, { session });
      const before = await counters();
      const update = coll.updateOne({ _id: 1 as never }, { $inc: { n: 10 } });
      const insert = coll.insertOne({ _id: 2 as never });
      const remove = coll.deleteOne({ _id: 3 as never });
      await env.client.db('admin').command({ ping: 1 });
      await session.commitTransaction();
      expect((await update).modifiedCount).toBe(1);
      await expect(insert).rejects.toMatchObject({ code: 11000 });
      expect((await remove).deletedCount).toBe(1);
      const after = await counters();
      expect({
        insert: after.insert - before.insert,
        update: after.update - before.update,
        delete: after.delete - before.delete,
      }).toEqual({ insert: 1, update: 1, delete: 1 });
    });
  });

  test('a multi-document write that waited for a transaction changes each document once', async () => {
    const coll = env.client.db(uniqueDbName('wc-multi')).collection('c');
    await coll.insertMany([
      { _id: 1 as never, n: 0 },
      { _id: 2 as never, n: 0 },
    ]);
    await inTransaction(async (session) => {
      await coll.updateOne({ _id: 2 as never }, { $inc: { n: 1 } }, { session });
      const waiting = coll.updateMany({}, { $inc: { n: 10 } });
      await env.client.db('admin').command({ ping: 1 });
      await session.commitTransaction();
      expect((await waiting).modifiedCount).toBe(2);
    });
    expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, n: 10 },
      { _id: 2, n: 11 },
    ]);
  });

  test('a $merge outside any transaction into a document a transaction has written waits for it, then merges', async () => {
    const db = env.client.db(uniqueDbName('wc-merge'));
    await db.collection('target').insertOne({ _id: 1 as never, a: 0 });
    await db.collection('source').insertMany([
      { _id: 1 as never, b: 1 },
      { _id: 2 as never, b: 2 },
    ]);
    await inTransaction(async (session) => {
      await db.collection('target').updateOne({ _id: 1 as never }, { $set: { a: 1 } }, { session });
      await expect(
        db
          .collection('source')
          .aggregate([{ $merge: { into: 'target' } }], { maxTimeMS: 50 })
          .toArray(),
      ).rejects.toMatchObject({ code: 50 });
      const waiting = db
        .collection('source')
        .aggregate([{ $merge: { into: 'target' } }])
        .toArray();
      await session.commitTransaction();
      await waiting;
    });
    expect(await db.collection('target').find({}).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 1, a: 1, b: 1 },
      { _id: 2, b: 2 },
    ]);
  });

  test('an aborted transaction lets the write it blocked run', async () => {
    const coll = env.client.db(uniqueDbName('wc-abort')).collection('c');
    await coll.insertOne({ _id: 1 as never, n: 0 });
    await inTransaction(async (session) => {
      await coll.deleteOne({ _id: 1 as never }, { session });
      const waiting = coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } });
      await session.abortTransaction();
      expect((await waiting).modifiedCount).toBe(1);
    });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, n: 1 });
  });

  test('killSessions aborts the session’s transaction: the write it blocked runs and the commit fails with NoSuchTransaction', async () => {
    const coll = env.client.db(uniqueDbName('wc-kill')).collection('c');
    await coll.insertOne({ _id: 1 as never, n: 0 });
    await inTransaction(async (session) => {
      await coll.updateOne({ _id: 1 as never }, { $inc: { n: 1 } }, { session });
      const waiting = coll.updateOne({ _id: 1 as never }, { $inc: { n: 10 } });
      await env.client.db('admin').command({ killSessions: [session.id] });
      expect((await waiting).modifiedCount).toBe(1);
      const commit = await session.commitTransaction().catch((e: MongoServerError) => e);
      expect(commit).toBeInstanceOf(MongoServerError);
      expect((commit as MongoServerError).code).toBe(251);
    });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, n: 10 });
  });
});
