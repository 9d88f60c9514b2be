import { randomBytes } from 'node:crypto';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { type RunningMongo, startMongo } from '../src/index.js';

/** A database name no other test run uses, so the suite can run against a shared real server. */
export function uniqueDbName(label: string): string {
  return `pmtk_${label}_${randomBytes(4).toString('hex')}`;
}

/**
 * Starts the test server (MONGODB_URI, a real mongod, or the embedded one) and a connected client for a test file.
 */
export function useMongo(options: MongoClientOptions = {}) {
  const state = {} as { mongo: RunningMongo; client: MongoClient };
  beforeAll(async () => {
    state.mongo = await startMongo({ replSet: true, quiet: true });
    state.client = await new MongoClient(state.mongo.uri, { serverSelectionTimeoutMS: 5000, ...options }).connect();
  });
  afterAll(async () => {
    await state.client?.close();
    await state.mongo?.stop();
  });
  return state;
}
