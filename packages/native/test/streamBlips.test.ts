import { type RunningMongo, startMongo } from '@polymongo/testkit';
import type { ChangeStreamDocument, Document } from 'mongodb';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createPolyMongo, InMemoryResumeTokenStore, type PolyMongo } from '../src/index.js';

type Event = ChangeStreamDocument<Document> & { fullDocument?: Document };
const FAST = { maxAwaitTimeMS: 50 };
const TENANTS = ['blip_a', 'blip_b', 'blip_c'];

/** Inserts `{ _id: i, i }` until the server has it exactly once: retried on network errors, a duplicate key means done. */
async function insertOnce(poly: PolyMongo, tenant: string, i: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await poly
        .db(tenant)
        .collection('c')
        .insertOne({ _id: i as never, i });
      return;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return;
      if (attempt >= 20) throw error;
    }
  }
}

/** Batches of concurrent inserts across the three tenants, with `fault()` run after each batch. */
async function writeInBatches(poly: PolyMongo, batches: number, perBatch: number, fault: (batch: number) => Promise<void> | void) {
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const batch: Array<Promise<void>> = [];
    for (let k = 0; k < perBatch; k++, n++) batch.push(insertOnce(poly, TENANTS[n % 3] as string, n));
    await Promise.all(batch);
    await fault(b);
  }
  return n;
}

/** Concurrent inserts commit in any order; what counts is that each arrives exactly once. */
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

// Drops every connection, or stops and restarts the server: the embedded server's control surface.
describe('change streams across dropped connections and restarts', () => {
  let mongo: RunningMongo;
  let poly: PolyMongo;
  beforeEach(async () => {
    mongo = await startMongo({ embeddedOnly: true, quiet: true });
    poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' } });
    for (const t of TENANTS) await poly.db(t).collection('c').insertOne({ seed: t });
  });
  afterEach(async () => {
    await poly.forceClose();
    await mongo.stop();
  });

  test('with one tenant stream open, writes to three tenants keep completing and every change arrives once', async () => {
    const seen: number[] = [];
    const stream = poly.watch('blip_a', { ...FAST, collection: 'c' });
    let started = false;
    stream.once('resumeTokenChanged', () => {
      started = true;
    });
    stream.on('change', (e: Event) => seen.push(e.fullDocument?.i as number));
    await expect.poll(() => started).toBe(true);
    await insertOnce(poly, 'blip_a', -1);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    const written = await writeInBatches(poly, 8, 30, () => mongo.embedded?.dropAllConnections());
    const expected = [-1, ...Array.from({ length: written }, (_, i) => i).filter((i) => i % 3 === 0)];
    await expect.poll(() => seen.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(expected.length);
    expect(sorted(seen)).toEqual(expected);
    await stream.close();
  });

  test('a resumeWatch consumer sees every change of its tenant once across blips and a server restart', async () => {
    const seen: number[] = [];
    const store = new InMemoryResumeTokenStore();
    const stream = await poly.resumeWatch('blip_b', {
      ...FAST,
      store,
      key: 'b',
      collection: 'c',
      maxInFlight: 4,
      handler: async (e) => {
        seen.push((e as Event).fullDocument?.i as number);
      },
    });
    await insertOnce(poly, 'blip_b', -1);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    const written = await writeInBatches(poly, 8, 30, async (b) => {
      if (b === 4) {
        await mongo.embedded?.stop();
        await mongo.embedded?.start();
      } else mongo.embedded?.dropAllConnections();
    });
    const expected = [-1, ...Array.from({ length: written }, (_, i) => i).filter((i) => i % 3 === 1)];
    await expect.poll(() => seen.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(expected.length);
    expect(sorted(seen)).toEqual(expected);
    expect(stream.closed).toBe(false);
    await stream.close();
  });
});
