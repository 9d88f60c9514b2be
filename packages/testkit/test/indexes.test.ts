import { type Document, MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from './helpers.js';

const env = useMongo();
const db = () => env.client.db(uniqueDbName('idx'));

describe('indexes', () => {
  test('a unique index rejects a duplicate insert with E11000', async () => {
    const coll = db().collection('users');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ email: 'a@x.io' });
    const err = await coll.insertOne({ email: 'a@x.io' }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.message).toMatch(/E11000 duplicate key error/);
    expect(await coll.countDocuments()).toBe(1);
  });

  test('a compound unique index allows partial overlap and rejects full duplicates', async () => {
    const coll = db().collection('members');
    await coll.createIndex({ org: 1, user: 1 }, { unique: true });
    await coll.insertMany([
      { org: 1, user: 1 },
      { org: 1, user: 2 },
      { org: 2, user: 1 },
    ]);
    const err = await coll.insertOne({ org: 2, user: 1 }).catch((e) => e);
    expect(err.code).toBe(11000);
  });

  test('an update or upsert that would duplicate a unique key fails and changes nothing', async () => {
    const coll = db().collection('handles');
    await coll.createIndex({ h: 1 }, { unique: true });
    await coll.insertMany([{ h: 'a' }, { h: 'b' }]);
    const upd = await coll.updateOne({ h: 'b' }, { $set: { h: 'a' } }).catch((e) => e);
    expect(upd.code).toBe(11000);
    const ups = await coll.updateOne({ h: 'zzz' }, { $set: { h: 'a' } }, { upsert: true }).catch((e) => e);
    expect(ups.code).toBe(11000);
    expect(
      (
        await coll
          .find({}, { projection: { _id: 0 } })
          .sort({ h: 1 })
          .toArray()
      ).map((d) => d.h),
    ).toEqual(['a', 'b']);
  });

  test('a duplicate _id is refused and unordered inserts keep going', async () => {
    const coll = db().collection('ids');
    const err = await coll.insertMany([{ _id: 1 as never }, { _id: 1 as never }, { _id: 2 as never }], { ordered: false }).catch((e) => e);
    expect(err.code).toBe(11000);
    expect(await coll.countDocuments()).toBe(2);
  });

  test('listIndexes and dropIndexes', async () => {
    const coll = db().collection('ix');
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: -1 }, name: 'b_desc' }]);
    expect((await coll.listIndexes().toArray()).map((i) => i.name).sort()).toEqual(['_id_', 'a_1', 'b_desc']);
    await coll.dropIndex('a_1');
    expect((await coll.listIndexes().toArray()).map((i) => i.name).sort()).toEqual(['_id_', 'b_desc']);
    const err = await coll.dropIndex('nope').catch((e) => e);
    expect(err.code).toBe(27);
  });

  test('creating a unique index over duplicates fails', async () => {
    const coll = db().collection('dups');
    await coll.insertMany([{ v: 1 }, { v: 1 }]);
    const err = await coll.createIndex({ v: 1 }, { unique: true }).catch((e) => e);
    expect(err.code).toBe(11000);
  });
});

