import type { CommandStartedEvent, Document } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from './helpers.js';

const env = useMongo({ monitorCommands: true });
const db = () => env.client.db(uniqueDbName('crud'));

describe('CRUD through the mongodb driver', () => {
  test('find returns every document across many getMore batches', async () => {
    const coll = db().collection<{ _id: number; n: number }>('items');
    await coll.insertMany(Array.from({ length: 350 }, (_, i) => ({ _id: i, n: i })));
    const getMores: CommandStartedEvent[] = [];
    const listener = (e: CommandStartedEvent) => {
      if (e.commandName === 'getMore') getMores.push(e);
    };
    env.client.on('commandStarted', listener);
    const docs = await coll.find({}, { batchSize: 50 }).sort({ n: 1 }).toArray();
    env.client.off('commandStarted', listener);
    expect(docs.map((d) => d.n)).toEqual(Array.from({ length: 350 }, (_, i) => i));
    expect(getMores.length).toBeGreaterThanOrEqual(6);
  });

  test('a default find returns 101 documents in the first batch', async () => {
    const coll = db().collection('batch');
    await coll.insertMany(Array.from({ length: 150 }, (_, i) => ({ i })));
    const result = await coll.db.command({ find: 'batch', filter: {} });
    expect(result.cursor.firstBatch).toHaveLength(101);
    expect(Number(result.cursor.id)).not.toBe(0);
    await coll.db.command({ killCursors: 'batch', cursors: [result.cursor.id] });
  });

  test('filter, projection, sort, skip and limit', async () => {
    const coll = db().collection('people');
    await coll.insertMany([
      { name: 'ada', age: 36, tags: ['math'] },
      { name: 'alan', age: 41, tags: ['math', 'cs'] },
      { name: 'grace', age: 85, tags: ['cs'] },
      { name: 'linus', age: 28, tags: ['cs'] },
    ]);
    const docs = await coll
      .find({ tags: 'cs', age: { $gte: 28 } }, { projection: { _id: 0, name: 1 } })
      .sort({ age: -1 })
      .skip(1)
      .limit(2)
      .toArray();
    expect(docs).toEqual([{ name: 'alan' }, { name: 'linus' }]);
  });

  test('update operators, multi updates and upserts', async () => {
    const coll = db().collection('counters');
    await coll.insertMany([
      { k: 'a', v: 1 },
      { k: 'b', v: 1 },
    ]);
    const many = await coll.updateMany({}, { $inc: { v: 2 }, $set: { touched: true } });
    expect(many.matchedCount).toBe(2);
    expect(many.modifiedCount).toBe(2);
    const up = await coll.updateOne({ k: 'c' }, { $set: { v: 10 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(up.upsertedCount).toBe(1);
    expect(await coll.findOne({ k: 'c' }, { projection: { _id: 0 } })).toEqual({ k: 'c', v: 10, created: true });
    const again = await coll.updateOne({ k: 'c' }, { $set: { v: 11 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(again.upsertedCount).toBe(0);
    expect(await coll.findOne({ k: 'c' }, { projection: { _id: 0 } })).toEqual({ k: 'c', v: 11, created: true });
    const noop = await coll.updateOne({ k: 'a' }, { $set: { v: 3 } });
    expect(noop.matchedCount).toBe(1);
    expect(noop.modifiedCount).toBe(0);
  });

  test('pipeline updates and replacements', async () => {
    const coll = db().collection('docs');
    const { insertedId } = await coll.insertOne({ a: 2, b: 3 });
    await coll.updateOne({ _id: insertedId }, [{ $set: { sum: { $add: ['$a', '$b'] } } }]);
    expect(await coll.findOne({ _id: insertedId })).toMatchObject({ sum: 5 });
    await coll.replaceOne({ _id: insertedId }, { only: true });
    expect(await coll.findOne({ _id: insertedId })).toEqual({ _id: insertedId, only: true });
  });

  test('findOneAndUpdate, findOneAndDelete and deleteMany', async () => {
    const coll = db().collection('jobs');
    await coll.insertMany([
      { n: 1, s: 'new' },
      { n: 2, s: 'new' },
      { n: 3, s: 'new' },
    ]);
    const claimed = await coll.findOneAndUpdate({ s: 'new' }, { $set: { s: 'taken' } }, { sort: { n: -1 }, returnDocument: 'after' });
    expect(claimed).toMatchObject({ n: 3, s: 'taken' });
    const removed = await coll.findOneAndDelete({ n: 1 });
    expect(removed).toMatchObject({ n: 1 });
    const upserted = await coll.findOneAndUpdate({ n: 9 }, { $set: { s: 'up' } }, { upsert: true, returnDocument: 'after' });
    expect(upserted).toMatchObject({ n: 9, s: 'up' });
    const { deletedCount } = await coll.deleteMany({ s: { $in: ['new', 'taken'] } });
    expect(deletedCount).toBe(2);
    expect(await coll.countDocuments()).toBe(1);
  });

  test('count, estimatedDocumentCount and distinct', async () => {
    const coll = db().collection('colors');
    await coll.insertMany([
      { c: 'red', t: ['a', 'b'] },
      { c: 'blue', t: ['b'] },
      { c: 'red', t: [] },
    ]);
    expect(await coll.countDocuments({ c: 'red' })).toBe(2);
    expect(await coll.estimatedDocumentCount()).toBe(3);
    expect((await coll.distinct('c')).sort()).toEqual(['blue', 'red']);
    expect((await coll.distinct('t')).sort()).toEqual(['a', 'b']);
  });

  test('aggregate with $group, $count, $sort and $lookup in the same database', async () => {
    const d = db();
    await d.collection('orders').insertMany([
      { user: 1, total: 10 },
      { user: 1, total: 5 },
      { user: 2, total: 7 },
    ]);
    await d.collection('users').insertMany([
      { _id: 1 as never, name: 'ada' },
      { _id: 2 as never, name: 'bob' },
    ]);
    const grouped = await d
      .collection('orders')
      .aggregate<Document>([{ $group: { _id: '$user', sum: { $sum: '$total' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(grouped).toEqual([
      { _id: 1, sum: 15 },
      { _id: 2, sum: 7 },
    ]);
    const counted = await d
      .collection('orders')
      .aggregate([{ $match: { total: { $gt: 6 } } }, { $count: 'n' }])
      .toArray();
    expect(counted).toEqual([{ n: 2 }]);
    const joined = await d
      .collection('orders')
      .aggregate<Document>([
        { $match: { user: 2 } },
        { $lookup: { from: 'users', localField: 'user', foreignField: '_id', as: 'u' } },
        { $project: { _id: 0, name: { $first: '$u.name' } } },
      ])
      .toArray();
    expect(joined).toEqual([{ name: 'bob' }]);
  });

  test('a w:0 write is applied without a reply', async () => {
    const coll = db().collection('fire');
    await coll.insertOne({ fast: true }, { writeConcern: { w: 0 } });
    await expect.poll(() => coll.countDocuments({ fast: true })).toBe(1);
  });

  test('an invalid database name is refused with InvalidNamespace', async () => {
    const tooLong = `pmtk_${'x'.repeat(70)}`;
    const err = await env.client
      .db(tooLong)
      .collection('x')
      .insertOne({})
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(73);
    const list = await env.client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(list.databases.map((d) => d.name)).not.toContain(tooLong);
  });

  test('an unknown update operator is an error, not a crash', async () => {
    const coll = db().collection('bad');
    await coll.insertOne({ a: 1 });
    const err = await coll.updateOne({ a: 1 }, { $bogus: { a: 2 } } as never).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ a: 1 });
  });
});

describe('upserts', () => {
  test('an upsert keeps the _id and equality fields of its query', async () => {
    const coll = db().collection('upsert_ids');
    await coll.updateOne({ _id: 'key' as never, 'a.b': 1 }, { $set: { v: 1 } }, { upsert: true });
    expect(await coll.findOne({ _id: 'key' as never })).toEqual({ _id: 'key', a: { b: 1 }, v: 1 });
  });
});

describe('update validation', () => {
  test('an unknown update operator fails even when nothing matches', async () => {
    const coll = db().collection('nomatch');
    const err = await coll.updateOne({ missing: true }, { $bogus: { a: 1 } } as never).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(9);
  });
});

describe('document layout', () => {
  test('_id is stored as the first field, wherever the client put it', async () => {
    const coll = db().collection('layout');
    await coll.insertOne({ a: 1, _id: 'x' as never, b: 2 });
    const raw = await coll.findOne({ _id: 'x' as never });
    expect(Object.keys(raw ?? {})).toEqual(['_id', 'a', 'b']);
  });
});
