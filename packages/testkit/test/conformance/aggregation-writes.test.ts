import { MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// $out and $merge as mongod 7.0 runs them.
const env = useMongo();

describe('$out', () => {
  test('writes the output and the driver accepts the reply (a Long cursor id)', async () => {
    const db = env.client.db(uniqueDbName('out'));
    await db.collection('src').insertMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const returned = await db
      .collection('src')
      .aggregate([{ $match: { n: { $gte: 2 } } }, { $out: 'dst' }])
      .toArray();
    expect(returned).toEqual([]);
    expect(await db.collection('dst').countDocuments()).toBe(2);
  });
});

describe('$merge', () => {
  test('merges matched documents and inserts the others', async () => {
    const db = env.client.db(uniqueDbName('merge'));
    await db.collection('totals').insertMany([{ _id: 'a' as never, total: 1, note: 'kept' }]);
    await db.collection('src').insertMany([
      { _id: 'a' as never, total: 10 },
      { _id: 'b' as never, total: 20 },
    ]);
    await db
      .collection('src')
      .aggregate([{ $merge: { into: 'totals' } }])
      .toArray();
    const docs = await db.collection('totals').find({}).sort({ _id: 1 }).toArray();
    expect(docs).toEqual([
      { _id: 'a', total: 10, note: 'kept' },
      { _id: 'b', total: 20 },
    ]);
  });

  test('whenMatched replace and whenNotMatched discard', async () => {
    const db = env.client.db(uniqueDbName('merge-replace'));
    await db.collection('dst').insertOne({ _id: 1 as never, old: true });
    await db.collection('src').insertMany([
      { _id: 1 as never, fresh: true },
      { _id: 2 as never, fresh: true },
    ]);
    await db
      .collection('src')
      .aggregate([{ $merge: { into: 'dst', whenMatched: 'replace', whenNotMatched: 'discard' } }])
      .toArray();
    expect(await db.collection('dst').find({}).toArray()).toEqual([{ _id: 1, fresh: true }]);
  });

  test('whenMatched fail reports a duplicate key error (11000)', async () => {
    const db = env.client.db(uniqueDbName('merge-fail'));
    await db.collection('dst').insertOne({ _id: 1 as never });
    await db.collection('src').insertOne({ _id: 1 as never });
    const err = await db
      .collection('src')
      .aggregate([{ $merge: { into: 'dst', whenMatched: 'fail' } }])
      .toArray()
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
  });

  test('a database-level aggregate with $documents can $merge', async () => {
    const db = env.client.db(uniqueDbName('merge-db'));
    await db.aggregate([{ $documents: [{ _id: 1, v: 'x' }] }, { $merge: { into: 'made' } }]).toArray();
    expect(await db.collection('made').find({}).toArray()).toEqual([{ _id: 1, v: 'x' }]);
  });
});

describe('$merge with a pipeline and join fields', () => {
  test('whenMatched as a pipeline updates the existing document with $$new or the let variables', async () => {
    const db = env.client.db(uniqueDbName('merge-pipeline'));
    await db.collection('totals').insertOne({ _id: 'a' as never, total: 1, runs: 1 });
    await db.collection('src').insertOne({ _id: 'a' as never, total: 10 });
    const bump = { $set: { total: { $add: ['$total', '$$new.total'] }, runs: { $add: ['$runs', 1] } } };
    await db
      .collection('src')
      .aggregate([{ $merge: { into: 'totals', whenMatched: [bump] } }])
      .toArray();
    expect(await db.collection('totals').findOne({ _id: 'a' as never })).toEqual({ _id: 'a', total: 11, runs: 2 });
    const withLet = { $set: { total: { $add: ['$total', '$$added'] } } };
    await db
      .collection('src')
      .aggregate([{ $merge: { into: 'totals', let: { added: '$total' }, whenMatched: [withLet] } }])
      .toArray();
    expect(await db.collection('totals').findOne({ _id: 'a' as never })).toEqual({ _id: 'a', total: 21, runs: 2 });
  });

  test('on fields other than _id need a unique index on exactly them (51183)', async () => {
    const db = env.client.db(uniqueDbName('merge-on'));
    await db.collection('target').insertOne({ sku: 'x', qty: 1 });
    await db.collection('src').insertOne({ sku: 'x', qty: 5 });
    const pipeline = [{ $project: { _id: 0, sku: 1, qty: 1 } }, { $merge: { into: 'target', on: 'sku' } }];
    await expect(db.collection('src').aggregate(pipeline).toArray()).rejects.toMatchObject({ code: 51183 });
    await db.collection('target').createIndex({ sku: 1 }, { unique: true });
    await db.collection('src').aggregate(pipeline).toArray();
    expect(
      await db
        .collection('target')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ sku: 'x', qty: 5 }]);
  });
});

describe('database-level aggregate', () => {
  test('$listLocalSessions lists a session the server has seen', async () => {
    const session = env.client.startSession();
    try {
      await env.client.db(uniqueDbName('sessions')).collection('c').findOne({}, { session });
      const listed = await env.client
        .db('admin')
        .aggregate([{ $listLocalSessions: { allUsers: true } }, { $match: { '_id.id': session.id?.id } }])
        .toArray();
      expect(listed).toHaveLength(1);
      expect(listed[0]?.lastUse).toBeInstanceOf(Date);
    } finally {
      await session.endSession();
    }
  });
});
