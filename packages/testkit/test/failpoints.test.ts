import { MongoClient, MongoServerError } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from './helpers.js';

// Fail points need a server started with test commands enabled (mongod --setParameter enableTestCommands=1),
// as mongodb-memory-server and the embedded server are.
const env = useMongo({ appName: 'pmtk-failpoints', retryWrites: true });
const admin = () => env.client.db('admin');
/** failCommand with errorCode 13 for `command`, only where mongod's namespace filter matches `namespace`. */
const failOnNamespace = (command: string, namespace: string) =>
  admin().command({
    configureFailPoint: 'failCommand',
    mode: 'alwaysOn',
    data: { failCommands: [command], errorCode: 13, namespace, appName: 'pmtk-failpoints' },
  });

afterEach(async () => {
  await admin().command({ configureFailPoint: 'failCommand', mode: 'off' });
});

describe('configureFailPoint failCommand', () => {
  test('errorCode and errorLabels fail the next matching command, then stop', async () => {
    const coll = env.client.db(uniqueDbName('fp')).collection('c');
    await admin().command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['find'], errorCode: 2, errorLabels: ['CustomLabel'], appName: 'pmtk-failpoints' },
    });
    const err = await coll.findOne({}).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(2);
    expect(err.hasErrorLabel('CustomLabel')).toBe(true);
    await expect(coll.findOne({})).resolves.toBeNull();
  });

  test('namespace limits the fail point to one collection namespace, as mongod does', async () => {
    const db = env.client.db(uniqueDbName('fpns'));
    await failOnNamespace('find', `${db.databaseName}.target`);
    await expect(db.collection('other').findOne({})).resolves.toBeNull();
    await expect(env.client.db(uniqueDbName('fpns2')).collection('target').findOne({})).resolves.toBeNull();
    expect(
      (
        await db
          .collection('target')
          .findOne({})
          .catch((e) => e)
      ).code,
    ).toBe(13);
  });

  test('namespace of a collectionless aggregate ({ aggregate: 1 }) is <db>.$cmd.aggregate, as mongod names it', async () => {
    const db = env.client.db(uniqueDbName('fpagg'));
    const collectionless = () =>
      db
        .aggregate([{ $documents: [{ a: 1 }] }])
        .toArray()
        .then(
          (docs) => docs.length,
          (e) => e.code,
        );
    await failOnNamespace('aggregate', `${db.databaseName}.$cmd`);
    expect(await collectionless()).toBe(1);
    await failOnNamespace('aggregate', `${db.databaseName}.$cmd.aggregate`);
    expect(await collectionless()).toBe(13);
  });

  test('namespace of a command without a collection (dbStats) is the database name alone, as mongod parses it', async () => {
    const db = env.client.db(uniqueDbName('fpdb'));
    const stats = () =>
      db.command({ dbStats: 1 }).then(
        (r) => r.ok,
        (e) => e.code,
      );
    await failOnNamespace('dbStats', `${db.databaseName}.$cmd`);
    expect(await stats()).toBe(1);
    await failOnNamespace('dbStats', db.databaseName);
    expect(await stats()).toBe(13);
  });

  test('closeConnection on insert: the driver retries the write and it is applied exactly once', async () => {
    const coll = env.client.db(uniqueDbName('retry')).collection('c');
    await coll.insertOne({ warm: true });
    await admin().command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['insert'], closeConnection: true, appName: 'pmtk-failpoints' },
    });
    await coll.insertOne({ once: true });
    expect(await coll.countDocuments({ once: true })).toBe(1);
  });

  test('a retryable error code is retried by the driver', async () => {
    const coll = env.client.db(uniqueDbName('retry2')).collection('c');
    await admin().command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['update'], errorCode: 91, appName: 'pmtk-failpoints' },
    });
    const result = await coll.updateOne({ k: 1 }, { $set: { v: 1 } }, { upsert: true });
    expect(result.upsertedCount).toBe(1);
    expect(await coll.countDocuments()).toBe(1);
  });

  test('blockConnection delays the command by blockTimeMS', async () => {
    await admin().command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['ping'], blockConnection: true, blockTimeMS: 300, appName: 'pmtk-failpoints' },
    });
    const started = performance.now();
    await admin().command({ ping: 1 });
    // The delay is the fail point's observable effect; it is a lower bound, not a speed assertion.
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  test('appName limits the fail point to one client', async () => {
    const other = await new MongoClient(env.mongo.uri, { appName: 'someone-else' }).connect();
    try {
      await admin().command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: { failCommands: ['count'], errorCode: 2, appName: 'pmtk-failpoints' },
      });
      const name = uniqueDbName('app');
      await expect(other.db(name).collection('c').estimatedDocumentCount()).resolves.toBe(0);
      await expect(env.client.db(name).collection('c').estimatedDocumentCount()).rejects.toMatchObject({ code: 2 });
    } finally {
      await other.close();
    }
  });
});
