import type { ChangeStreamUpdateDocument } from 'mongodb';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type RunningMongo, startMongo } from '../src/index.js';
import { uniqueDbName } from './helpers.js';

// Embedded-server internals: counts how often the server diffs two versions of a document for a change stream.
const diffs = vi.hoisted(() => ({ count: 0 }));
vi.mock('../src/embedded/storage/updateDescription.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/embedded/storage/updateDescription.js')>();
  return {
    ...actual,
    describeUpdate: (...args: Parameters<typeof actual.describeUpdate>) => {
      diffs.count += 1;
      return actual.describeUpdate(...args);
    },
  };
});

let mongo: RunningMongo;
let client: MongoClient;
beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true, embeddedOnly: true });
  client = await new MongoClient(mongo.uri, { serverSelectionTimeoutMS: 5000 }).connect();
});
afterAll(async () => {
  await client?.close();
  await mongo?.stop();
});

describe('embedded server: updateDescription on demand', () => {
  test('updates with no change stream open compute no updateDescription, and a stream resumed before them still gets it', async () => {
    const coll = client.db(uniqueDbName('udcost')).collection('c');
    const { insertedId } = await coll.insertOne({ a: { b: 1, c: 2 }, list: [1, 2, 3] });
    const start = (await client.db('admin').command({ ping: 1 })).operationTime;
    diffs.count = 0;
    await coll.updateOne({ _id: insertedId }, { $set: { 'a.b': 5 }, $unset: { 'a.c': '' } });
    const session = client.startSession();
    await session.withTransaction(async () => {
      await coll.updateOne({ _id: insertedId }, { $set: { list: [1, 2] } }, { session });
    });
    await session.endSession();
    expect(diffs.count).toBe(0);

    const stream = coll.watch([{ $match: { operationType: 'update' } }], { startAtOperationTime: start, maxAwaitTimeMS: 100 });
    const first = (await stream.next()) as ChangeStreamUpdateDocument;
    const second = (await stream.next()) as ChangeStreamUpdateDocument;
    await stream.close();
    expect(first.updateDescription).toMatchObject({ updatedFields: { 'a.b': 5 }, removedFields: ['a.c'], truncatedArrays: [] });
    expect(second.updateDescription).toMatchObject({
      updatedFields: {},
      removedFields: [],
      truncatedArrays: [{ field: 'list', newSize: 2 }],
    });
    expect(diffs.count).toBe(2);
  });
});
