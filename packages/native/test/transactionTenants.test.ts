import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { CrossClusterTransactionError, defineRepository } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const Notes = defineRepository({ collection: 'notes', schema: z.object({ text: z.string() }) });

describe('a transaction and the tenants it did not list', () => {
  test('a tenant of the same pool used through a repository joins the transaction, pinned until it ends', async () => {
    const poly = env.make();
    const [listed, unlisted] = [tenantId('listed'), tenantId('joins')];
    let pinnedInside = 0;
    await poly.withTransaction(
      async (session) => {
        await poly.tenant(listed).repo(Notes).insertOne({ text: 'a' }, { session });
        await poly.tenant(unlisted).repo(Notes).insertOne({ text: 'b' }, { session });
        pinnedInside = poly.stats().tenants.pinned;
      },
      { tenants: [listed] },
    );
    expect(pinnedInside).toBe(2);
    expect(poly.stats().tenants.pinned).toBe(0);
    expect(await env.observer.db(unlisted).collection('notes').countDocuments()).toBe(1);
  });

  test('a joined tenant is rolled back with the rest when the callback throws', async () => {
    const poly = env.make();
    const [listed, unlisted] = [tenantId('rl'), tenantId('ru')];
    await poly.db(unlisted).collection('notes').insertOne({ text: 'seed' });
    await expect(
      poly.withTransaction(
        async (session) => {
          await poly.tenant(listed).repo(Notes).insertOne({ text: 'a' }, { session });
          await poly.tenant(unlisted).repo(Notes).insertOne({ text: 'b' }, { session });
          throw new Error('changed my mind');
        },
        { tenants: [listed] },
      ),
    ).rejects.toThrow('changed my mind');
    expect(await env.observer.db(unlisted).collection('notes').countDocuments()).toBe(1);
  });

  function twoClusters() {
    return env.make({
      uri: undefined,
      clusters: { eu: { uri: env.mongo.uri }, us: { uri: env.mongo.uri } },
      routing: { prefixes: [{ prefix: 'pmn_us', cluster: 'us' }] },
      defaultCluster: 'eu',
    });
  }

  test('a tenant of another cluster used through a repository is CROSS_CLUSTER_TRANSACTION at that call, before anything is sent', async () => {
    const poly = twoClusters();
    const [eu, us] = [tenantId('eu'), `pmn_us_${tenantId('x').slice(4)}`];
    let atUse: unknown;
    await poly.withTransaction(
      async (session) => {
        await poly.tenant(eu).repo(Notes).insertOne({ text: 'a' }, { session });
        atUse = await poly
          .tenant(us)
          .repo(Notes)
          .insertOne({ text: 'b' }, { session })
          .catch((e) => e);
      },
      { tenants: [eu] },
    );
    expect(atUse).toBeInstanceOf(CrossClusterTransactionError);
    expect((atUse as CrossClusterTransactionError).code).toBe('CROSS_CLUSTER_TRANSACTION');
    expect(await env.observer.db(us).collection('notes').countDocuments()).toBe(0);
  });

  test('a Db of another cluster used with the session makes withTransaction reject with CROSS_CLUSTER_TRANSACTION', async () => {
    const poly = twoClusters();
    const [eu, us] = [tenantId('eu'), `pmn_us_${tenantId('y').slice(4)}`];
    const err = await poly
      .withTransaction(
        async (session) => {
          await poly.db(eu).collection('notes').insertOne({ text: 'a' }, { session });
          await poly.db(us).collection('notes').insertOne({ text: 'b' }, { session });
        },
        { tenants: [eu] },
      )
      .catch((e) => e);
    expect(err).toBeInstanceOf(CrossClusterTransactionError);
    expect(err.cause?.name).toBe('MongoInvalidArgumentError');
    expect(await env.observer.db(eu).collection('notes').countDocuments()).toBe(0);
  });
});
