import { describe, expect, test } from 'vitest';
import { defineRepository } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();

const Events = defineRepository({ collection: 'events' });

function dedicatedPool(poly: ReturnType<typeof env.make>, t: string) {
  return poly.stats().pools.find((p) => p.key === `dedicated:${t}`);
}

async function failPoint(data: Record<string, unknown>): Promise<void> {
  await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data });
}

async function failPointOff(): Promise<void> {
  await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
}

describe('dedicated pools with autoClose (issue #10 item 3)', () => {
  test('a repository kept across the ttl keeps working under traffic; the pool closes once idle and reopens', async () => {
    const t = tenantId('ttl');
    const poly = env.make({ dedicated: [{ tenants: t, maxConnections: 2, autoClose: true, ttlMS: 300 }] });
    const closed: string[] = [];
    poly.on('poolClosed', (e) => closed.push(`${e.poolKey} ${e.reason}`));
    const events = poly.tenant(t).repo(Events);
    let failures = 0;
    let inserted = 0;
    // ~1.5 s of inserts every 50 ms: five times the ttl, never idle for it.
    for (let i = 0; i < 30; i++) {
      await events.insertOne({ i }).then(
        () => {
          inserted += 1;
        },
        () => {
          failures += 1;
        },
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(failures).toBe(0);
    expect(closed).toEqual([]);
    expect(await env.observer.db(poly.route(t).dbName).collection('events').countDocuments()).toBe(inserted);

    // Traffic stopped: the pool closes...
    await expect.poll(() => dedicatedPool(poly, t)?.state, { timeout: 5000 }).toBe('idle');
    expect(closed).toEqual([`dedicated:${t} idle`]);
    // ...and the next operation on the same kept repository reopens it.
    await events.insertOne({ i: 'after' });
    expect(await events.countDocuments({})).toBe(31);
    await expect.poll(() => dedicatedPool(poly, t)?.state, { timeout: 5000 }).toBe('connected');
  });

  test('a kept Db handle survives an idle close and reopen', async () => {
    const t = tenantId('keptdb');
    const poly = env.make({ dedicated: [{ tenants: t, maxConnections: 2, autoClose: true, ttlMS: 150 }] });
    const db = poly.db(t);
    await db.collection('c').insertOne({ n: 1 });
    await expect.poll(() => dedicatedPool(poly, t)?.state, { timeout: 5000 }).toBe('idle');
    await db.collection('c').insertOne({ n: 2 });
    expect(await db.collection('c').countDocuments()).toBe(2);
  });

  test('a single find blocked longer than the ttl is not cut', async () => {
    const t = tenantId('slow');
    const appName = `pmn-slow-${t.slice(-6)}`;
    const poly = env.make({
      dedicated: [{ tenants: t, maxConnections: 2, autoClose: true, ttlMS: 300 }],
      driverOptions: { appName },
    });
    const closed: string[] = [];
    poly.on('poolClosed', (e) => closed.push(e.reason));
    await poly.db(t).collection('c').insertOne({ a: 1 });
    await failPoint({ failCommands: ['find'], blockConnection: true, blockTimeMS: 900, appName });
    try {
      await expect(poly.db(t).collection('c').findOne({})).resolves.toMatchObject({ a: 1 });
      expect(closed).toEqual([]);
    } finally {
      await failPointOff();
    }
  });

  test('maxIdleTimeMS can be set per dedicated pool', async () => {
    const t = tenantId('idle');
    const poly = env.make({ dedicated: [{ tenants: t, maxConnections: 2, maxIdleTimeMS: 50 }] });
    await poly.db(t).collection('c').insertOne({ n: 1 });
    expect(dedicatedPool(poly, t)?.connections.open).toBeGreaterThanOrEqual(1);
    // The driver closes connections idle for longer than maxIdleTimeMS (checked by its pool maintenance).
    await expect.poll(() => dedicatedPool(poly, t)?.connections.open, { timeout: 15_000, interval: 100 }).toBe(0);
  });
});

describe('close() right after first use (issue #10 item 4)', () => {
  test('on a cold client, 10 inserts then close(): each is on the server or rejected with CLIENT_CLOSED', async () => {
    const t = tenantId('cold');
    const poly = env.make();
    const coll = poly.db(t).collection('c');
    const writes = Array.from({ length: 10 }, (_, i) => coll.insertOne({ i }));
    const settled = Promise.allSettled(writes);
    await poly.close();
    const results = await settled;
    const rejected = results.filter((r) => r.status === 'rejected');
    for (const r of rejected) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'CLIENT_CLOSED' });
    const onServer = await env.observer.db(poly.route(t).dbName).collection('c').countDocuments();
    expect(onServer).toBe(10 - rejected.length);
    expect(rejected).toHaveLength(0);
  });

  test('a close that times out while a find is blocked rejects with CLOSE_TIMEOUT', async () => {
    const t = tenantId('timeout');
    const appName = `pmn-ct-${t.slice(-6)}`;
    const poly = env.make({ driverOptions: { appName } });
    await poly.db(t).collection('c').insertOne({ a: 1 });
    await failPoint({ failCommands: ['find'], blockConnection: true, blockTimeMS: 1000, appName });
    try {
      const find = poly
        .db(t)
        .collection('c')
        .findOne({})
        .catch((e: unknown) => e);
      await expect.poll(() => poly.stats().pools[0]?.connections.inUse ?? 0).toBe(1);
      await expect(poly.close({ timeoutMS: 100 })).rejects.toMatchObject({ code: 'CLOSE_TIMEOUT' });
      await find;
      expect(poly.state).toBe('closed');
    } finally {
      await failPointOff();
    }
  });
});
