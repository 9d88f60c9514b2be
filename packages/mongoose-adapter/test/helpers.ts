import { randomBytes } from 'node:crypto';
import { createPolyMongo, type NativeOptions, type PolyMongo } from '@polymongo/native';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { afterAll, afterEach, beforeAll } from 'vitest';

export function tenantId(label: string): string {
  return `pmm_${label}_${randomBytes(3).toString('hex')}`;
}

export function useServer() {
  const env = {} as {
    mongo: RunningMongo;
    observer: MongoClient;
    make(options?: Partial<NativeOptions>): PolyMongo;
    cleanup: Array<() => Promise<unknown>>;
  };
  env.cleanup = [];
  const made: PolyMongo[] = [];
  beforeAll(async () => {
    env.mongo = await startMongo({ replSet: true, quiet: true });
    env.observer = await new MongoClient(env.mongo.uri).connect();
  });
  afterEach(async () => {
    await Promise.all(env.cleanup.splice(0).map((fn) => fn()));
    await Promise.all(made.splice(0).map((p) => p.forceClose()));
  });
  afterAll(async () => {
    await env.observer?.close();
    await env.mongo?.stop();
  });
  env.make = (options = {}) => {
    // Pools from the driver copy of the Mongoose under test (8.x brings its own), as an app sharing them would do.
    const poly = createPolyMongo({ uri: env.mongo.uri, logger: { level: 'silent' }, mongodb: mongoose.mongo, ...options });
    made.push(poly);
    return poly;
  };
  return env;
}

export async function serverConnections(client: MongoClient): Promise<number> {
  const status = await client.db('admin').command({ serverStatus: 1 });
  return status.connections.current as number;
}
