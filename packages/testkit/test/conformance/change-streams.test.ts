import type { ChangeStream, ChangeStreamDocument, ChangeStreamOptions, Collection, Document } from 'mongodb';
import { MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Change streams as mongod 7.0 reports them.
const env = useMongo();

/** Opens a stream and makes sure the server has started it before the test writes anything. */
async function open(coll: Collection, pipeline: Document[] = [], options: ChangeStreamOptions = {}): Promise<ChangeStream> {
  const stream = coll.watch(pipeline, { maxAwaitTimeMS: 50, ...options });
  await stream.tryNext();
  return stream;
}

async function nextOf(stream: ChangeStream, operationType: string): Promise<ChangeStreamDocument & Document> {
  for (let i = 0; i < 20; i++) {
    const event = (await stream.next()) as ChangeStreamDocument & Document;
    if (event.operationType === operationType) return event;
  }
  throw new Error(`no ${operationType} event`);
}

describe('updateDescription', () => {
  test('reports updates at field-path granularity with dotted paths', async () => {
    const coll = env.client.db(uniqueDbName('cs-dotted')).collection('c');
    await coll.insertOne({ _id: 1 as never, a: { b: 1, c: 2 }, keep: true });
    const stream = await open(coll);
    await coll.updateOne({ _id: 1 as never }, { $set: { 'a.b': 5 }, $unset: { 'a.c': '' } });
    const event = await nextOf(stream, 'update');
    expect(event.updateDescription).toMatchObject({ updatedFields: { 'a.b': 5 }, removedFields: ['a.c'], truncatedArrays: [] });
    await stream.close();
  });

  test('reports a shortened array in truncatedArrays', async () => {
    const coll = env.client.db(uniqueDbName('cs-trunc')).collection('c');
    await coll.insertOne({ _id: 1 as never, list: [1, 2, 3, 4] });
    const stream = await open(coll);
    await coll.updateOne({ _id: 1 as never }, { $pop: { list: 1 } });
    const event = await nextOf(stream, 'update');
    expect(event.updateDescription?.truncatedArrays).toEqual([{ field: 'list', newSize: 3 }]);
    await stream.close();
  });

  test('with showExpandedEvents, disambiguatedPaths explains numeric field names', async () => {
    const coll = env.client.db(uniqueDbName('cs-disamb')).collection('c');
    await coll.insertOne({ _id: 1 as never, a: { '0': 1 } });
    const stream = await open(coll, [], { showExpandedEvents: true });
    await coll.updateOne({ _id: 1 as never }, { $set: { 'a.0': 2 } });
    const event = await nextOf(stream, 'update');
    expect(event.updateDescription?.disambiguatedPaths).toEqual({ 'a.0': ['a', '0'] });
    await stream.close();
  });
});

describe('pre- and post-images', () => {
  test("fullDocument 'whenAvailable' and fullDocumentBeforeChange give the images of each update", async () => {
    const db = env.client.db(uniqueDbName('cs-images'));
    await db.createCollection('c', { changeStreamPreAndPostImages: { enabled: true } });
    const coll = db.collection('c');
    await coll.insertOne({ _id: 1 as never, n: 1 });
    const stream = await open(coll, [], { fullDocument: 'whenAvailable', fullDocumentBeforeChange: 'whenAvailable' });
    await coll.updateOne({ _id: 1 as never }, { $set: { n: 2 } });
    await coll.updateOne({ _id: 1 as never }, { $set: { n: 3 } });
    const first = await nextOf(stream, 'update');
    expect(first.fullDocumentBeforeChange).toEqual({ _id: 1, n: 1 });
    expect(first.fullDocument).toEqual({ _id: 1, n: 2 });
    const second = await nextOf(stream, 'update');
    expect(second.fullDocumentBeforeChange).toEqual({ _id: 1, n: 2 });
    await coll.deleteOne({ _id: 1 as never });
    expect((await nextOf(stream, 'delete')).fullDocumentBeforeChange).toEqual({ _id: 1, n: 3 });
    await stream.close();
  });

  test("without images enabled, 'whenAvailable' gives null and 'required' fails", async () => {
    const coll = env.client.db(uniqueDbName('cs-noimages')).collection('c');
    await coll.insertOne({ _id: 1 as never, n: 1 });
    const lenient = await open(coll, [], { fullDocumentBeforeChange: 'whenAvailable' });
    const strict = await open(coll, [], { fullDocumentBeforeChange: 'required' });
    await coll.updateOne({ _id: 1 as never }, { $set: { n: 2 } });
    expect((await nextOf(lenient, 'update')).fullDocumentBeforeChange).toBeNull();
    await expect(strict.next()).rejects.toBeInstanceOf(MongoServerError);
    await lenient.close();
    await strict.close();
  });
});

describe('expanded events', () => {
  test('showExpandedEvents reports create, createIndexes, dropIndexes and modify with collectionUUID', async () => {
    const db = env.client.db(uniqueDbName('cs-expanded'));
    await db.collection('seed').insertOne({ warm: true });
    const stream = db.watch([], { showExpandedEvents: true, maxAwaitTimeMS: 50 });
    await stream.tryNext();
    await db.createCollection('made');
    await db.collection('made').createIndex({ a: 1 });
    await db.command({ collMod: 'made', validator: { a: { $exists: true } } });
    await db.collection('made').dropIndex('a_1');
    const types: string[] = [];
    for (const type of ['create', 'createIndexes', 'modify', 'dropIndexes']) {
      const event = await nextOf(stream as ChangeStream, type);
      types.push(event.operationType);
      expect(event.collectionUUID).toBeDefined();
    }
    expect(types).toEqual(['create', 'createIndexes', 'modify', 'dropIndexes']);
    await stream.close();
  });

  test('without showExpandedEvents, DDL events other than drop and rename are not reported', async () => {
    const db = env.client.db(uniqueDbName('cs-plain'));
    await db.collection('seed').insertOne({ warm: true });
    const stream = db.watch([], { maxAwaitTimeMS: 50 });
    await stream.tryNext();
    await db.createCollection('made');
    await db.collection('made').createIndex({ a: 1 });
    await db.collection('made').insertOne({ a: 1 });
    const event = (await stream.next()) as ChangeStreamDocument & Document;
    expect(event.operationType).toBe('insert');
    expect(event.collectionUUID).toBeUndefined();
    await stream.close();
  });
});

describe('pipelines mongod refuses', () => {
  test('an unknown stage fails the aggregate with 40324', async () => {
    const coll = env.client.db(uniqueDbName('cs-stage')).collection('c');
    await coll.insertOne({ warm: true });
    const stream = coll.watch([{ $unsupported: 'foo' }]);
    const err = await stream.tryNext().catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(40324);
    await stream.close();
  });

  test('projecting out _id fails with ChangeStreamFatalError (280) when an event arrives', async () => {
    const coll = env.client.db(uniqueDbName('cs-noid')).collection('c');
    await coll.insertOne({ warm: true });
    const stream = await open(coll, [{ $project: { _id: 0 } }]);
    await coll.insertOne({ x: 1 });
    const err = await stream.next().catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(280);
    await stream.close();
  });
});
