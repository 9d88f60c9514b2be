import { MongoServerError, MongoWriteConcernError } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Error labels as mongod attaches them (its ErrorLabelBuilder), observed through the driver's retry behaviour.
const APP = 'pmtk-conformance-labels';
const env = useMongo({ appName: APP, retryWrites: true });
const failCommand = (mode: unknown, data: Record<string, unknown>) =>
  env.client.db('admin').command({ configureFailPoint: 'failCommand', mode, data: { appName: APP, ...data } });

afterEach(async () => {
  await env.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
});

describe('TransientTransactionError', () => {
  for (const [code, name] of [
    [112, 'WriteConflict'],
    [24, 'LockTimeout'],
    [246, 'SnapshotUnavailable'],
    [251, 'NoSuchTransaction'],
  ] as const) {
    test(`is attached to ${name} (${code}) inside a transaction`, async () => {
      const coll = env.client.db(uniqueDbName('tte')).collection('c');
      await coll.insertOne({ warm: true });
      await failCommand({ times: 1 }, { failCommands: ['insert'], errorCode: code });
      const session = env.client.startSession();
      try {
        session.startTransaction();
        const err = await coll.insertOne({ x: 1 }, { session }).catch((e) => e);
        expect(err).toBeInstanceOf(MongoServerError);
        expect(err.code).toBe(code);
        expect(err.errorLabels).toContain('TransientTransactionError');
        await session.abortTransaction().catch(() => undefined);
      } finally {
        await session.endSession();
      }
    });
  }

  test('is not attached to the same code outside a transaction', async () => {
    const coll = env.client.db(uniqueDbName('tte-out')).collection('c');
    await failCommand({ times: 1 }, { failCommands: ['find'], errorCode: 112 });
    const err = await coll.findOne({}).catch((e) => e);
    expect(err.code).toBe(112);
    expect(err.errorLabels ?? []).not.toContain('TransientTransactionError');
  });

  test('makes withTransaction retry the whole transaction', async () => {
    const coll = env.client.db(uniqueDbName('tte-retry')).collection('c');
    await coll.insertOne({ warm: true });
    await failCommand({ times: 1 }, { failCommands: ['insert'], errorCode: 24 });
    let attempts = 0;
    const session = env.client.startSession();
    try {
      await session.withTransaction(async () => {
        attempts += 1;
        await coll.insertOne({ committed: true }, { session });
      });
    } finally {
      await session.endSession();
    }
    expect(attempts).toBe(2);
    expect(await coll.countDocuments({ committed: true })).toBe(1);
  });

  test('a network error inside a transaction is retried by withTransaction', async () => {
    const coll = env.client.db(uniqueDbName('tte-net')).collection('c');
    await coll.insertOne({ warm: true });
    await failCommand({ times: 1 }, { failCommands: ['insert'], closeConnection: true });
    let attempts = 0;
    const session = env.client.startSession();
    try {
      await session.withTransaction(async () => {
        attempts += 1;
        await coll.insertOne({ committed: true }, { session });
      });
    } finally {
      await session.endSession();
    }
    expect(attempts).toBe(2);
    expect(await coll.countDocuments({ committed: true })).toBe(1);
  });

  test('DuplicateKey inside a transaction carries no TransientTransactionError', async () => {
    const coll = env.client.db(uniqueDbName('tte-dup')).collection('c');
    await coll.insertOne({ _id: 1 as never });
    const session = env.client.startSession();
    try {
      session.startTransaction();
      const err = await coll.insertOne({ _id: 1 as never }, { session }).catch((e) => e);
      expect(err.code).toBe(11000);
      expect(err.errorLabels ?? []).not.toContain('TransientTransactionError');
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
  });
});

describe('RetryableWriteError', () => {
  test('a retriable code in a write concern error of a retryable write is labelled, so the driver retries', async () => {
    const coll = env.client.db(uniqueDbName('rwe-wce')).collection('c');
    await failCommand(
      { times: 1 },
      { failCommands: ['insert'], writeConcernError: { code: 91, errmsg: 'Replication is being shut down' } },
    );
    await coll.insertOne({ once: true });
    expect(await coll.countDocuments({ once: true })).toBe(1);
  });

  test('errorLabels given to failCommand are kept with a writeConcernError', async () => {
    const coll = env.client.db(uniqueDbName('rwe-labels')).collection('c');
    await failCommand(
      { times: 2 },
      {
        failCommands: ['insert'],
        writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' },
        errorLabels: ['RetryableWriteError'],
      },
    );
    const err = await coll.insertOne({ x: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoWriteConcernError);
    expect(err.errorLabels).toContain('RetryableWriteError');
  });

  test('a non-retriable write concern error code is not labelled', async () => {
    const coll = env.client.db(uniqueDbName('rwe-nolabel')).collection('c');
    await failCommand(
      { times: 1 },
      { failCommands: ['insert'], writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' } },
    );
    const err = await coll.insertOne({ x: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoWriteConcernError);
    expect(err.errorLabels ?? []).not.toContain('RetryableWriteError');
  });

  test('commitTransaction failing with a retriable code is labelled and retried by the driver', async () => {
    const coll = env.client.db(uniqueDbName('rwe-commit')).collection('c');
    await coll.insertOne({ warm: true });
    await failCommand({ times: 1 }, { failCommands: ['commitTransaction'], errorCode: 189 });
    const session = env.client.startSession();
    try {
      session.startTransaction();
      await coll.insertOne({ committed: true }, { session });
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    expect(await coll.countDocuments({ committed: true })).toBe(1);
  });

  test('a retriable code on a write without a transaction number is not labelled', async () => {
    const db = env.client.db(uniqueDbName('rwe-plain'));
    await failCommand({ times: 1 }, { failCommands: ['ping'], errorCode: 91 });
    const err = await db.command({ ping: 1 }).catch((e) => e);
    expect(err.code).toBe(91);
    expect(err.errorLabels ?? []).not.toContain('RetryableWriteError');
  });
});
