import { randomBytes } from 'node:crypto';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createPolyMongo, type NativeOptions, type PolyMongo } from '../src/index.js';

/** Tenant ids unique to this run, so the suite can share a real server. */
export function tenantId(label: string): string {
  return `pmn_${label}_${randomBytes(3).toString('hex')}`;
}

/** A test server for the file, an observer client on it, and a factory for PolyMongo clients closed after each test. */
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

export async function databaseNames(client: MongoClient): Promise<string[]> {
  const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
  return databases.map((d) => d.name);
}

export async function serverConnections(client: MongoClient): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  return status.connections.current as number;
}
