import { MongoServerError } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// The test-only fail points drivers' specification tests use (mongod --setParameter enableTestCommands=1).
const env = useMongo({ appName: 'pmtk-conformance-fp', retryWrites: true });
const admin = () => env.client.db('admin');

afterEach(async () => {
  for (const name of ['onPrimaryTransactionalWrite', 'failGetMoreAfterCursorCheckout']) {
    await admin().command({ configureFailPoint: name, mode: 'off' });
  }
});

describe('onPrimaryTransactionalWrite', () => {
  test('closes the connection after the write is applied; the retried write is not applied twice', async () => {
    const coll = env.client.db(uniqueDbName('optw')).collection('c');
    await coll.insertOne({ warm: true });
    await admin().command({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: { times: 1 } });
    const result = await coll.updateOne({ _id: 'k' as never }, { $inc: { n: 1 } }, { upsert: true });
    expect(result.upsertedCount + result.modifiedCount).toBe(1);
    expect((await coll.findOne({ _id: 'k' as never }))?.n).toBe(1);
  });

  test('failBeforeCommitExceptionCode rolls the write back and fails it with that code', async () => {
    const coll = env.client.db(uniqueDbName('optw-fail')).collection('c');
    await coll.insertOne({ warm: true });
    await admin().command({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { times: 1 },
      data: { closeConnection: false, failBeforeCommitExceptionCode: 2 },
    });
    const err = await coll.insertOne({ gone: true }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(2);
    expect(await coll.countDocuments({ gone: true })).toBe(0);
  });

  test('a retriable failBeforeCommitExceptionCode is retried and applied once', async () => {
    const coll = env.client.db(uniqueDbName('optw-retry')).collection('c');
    await coll.insertOne({ warm: true });
    await admin().command({
      configureFailPoint: 'onPrimaryTransactionalWrite',
      mode: { times: 1 },
      data: { closeConnection: false, failBeforeCommitExceptionCode: 91 },
    });
    await coll.insertOne({ once: true });
    expect(await coll.countDocuments({ once: true })).toBe(1);
  });
});

describe('failGetMoreAfterCursorCheckout', () => {
  test('fails the next getMore of an open cursor with errorCode', async () => {
    const coll = env.client.db(uniqueDbName('getmore')).collection('c');
    await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i as never })));
    const cursor = coll.find({}).sort({ _id: 1 }).batchSize(2);
    expect(await cursor.next()).toEqual({ _id: 0 });
    await admin().command({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: { times: 1 }, data: { errorCode: 2 } });
    await cursor.next();
    const err = await cursor.next().catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(2);
    await cursor.close();
  });

  test('a resumable error on a change stream getMore is resumed by the driver without losing events', async () => {
    const coll = env.client.db(uniqueDbName('getmore-cs')).collection('c');
    await coll.insertOne({ warm: true });
    const stream = coll.watch([], { maxAwaitTimeMS: 100 });
    await stream.tryNext();
    await admin().command({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: { times: 1 }, data: { errorCode: 6 } });
    await coll.insertOne({ after: 1 });
    const event = await stream.next();
    expect(event).toMatchObject({ operationType: 'insert', fullDocument: { after: 1 } });
    await stream.close();
  });
});

describe('configureFailPoint', () => {
  test('an unknown fail point is refused with FailPointSetFailed', async () => {
    const err = await admin()
      .command({ configureFailPoint: 'noSuchFailPointPmtk', mode: 'alwaysOn' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(266);
    expect(err.codeName).toBe('FailPointSetFailed');
  });
});
