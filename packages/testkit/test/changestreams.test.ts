import type { ChangeStreamDocument, Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from './helpers.js';

const env = useMongo();
// Empty getMores wait maxAwaitTimeMS for events; a short wait keeps the suite quick on any server.
const FAST = { maxAwaitTimeMS: 100 };

async function take<T>(stream: AsyncIterable<T> & { next(): Promise<T> }, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) out.push(await stream.next());
  return out;
}

describe('change streams', () => {
  test('a collection stream reports insert, update, replace and delete', async () => {
    const coll = env.client.db(uniqueDbName('cs')).collection('c');
    await coll.insertOne({ warm: true });
    const stream = coll.watch([], FAST);
    await stream.tryNext();
    const { insertedId } = await coll.insertOne({ a: 1 });
    await coll.updateOne({ _id: insertedId }, { $set: { a: 2 }, $unset: { gone: '' } });
    await coll.replaceOne({ _id: insertedId }, { b: 1 });
    await coll.deleteOne({ _id: insertedId });
    const events = (await take(stream, 4)) as ChangeStreamDocument<Document>[];
    await stream.close();
    expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete']);
    expect(events[0]).toMatchObject({ fullDocument: { a: 1 }, documentKey: { _id: insertedId } });
    expect(events[1]).toMatchObject({ updateDescription: { updatedFields: { a: 2 } } });
    expect(events[2]).toMatchObject({ fullDocument: { _id: insertedId, b: 1 } });
  });

  test("fullDocument: 'updateLookup' returns the current document on updates", async () => {
    const coll = env.client.db(uniqueDbName('lookup')).collection('c');
    const { insertedId } = await coll.insertOne({ n: 1 });
    const stream = coll.watch([], { ...FAST, fullDocument: 'updateLookup' });
    await stream.tryNext();
    await coll.updateOne({ _id: insertedId }, { $inc: { n: 1 } });
    const event = (await stream.next()) as ChangeStreamDocument<Document> & { fullDocument: Document };
    await stream.close();
    expect(event.operationType).toBe('update');
    expect(event.fullDocument).toEqual({ _id: insertedId, n: 2 });
  });

  test('database and cluster streams see every collection, with a $match pipeline', async () => {
    const name = uniqueDbName('dbs');
    const d = env.client.db(name);
    await d.collection('seed').insertOne({});
    const dbStream = d.watch([{ $match: { operationType: 'insert' } }], FAST);
    const clusterStream = env.client.watch([{ $match: { 'ns.db': name } }], FAST);
    await dbStream.tryNext();
    await clusterStream.tryNext();
    await d.collection('one').insertOne({ c: 1 });
    await d.collection('two').insertOne({ c: 2 });
    await d.collection('two').deleteMany({});
    const dbEvents = (await take(dbStream, 2)) as Array<ChangeStreamDocument<Document> & { ns: { coll: string } }>;
    const clusterEvents = (await take(clusterStream, 3)) as Array<ChangeStreamDocument<Document>>;
    await dbStream.close();
    await clusterStream.close();
    expect(dbEvents.map((e) => e.ns.coll)).toEqual(['one', 'two']);
    expect(clusterEvents.map((e) => e.operationType)).toEqual(['insert', 'insert', 'delete']);
  });

  test('resumeAfter a token delivers exactly the events after it', async () => {
    const coll = env.client.db(uniqueDbName('resume')).collection('c');
    await coll.insertOne({ seed: true });
    const first = coll.watch([], FAST);
    await first.tryNext();
    await coll.insertMany([{ i: 1 }, { i: 2 }, { i: 3 }]);
    const [e1] = (await take(first, 1)) as Array<ChangeStreamDocument<Document>>;
    await first.close();
    const resumed = coll.watch([], { ...FAST, resumeAfter: e1?._id });
    const rest = (await take(resumed, 2)) as Array<ChangeStreamDocument<Document> & { fullDocument: Document }>;
    await resumed.close();
    expect(rest.map((e) => e.fullDocument.i)).toEqual([2, 3]);
  });

  test('startAfter an invalidate token opens a new stream after the drop', async () => {
    const coll = env.client.db(uniqueDbName('after')).collection('c');
    await coll.insertOne({ x: 1 });
    const stream = coll.watch([], FAST);
    await stream.tryNext();
    await coll.drop();
    const events = (await take(stream, 2)) as Array<ChangeStreamDocument<Document>>;
    expect(events[1]?.operationType).toBe('invalidate');
    await stream.close();
    const resumeOn = coll.watch([], { ...FAST, startAfter: events[1]?._id });
    await coll.insertOne({ reborn: true });
    const [next] = (await take(resumeOn, 1)) as Array<ChangeStreamDocument<Document> & { fullDocument: Document }>;
    await resumeOn.close();
    expect(next?.operationType).toBe('insert');
    expect(next?.fullDocument).toMatchObject({ reborn: true });
  });

  test('startAtOperationTime replays events from a cluster time', async () => {
    const d = env.client.db(uniqueDbName('optime'));
    const session = env.client.startSession({ causalConsistency: true });
    await d.collection('c').insertOne({ before: true }, { session });
    const time = session.operationTime;
    await session.endSession();
    await d.collection('c').insertOne({ after: true });
    const stream = d.collection('c').watch([], { ...FAST, startAtOperationTime: time });
    const events = (await take(stream, 2)) as Array<ChangeStreamDocument<Document> & { fullDocument: Document }>;
    await stream.close();
    expect(events.map((e) => Object.keys(e.fullDocument).filter((k) => k !== '_id'))).toEqual([['before'], ['after']]);
  });

  test('dropping the collection invalidates its stream', async () => {
    const coll = env.client.db(uniqueDbName('inv')).collection('c');
    await coll.insertOne({ x: 1 });
    const stream = coll.watch([], FAST);
    await stream.tryNext();
    await coll.drop();
    const events = (await take(stream, 2)) as Array<ChangeStreamDocument<Document>>;
    expect(events.map((e) => e.operationType)).toEqual(['drop', 'invalidate']);
    await stream.close();
  });

  test('a transaction publishes its changes only on commit', async () => {
    const coll = env.client.db(uniqueDbName('txcs')).collection('c');
    await coll.insertOne({ seed: 1 });
    const stream = coll.watch([], FAST);
    await stream.tryNext();
    const session = env.client.startSession();
    session.startTransaction();
    await coll.insertOne({ inTxn: 1 }, { session });
    expect(await stream.tryNext()).toBeNull();
    await session.commitTransaction();
    await session.endSession();
    const [event] = (await take(stream, 1)) as Array<ChangeStreamDocument<Document> & { fullDocument: Document }>;
    await stream.close();
    expect(event?.fullDocument).toMatchObject({ inTxn: 1 });
  });
});
