import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import type { PolyMongo } from '../src/index.js';

let mongo: RunningMongo;
const made: PolyMongo[] = [];
beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
});
afterAll(async () => {
  await Promise.all(made.map((p) => p.forceClose()));
  await mongo?.stop();
});

/** A fresh copy of the library module, as a bundler's hot reload or a second bundle loads it. */
async function freshLibrary(): Promise<typeof import('../src/index.js')> {
  vi.resetModules();
  return import('../src/index.js');
}

test("reuse: 'global' returns the same client across a reload of the library module and fresh option objects", async () => {
  const first = await freshLibrary();
  const second = await freshLibrary();
  expect(second.createPolyMongo).not.toBe(first.createPolyMongo); // really two module instances
  const options = () => ({
    uri: mongo.uri,
    reuse: 'global' as const,
    logger: { level: 'silent' as const },
    tenantDb: (t: string) => `sv_${t}`,
  });
  const a = first.createPolyMongo(options());
  const b = second.createPolyMongo(options());
  made.push(a);
  expect(b).toBe(a);
  await b.db('acme').collection('x').insertOne({ n: 1 });
  expect(await a.db('acme').collection('x').countDocuments()).toBe(1);
});

test('different options, or no reuse, give different clients; a closed one is replaced', async () => {
  const { createPolyMongo } = await freshLibrary();
  const a = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, maxCachedTenants: 10 });
  const b = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, maxCachedTenants: 11 });
  const c = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' }, maxCachedTenants: 10 });
  made.push(a, b, c);
  expect(b).not.toBe(a);
  expect(c).not.toBe(a);
  await a.close();
  const d = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, maxCachedTenants: 10 });
  made.push(d);
  expect(d).not.toBe(a);
  expect(d.state).not.toBe('closed');
});

test("reuse: 'global' with a driver module option keys it by identity, without walking the driver", async () => {
  const { createPolyMongo } = await freshLibrary();
  const driver = await import('mongodb');
  const a = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, mongodb: driver });
  const b = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, mongodb: driver });
  made.push(a);
  expect(b).toBe(a);
  const c = createPolyMongo({ uri: mongo.uri, reuse: 'global', logger: { level: 'silent' }, mongodb: { ...driver } });
  made.push(c);
  expect(c).not.toBe(a);
});
