import { randomBytes } from 'node:crypto';
import { createPolyMongo, type NativeOptions, type PolyMongo } from '@polymongo/native';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** A label unique to this run, so tests can share one server. */
export function unique(label: string): string {
  return `${label}${randomBytes(3).toString('hex')}`;
}

/** A server for the file, an observer client on it, and PolyMongo clients closed after each test. */
export function useServer() {
  const env = {} as { mongo: RunningMongo; observer: MongoClient; make(options?: Partial<NativeOptions>): PolyMongo };
  const made: PolyMongo[] = [];
  beforeAll(async () => {
    env.mongo = await startMongo({ replSet: true, quiet: true });
    env.observer = await new MongoClient(env.mongo.uri).connect();
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((p) => p.forceClose()));
  });
  afterAll(async () => {
    await env.observer?.close();
    await env.mongo?.stop();
  });
  env.make = (options = {}) => {
    const poly = createPolyMongo({ uri: env.mongo.uri, logger: { level: 'silent' }, ...options });
    made.push(poly);
    return poly;
  };
  return env;
}

/** Creates tenant databases `${prefix}${i}` (each with one document in `seed`) and returns their ids. */
export async function seedTenants(client: MongoClient, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  await Promise.all(ids.map((id) => client.db(id).collection('seed').insertOne({ seeded: true })));
  return ids;
}
