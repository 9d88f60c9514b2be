import { EmbeddedMongo } from '@polymongo/testkit';
import type { ChangeStream, ChangeStreamDocument, Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { createPolyMongo, InMemoryResumeTokenStore, MongoResumeTokenStore, type ResumeTokenStore } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
const FAST = { maxAwaitTimeMS: 100 };

async function take(stream: ChangeStream, n: number): Promise<Array<ChangeStreamDocument<Document> & { fullDocument?: Document }>> {
  const out: Array<ChangeStreamDocument<Document> & { fullDocument?: Document }> = [];
  while (out.length < n) out.push((await stream.next()) as ChangeStreamDocument<Document> & { fullDocument?: Document });
  return out;
}

describe('change streams', () => {
  test('a tenant stream sees only that tenant, pins it, and is closed by closeStreams', async () => {
    const poly = env.make();
    const [a, b] = [tenantId('wa'), tenantId('wb')];
    await poly.db(a).collection('c').insertOne({ seed: 1 });
    const stream = poly.watch(a, { ...FAST, collection: 'c' });
    await stream.tryNext();
    expect(poly.stats().openStreams).toBe(1);
    expect(poly.evict(a)).toBe(false);
    await poly.db(b).collection('c').insertOne({ other: true });
    await poly.db(a).collection('c').insertOne({ mine: true });
    const [event] = await take(stream, 1);
    expect(event?.fullDocument).toMatchObject({ mine: true });
    expect(await poly.closeStreams(a)).toBe(1);
    expect(stream.closed).toBe(true);
    expect(poly.stats().openStreams).toBe(0);
    expect(poly.evict(a)).toBe(true);
  });

  test('watchAll fans one cluster stream out to tenant listeners', async () => {
    const poly = env.make();
    const tenants = [tenantId('f1'), tenantId('f2'), tenantId('f3')];
    for (const t of tenants) await poly.db(t).collection('orders').insertOne({ seed: true });
    const fan = poly.watchAll({ ...FAST, tenants, collection: 'orders' });
    await fan.ready;
    expect(fan.cursorCount).toBe(1);
    const got = new Map<string, number[]>(tenants.map((t) => [t, []]));
    for (const t of tenants)
      fan.onTenant(t, (change) => got.get(t)?.push((change as unknown as { fullDocument: { n: number } }).fullDocument.n));
    const all: string[] = [];
    fan.on('change', ({ tenantId }) => all.push(tenantId));
    for (let n = 0; n < 3; n++)
      for (const [i, t] of tenants.entries())
        await poly
          .db(t)
          .collection('orders')
          .insertOne({ n: n * 10 + i });
    await poly.db(tenantId('unwatched')).collection('orders').insertOne({ n: -1 });
    await expect.poll(() => all.length, { timeout: 5000 }).toBe(9);
    expect(got.get(tenants[0] as string)).toEqual([0, 10, 20]);
    expect(got.get(tenants[2] as string)).toEqual([2, 12, 22]);
    expect(poly.stats().openStreams).toBe(1);
    await fan.close();
    expect(poly.stats().openStreams).toBe(0);
  });

  test('resumeWatch continues after the last stored token: nothing lost, nothing twice', async () => {
    const poly = env.make();
    const t = tenantId('resume');
    const store = new InMemoryResumeTokenStore();
    await poly.db(t).collection('c').insertOne({ seed: 1 });
    const first = await poly.resumeWatch(t, { ...FAST, store, key: 'k', collection: 'c' });
    await first.tryNext();
    await poly
      .db(t)
      .collection('c')
      .insertMany([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect((await take(first, 2)).map((e) => e.fullDocument?.i)).toEqual([1, 2]);
    await first.close();
    await poly
      .db(t)
      .collection('c')
      .insertMany([{ i: 4 }, { i: 5 }]);
    const second = await poly.resumeWatch(t, { ...FAST, store, key: 'k', collection: 'c' });
    expect((await take(second, 3)).map((e) => e.fullDocument?.i)).toEqual([3, 4, 5]);
    await second.close();
  });

  test('close() waits for resume-token saves still running, so the last token is not lost', async () => {
    const poly = env.make();
    const t = tenantId('slowsave');
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let calls = 0;
    let done = 0;
    const store: ResumeTokenStore = {
      load: async () => undefined,
      save: async () => {
        calls += 1;
        await gate;
        done += 1;
      },
    };
    const stream = await poly.resumeWatch(t, { ...FAST, store, key: 'k', collection: 'c' });
    await stream.tryNext();
    await poly.db(t).collection('c').insertOne({ i: 1 });
    expect((await take(stream, 1))[0]?.fullDocument?.i).toBe(1);
    await expect.poll(() => calls).toBeGreaterThan(0);
    let closed = false;
    const closing = poly.close().then(() => {
      closed = true;
    });
    await expect.poll(() => stream.closed).toBe(true);
    // A negative check needs a bound: close() without the wait finishes within a few ms of closing the stream;
    // with it, close() must still be waiting 300 ms later (neither a poll nor fake timers can show "not yet").
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);
    openGate();
    await closing;
    expect(done).toBe(calls);
  });

  test('a MongoDB collection store keeps tokens across clients (a restart)', async () => {
    const t = tenantId('persist');
    const storeTenant = tenantId('tokens');
    const run = async (inserts: number[], expectIds: number[]) => {
      const poly = env.make();
      const store = new MongoResumeTokenStore(poly.db(storeTenant).collection('resume_tokens'));
      const resuming = (await store.load('orders')) !== undefined;
      const stream = await poly.resumeWatch(t, { ...FAST, store, key: 'orders', collection: 'c' });
      // A new stream starts at its first getMore; a resumed one starts at its token and must not skip an event.
      if (!resuming) await stream.tryNext();
      for (const i of inserts) await poly.db(t).collection('c').insertOne({ i });
      const seen = (await take(stream, expectIds.length)).map((e) => e.fullDocument?.i);
      await stream.close();
      await poly.close(); // waits for the token saves still running
      return seen;
    };
    expect(await run([1, 2], [1, 2])).toEqual([1, 2]);
    await env.observer.db(t).collection('c').insertOne({ i: 3 });
    expect(await run([4], [3, 4])).toEqual([3, 4]);
  });

  test('after dropped connections during a burst of writes, no event is lost or repeated', async () => {
    // Drops every connection mid-stream: needs the embedded server's control surface.
    const server = await new EmbeddedMongo().start();
    const poly = createPolyMongo({ uri: server.uri, logger: { level: 'silent' } });
    try {
      const t = 'burst';
      await poly.db(t).collection('c').insertOne({ seed: true });
      const stream = poly.watch(t, { ...FAST, collection: 'c' });
      await stream.tryNext();
      const seen: number[] = [];
      const reader = (async () => {
        while (seen.length < 100) {
          const e = (await stream.next()) as unknown as { fullDocument: { i: number } };
          seen.push(e.fullDocument.i);
        }
      })();
      for (let i = 0; i < 100; i++) {
        for (let attempt = 0; ; attempt++) {
          try {
            await poly
              .db(t)
              .collection('c')
              .insertOne({ _id: i as never, i });
            break;
          } catch (err) {
            if ((err as { code?: number }).code === 11000) break;
            if (attempt > 5) throw err;
          }
        }
        if (i % 25 === 24) server.dropAllConnections();
      }
      await reader;
      await stream.close();
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await poly.forceClose();
      await server.stop();
    }
  });

  test('a client that never opened a stream counts none and closes none', async () => {
    const poly = env.make();
    await poly.db(tenantId('ns')).collection('c').insertOne({ x: 1 });
    expect(poly.stats().streams).toEqual({ open: 0, errors: 0, unrouted: 0 });
    expect(await poly.closeStreams(tenantId('ns'))).toBe(0);
    expect(await poly.closeAllStreams()).toBe(0);
    await poly.close({ timeoutMS: 2000 });
    expect(poly.state).toBe('closed');
  });

  test('close() closes open streams before closing the pools', async () => {
    const poly = env.make();
    const stream = poly.watch(tenantId('cl'), FAST);
    await stream.tryNext();
    await poly.close({ timeoutMS: 2000 });
    expect(stream.closed).toBe(true);
    expect(poly.state).toBe('closed');
  });
});
