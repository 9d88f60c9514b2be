import { MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from './helpers.js';

const env = useMongo();

describe('sessions and transactions', () => {
  test('a committed transaction is visible to everyone; before commit only to itself', async () => {
    const coll = env.client.db(uniqueDbName('txn')).collection('accounts');
    await coll.insertOne({ _id: 'a' as never, balance: 100 });
    const session = env.client.startSession();
    try {
      session.startTransaction();
      await coll.updateOne({ _id: 'a' as never }, { $inc: { balance: -30 } }, { session });
      await coll.insertOne({ _id: 'b' as never, balance: 30 }, { session });
      expect((await coll.findOne({ _id: 'a' as never }, { session }))?.balance).toBe(70);
      expect((await coll.findOne({ _id: 'a' as never }))?.balance).toBe(100);
      expect(await coll.findOne({ _id: 'b' as never })).toBeNull();
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect((await coll.findOne({ _id: 'a' as never }))?.balance).toBe(70);
    expect((await coll.findOne({ _id: 'b' as never }))?.balance).toBe(30);
  });

  test('abort discards every write of the transaction', async () => {
    const d = env.client.db(uniqueDbName('abort'));
    await d.collection('x').insertOne({ keep: true });
    const session = env.client.startSession();
    session.startTransaction();
    await d.collection('x').insertOne({ gone: true }, { session });
    await d.collection('x').deleteMany({ keep: true }, { session });
    await session.abortTransaction();
    await session.endSession();
    expect(
      await d
        .collection('x')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ keep: true }]);
  });

  test('a concurrent write to the same document fails with WriteConflict labelled TransientTransactionError', async () => {
    const coll = env.client.db(uniqueDbName('conflict')).collection('c');
    await coll.insertOne({ _id: 1 as never, v: 0 });
    const s1 = env.client.startSession();
    const s2 = env.client.startSession();
    s1.startTransaction();
    s2.startTransaction();
    await coll.updateOne({ _id: 1 as never }, { $set: { v: 1 } }, { session: s1 });
    const err = await coll.updateOne({ _id: 1 as never }, { $set: { v: 2 } }, { session: s2 }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(112);
    expect(err.hasErrorLabel('TransientTransactionError')).toBe(true);
    await s1.commitTransaction();
    await s2.abortTransaction().catch(() => undefined);
    await s1.endSession();
    await s2.endSession();
    expect((await coll.findOne({ _id: 1 as never }))?.v).toBe(1);
  });

  test('a write committed after a transaction started conflicts with it', async () => {
    const coll = env.client.db(uniqueDbName('snap')).collection('c');
    await coll.insertOne({ _id: 1 as never, v: 0 });
    const session = env.client.startSession();
    session.startTransaction();
    expect((await coll.findOne({ _id: 1 as never }, { session }))?.v).toBe(0);
    await coll.updateOne({ _id: 1 as never }, { $set: { v: 5 } });
    expect((await coll.findOne({ _id: 1 as never }, { session }))?.v).toBe(0);
    const err = await coll.updateOne({ _id: 1 as never }, { $set: { v: 6 } }, { session }).catch((e) => e);
    expect(err.code).toBe(112);
    await session.abortTransaction().catch(() => undefined);
    await session.endSession();
    expect((await coll.findOne({ _id: 1 as never }))?.v).toBe(5);
  });

  test('withTransaction spans several databases of one cluster', async () => {
    const a = env.client.db(uniqueDbName('ta')).collection('c');
    const b = env.client.db(uniqueDbName('tb')).collection('c');
    await a.insertOne({ seed: 1 });
    await b.insertOne({ seed: 1 });
    await env.client.withSession((session) =>
      session.withTransaction(async () => {
        await a.insertOne({ x: 1 }, { session });
        await b.insertOne({ x: 1 }, { session });
      }),
    );
    expect(await a.countDocuments({ x: 1 })).toBe(1);
    expect(await b.countDocuments({ x: 1 })).toBe(1);
  });

  test('a duplicate key inside a transaction aborts it', async () => {
    const coll = env.client.db(uniqueDbName('dupt')).collection('c');
    await coll.insertOne({ _id: 1 as never });
    const session = env.client.startSession();
    session.startTransaction();
    await coll.insertOne({ _id: 2 as never }, { session });
    const err = await coll.insertOne({ _id: 1 as never }, { session }).catch((e) => e);
    expect(err.code).toBe(11000);
    const commit = await session.commitTransaction().catch((e) => e);
    expect(commit).toBeInstanceOf(Error);
    await session.endSession();
    expect(await coll.countDocuments()).toBe(1);
  });
});