describe('databases and collections', () => {
  test('listDatabases with a name filter, then dropDatabase', async () => {
    const name = uniqueDbName('list');
    await env.client.db(name).collection('c').insertOne({ x: 1 });
    const admin = env.client.db('admin').admin();
    const listed = await admin.listDatabases({ nameOnly: true, filter: { name } });
    expect(listed.databases.map((d) => d.name)).toEqual([name]);
    await env.client.db(name).dropDatabase();
    const after = await admin.listDatabases({ nameOnly: true, filter: { name } });
    expect(after.databases).toEqual([]);
  });

  test('reading from a database does not create it', async () => {
    const name = uniqueDbName('ghost');
    await env.client.db(name).collection('c').findOne({});
    await env.client.db(name).collection('c').countDocuments();
    const listed = await env.client.db('admin').admin().listDatabases({ nameOnly: true, filter: { name } });
    expect(listed.databases).toEqual([]);
  });

  test('create, listCollections, rename, collMod, dbStats, drop', async () => {
    const d = db();
    await d.createCollection('a');
    const exists = await d.createCollection('a').catch((e) => e);
    expect(exists.code).toBe(48);
    await d.collection('a').insertMany([{ x: 1 }, { x: 2 }]);
    expect((await d.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['a']);
    await d.renameCollection('a', 'b');
    expect((await d.listCollections().toArray()).map((c) => c.name)).toEqual(['b']);
    await d.command({ collMod: 'b', validationLevel: 'moderate' });
    const stats = await d.stats();
    expect(stats.collections).toBe(1);
    expect(stats.objects).toBe(2);
    const cs = await d
      .collection('b')
      .aggregate([{ $collStats: { storageStats: {} } }])
      .toArray();
    expect(cs[0]?.storageStats.count).toBe(2);
    expect(await d.collection('b').drop()).toBe(true);
    expect(await d.listCollections().toArray()).toEqual([]);
  });

  test('serverStatus counts connections and operations', async () => {
    const status = await env.client.db('admin').command({ serverStatus: 1 });
    expect(status.connections.current).toBeGreaterThanOrEqual(1);
    expect(status.connections.totalCreated).toBeGreaterThanOrEqual(status.connections.current);
    expect(status.opcounters.insert).toBeGreaterThanOrEqual(0);
    const before = status.opcounters.query;
    await env.client.db(uniqueDbName('oc')).collection('c').findOne({});
    const after = await env.client.db('admin').command({ serverStatus: 1 });
    expect(after.opcounters.query).toBeGreaterThan(before);
  });

  test('hello reports a replica set primary with sessions', async () => {
    const hello = await env.client.db('admin').command({ hello: 1 });
    expect(hello.isWritablePrimary).toBe(true);
    expect(typeof hello.setName).toBe('string');
    expect(hello.logicalSessionTimeoutMinutes).toBeGreaterThan(0);
    const build = await env.client.db('admin').command({ buildInfo: 1 });
    expect(build.version).toMatch(/^\d+\.\d+/);
  });

  // As mongod 7.0 lists them (see the getIndexes() output in the MongoDB text index docs and SERVER-8123).
  test('a text index is listed under _fts/_ftsx with its fields in weights; the same one again is a no-op, another is 85', async () => {
    const coll = db().collection('articles');
    await coll.createIndex({ org: 1, title: 'text', body: 'text', at: -1 }, { weights: { title: 5 } });
    const listed = (await coll.listIndexes().toArray()).find((ix) => ix.name !== '_id_');
    expect(listed).toEqual({
      v: 2,
      key: { org: 1, _fts: 'text', _ftsx: 1, at: -1 },
      name: 'org_1_title_text_body_text_at_-1',
      weights: { body: 1, title: 5 },
      default_language: 'english',
      language_override: 'language',
      textIndexVersion: 3,
    });
    const again = await coll.createIndexes([{ key: { org: 1, title: 'text', body: 'text', at: -1 }, weights: { title: 5 } }]);
    expect(again).toEqual(['org_1_title_text_body_text_at_-1']);
    expect(await coll.listIndexes().toArray()).toHaveLength(2);
    const others: Document[] = [{ title: 'text' }, { org: 1, title: 'text', body: 'text', at: -1 }];
    for (const other of others) {
      const err = await coll.createIndex(other, { name: 'other' }).catch((e) => e);
      expect(err.code).toBe(85);
    }
    const reweighted = await coll.createIndex({ org: 1, title: 'text', body: 'text', at: -1 }, { weights: { title: 2 } }).catch((e) => e);
    expect(reweighted.code).toBe(85);
    await coll.dropIndex('org_1_title_text_body_text_at_-1');
    await coll.createIndex({ title: 'text' }, { default_language: 'french', language_override: 'lang' });
    expect((await coll.listIndexes().toArray()).find((ix) => ix.name === 'title_text')).toMatchObject({
      key: { _fts: 'text', _ftsx: 1 },
      weights: { title: 1 },
      default_language: 'french',
      language_override: 'lang',
    });
  });

  test('a 2dsphere index is listed with 2dsphereIndexVersion 3', async () => {
    const coll = db().collection('places');
    await coll.createIndex({ loc: '2dsphere' });
    expect((await coll.listIndexes().toArray()).find((ix) => ix.name === 'loc_2dsphere')).toEqual({
      v: 2,
      key: { loc: '2dsphere' },
      name: 'loc_2dsphere',
      '2dsphereIndexVersion': 3,
    });
  });
});
