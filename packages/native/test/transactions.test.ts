import { EmbeddedMongo } from '@polymongo/testkit';
import { describe, expect, test } from 'vitest';
import { CrossClusterTransactionError, createPolyMongo, TransactionsUnsupportedError } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();

describe('transactions', () => {
  test('commits writes to several tenants of one cluster together', async () => {
    const poly = env.make();
    const [a, b] = [tenantId('ta'), tenantId('tb')];
    await poly.db(a).collection('c').insertOne({ seed: 1 });
    await poly.db(b).collection('c').insertOne({ seed: 1 });
    const result = await poly.withTransaction(
      async (session) => {
        await poly.db(a).collection('c').insertOne({ x: 1 }, { session });
        await poly.db(b).collection('c').insertOne({ x: 1 }, { session });
        return 'done';
      },
      { tenants: [a, b] },
    );
    expect(result).toBe('done');
    expect(await poly.db(a).collection('c').countDocuments({ x: 1 })).toBe(1);
    expect(await poly.db(b).collection('c').countDocuments({ x: 1 })).toBe(1);
  });

  test('aborts everything when the callback throws, and ends the session', async () => {
    const poly = env.make();
    const t = tenantId('abort');
    await poly.db(t).collection('c').insertOne({ keep: 1 });
    let sessionUsed: import('mongodb').ClientSession | undefined;
    await expect(
      poly.withTransaction(
        async (session) => {
          sessionUsed = session;
          await poly.db(t).collection('c').insertOne({ gone: 1 }, { session });
          throw new Error('business rule');
        },
        { tenants: [t] },
      ),
    ).rejects.toThrow('business rule');
    expect(await poly.db(t).collection('c').countDocuments()).toBe(1);
    expect(sessionUsed?.hasEnded).toBe(true);
  });

  test('retries the callback after an injected TransientTransactionError', async () => {
    const poly = env.make({ driverOptions: { appName: 'pmn-txn-retry' } });
    const t = tenantId('retry');
    await poly.db(t).collection('c').insertOne({ seed: 1 });
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['insert'], errorCode: 112, errorLabels: ['TransientTransactionError'], appName: 'pmn-txn-retry' },
    });
    let runs = 0;
    try {
      await poly.withTransaction(
        async (session) => {
          runs += 1;
          await poly.db(t).collection('c').insertOne({ run: runs }, { session });
        },
        { tenants: [t] },
      );
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect(runs).toBe(2);
    expect(
      await poly
        .db(t)
        .collection('c')
        .countDocuments({ run: { $exists: true } }),
    ).toBe(1);
  });

  test('retries the commit on UnknownTransactionCommitResult and commits exactly once', async () => {
    const poly = env.make({ driverOptions: { appName: 'pmn-txn-commit' } });
    const t = tenantId('commit');
    await poly.db(t).collection('c').insertOne({ seed: 1 });
    // Twice: the driver retries a failed commit once by itself; the second failure reaches PolyMongo's loop.
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 2 },
      data: {
        failCommands: ['commitTransaction'],
        errorCode: 91,
        errorLabels: ['UnknownTransactionCommitResult'],
        appName: 'pmn-txn-commit',
      },
    });
    let runs = 0;
    try {
      await poly.withTransaction(
        async (session) => {
          runs += 1;
          await poly.db(t).collection('c').insertOne({ committed: true }, { session });
        },
        { tenants: [t] },
      );
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect(runs).toBe(1);
    expect(await poly.db(t).collection('c').countDocuments({ committed: true })).toBe(1);
  });

  test("{ session }: transactions one after another on the caller's session, which stays open", async () => {
    const poly = env.make();
    const t = tenantId('given');
    const session = poly.db(t).client.startSession();
    try {
      for (const n of [1, 2, 3]) {
        const used = await poly.withTransaction(
          async (s) => {
            await poly.db(t).collection('c').insertOne({ n }, { session: s });
            return s;
          },
          { tenants: [t], session },
        );
        expect(used).toBe(session);
        expect(session.hasEnded).toBe(false);
      }
      // A failed one rolls back and leaves the session usable for the next.
      await expect(
        poly.withTransaction(
          async (s) => {
            await poly.db(t).collection('c').insertOne({ n: 'rolled back' }, { session: s });
            throw new Error('business rule');
          },
          { tenants: [t], session },
        ),
      ).rejects.toThrow('business rule');
      expect(session.hasEnded).toBe(false);
      await poly.withTransaction((s) => poly.db(t).collection('c').insertOne({ n: 4 }, { session: s }), { tenants: [t], session });
    } finally {
      await session.endSession();
    }
    expect((await poly.db(t).collection('c').find().sort({ n: 1 }).toArray()).map((d) => d.n)).toEqual([1, 2, 3, 4]);
  });

  test('{ session }: an ended or busy session is CONFIG_INVALID, one of another client CROSS_CLUSTER_TRANSACTION; nothing written', async () => {
    const poly = env.make();
    const other = env.make();
    const t = tenantId('badsess');
    let ran = 0;
    const write = (s: import('mongodb').ClientSession) => {
      ran += 1;
      return poly.db(t).collection('c').insertOne({ x: 1 }, { session: s });
    };
    const ended = poly.db(t).client.startSession();
    await ended.endSession();
    await expect(poly.withTransaction(write, { tenants: [t], session: ended })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const busy = poly.db(t).client.startSession();
    busy.startTransaction();
    try {
      await expect(poly.withTransaction(write, { tenants: [t], session: busy })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } finally {
      await busy.abortTransaction();
      await busy.endSession();
    }
    expect(ran).toBe(0);
    const foreign = other.db(t).client.startSession();
    try {
      await expect(poly.withTransaction(write, { tenants: [t], session: foreign })).rejects.toMatchObject({
        code: 'CROSS_CLUSTER_TRANSACTION',
      });
    } finally {
      await foreign.endSession();
    }
    expect(await poly.db(t).collection('c').countDocuments()).toBe(0);
  });

  test('tenants on different clusters are refused before the callback runs', async () => {
    const poly = env.make({
      uri: undefined,
      clusters: { eu: { uri: env.mongo.uri }, us: { uri: env.mongo.uri } },
      routing: { tenants: { 'pmn-us-t': 'us' } },
      defaultCluster: 'eu',
    });
    let ran = false;
    const err = await poly
      .withTransaction(
        async () => {
          ran = true;
        },
        { tenants: ['pmn-eu-t', 'pmn-us-t'] },
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(CrossClusterTransactionError);
    expect(err.code).toBe('CROSS_CLUSTER_TRANSACTION');
    expect(ran).toBe(false);
  });

  test('a standalone server is refused with TRANSACTIONS_UNSUPPORTED before the callback runs', async () => {
    // Needs a standalone server, which MONGODB_URI (a replica set) cannot provide: uses the embedded one directly.
    const standalone = await new EmbeddedMongo({ replSet: false }).start();
    const poly = createPolyMongo({ uri: standalone.uri, logger: { level: 'silent' } });
    try {
      let ran = false;
      const err = await poly
        .withTransaction(async () => {
          ran = true;
        })
        .catch((e) => e);
      expect(err).toBeInstanceOf(TransactionsUnsupportedError);
      expect(err.code).toBe('TRANSACTIONS_UNSUPPORTED');
      expect(err.message).toMatch(/replica set/);
      expect(ran).toBe(false);
    } finally {
      await poly.forceClose();
      await standalone.stop();
    }
  });
});
