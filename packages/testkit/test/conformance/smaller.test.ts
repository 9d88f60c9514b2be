import { MongoServerError } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Smaller mongod 7.0 behaviours: codeName on every error, `$`-prefixed _id, views, update with sort.
const env = useMongo({ appName: 'pmtk-conformance-smaller' });

afterEach(async () => {
  await env.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
});

describe('codeName', () => {
  for (const [code, name] of [
    [251, 'NoSuchTransaction'],
    [263, 'OperationNotSupportedInTransaction'],
    [10107, 'NotWritablePrimary'],
    [11600, 'InterruptedAtShutdown'],
    [121, 'DocumentValidationFailure'],
    [256, 'TransactionCommitted'],
    [13297, 'DatabaseDifferCase'],
  ] as const) {
    test(`error ${code} is reported as ${name}`, async () => {
      await env.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['ping'], errorCode: code, appName: 'pmtk-conformance-smaller' },
      });
      const err = await env.client
        .db('admin')
        .command({ ping: 1 })
        .catch((e) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err.codeName).toBe(name);
    });
  }
});

describe('documents and commands mongod refuses', () => {
  test('an _id that is an object with a $-prefixed field is refused', async () => {
    const coll = env.client.db(uniqueDbName('dollar-id')).collection('c');
    await expect(coll.insertOne({ _id: { $bad: 1 } as never })).rejects.toBeInstanceOf(MongoServerError);
    expect(await coll.countDocuments()).toBe(0);
  });

  test('update with sort (a MongoDB 8.0 option) is refused by a 7.0 server', async () => {
    const coll = env.client.db(uniqueDbName('update-sort')).collection('c');
    await coll.insertMany([{ a: 1 }, { a: 2 }]);
    const err = await coll.updateOne({}, { $set: { touched: true } }, { sort: { a: -1 } }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(await coll.countDocuments({ touched: true })).toBe(0);
  });
});

describe('views', () => {
  test('estimatedDocumentCount on a view counts the view', async () => {
    const db = env.client.db(uniqueDbName('view-count'));
    await db.collection('orders').insertMany([{ paid: true }, { paid: false }, { paid: true }]);
    await db.createCollection('paid', { viewOn: 'orders', pipeline: [{ $match: { paid: true } }] });
    expect(await db.collection('paid').estimatedDocumentCount()).toBe(2);
    expect(await db.collection('paid').countDocuments()).toBe(2);
    expect(
      await db
        .collection('paid')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ paid: true }, { paid: true }]);
  });

  test('a write to a view fails with CommandNotSupportedOnView (166)', async () => {
    const db = env.client.db(uniqueDbName('view-write'));
    await db.collection('orders').insertOne({ paid: true });
    await db.createCollection('paid', { viewOn: 'orders', pipeline: [{ $match: { paid: true } }] });
    await expect(db.collection('paid').insertOne({ paid: true })).rejects.toMatchObject({ code: 166 });
    await expect(db.collection('paid').deleteMany({})).rejects.toMatchObject({ code: 166 });
    const [info] = await db.listCollections({ name: 'paid' }).toArray();
    expect(info?.type).toBe('view');
  });
});
