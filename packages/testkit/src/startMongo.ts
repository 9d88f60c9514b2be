import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EmbeddedUser } from './embedded/auth.js';
import { EmbeddedMongo } from './embedded/server.js';

export type MongoKind = 'external' | 'memory-server' | 'embedded';

export interface StartMongoOptions {
  /** Start a single-node replica set (sessions, transactions, change streams). Default true. */
  replSet?: boolean;
  /** Embedded server only: require SCRAM-SHA-256 with these users. */
  auth?: { users: EmbeddedUser[] };
  /** Embedded server only: the port (0, the default, picks a free one). */
  port?: number;
  /** Skip MONGODB_URI and mongod and always start the embedded server (for tests of its control surface). */
  embeddedOnly?: boolean;
  /** Print no notice about which kind of server started. */
  quiet?: boolean;
}

export interface RunningMongo {
  uri: string;
  kind: MongoKind;
  /** Why this kind was chosen, in one line. */
  reason: string;
  /** The embedded server's test control surface; undefined for other kinds. */
  embedded: EmbeddedMongo | undefined;
  stop(): Promise<void>;
}

function cachedMongodBinary(): string | undefined {
  const dirs = [process.env.MONGOMS_DOWNLOAD_DIR, join(homedir(), '.cache', 'mongodb-binaries')].filter(
    (d): d is string => typeof d === 'string' && d.length > 0,
  );
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    const found = readdirSync(dir).find((f) => f.startsWith('mongod'));
    if (found) return join(dir, found);
  }
  return undefined;
}

async function startMemoryServer(replSet: boolean): Promise<RunningMongo> {
  const mms = await import('mongodb-memory-server-core');
  if (replSet) {
    const rs = await mms.MongoMemoryReplSet.create({ replSet: { count: 1, storageEngine: 'wiredTiger' } });
    return {
      uri: rs.getUri(),
      kind: 'memory-server',
      reason: 'mongod binary at hand',
      embedded: undefined,
      stop: async () => void (await rs.stop()),
    };
  }
  const server = await mms.MongoMemoryServer.create();
  return {
    uri: server.getUri(),
    kind: 'memory-server',
    reason: 'mongod binary at hand',
    embedded: undefined,
    stop: async () => void (await server.stop()),
  };
}

/**
 * Starts a MongoDB server for tests, examples and benchmarks: `MONGODB_URI` if set, else a real `mongod` through
 * mongodb-memory-server when a binary is at hand (or `POLYMONGO_TEST_DOWNLOAD=1` allows a download), else the
 * embedded in-memory server. Never waits on a download by default.
 *
 * @example
 * const mongo = await startMongo({ replSet: true });
 * const client = await new MongoClient(mongo.uri).connect();
 * // ...
 * await client.close();
 * await mongo.stop();
 */
export async function startMongo(options: StartMongoOptions = {}): Promise<RunningMongo> {
  const replSet = options.replSet ?? true;
  const notice = (line: string) => {
    if (!options.quiet) process.stderr.write(`[polymongo/testkit] ${line}\n`);
  };
  if (!options.embeddedOnly) {
    const external = process.env.MONGODB_URI;
    if (external) {
      return { uri: external, kind: 'external', reason: 'MONGODB_URI is set', embedded: undefined, stop: async () => {} };
    }
    const binary = process.env.MONGOMS_SYSTEM_BINARY ?? cachedMongodBinary();
    if (binary || process.env.POLYMONGO_TEST_DOWNLOAD === '1') {
      try {
        const running = await startMemoryServer(replSet);
        notice(`started mongod via mongodb-memory-server (${binary ? 'binary at hand' : 'download allowed'})`);
        return running;
      } catch (err) {
        notice(`mongodb-memory-server failed (${(err as Error).message.split('\n')[0]}); falling back to the embedded server`);
      }
    }
  }
  const server = await new EmbeddedMongo({
    replSet,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
  }).start();
  const reason = options.embeddedOnly
    ? 'embeddedOnly was requested'
    : 'no MONGODB_URI and no mongod binary at hand (set MONGOMS_SYSTEM_BINARY, or POLYMONGO_TEST_DOWNLOAD=1 to allow a download)';
  notice(`started the embedded in-memory server at ${server.uri}: ${reason}`);
  return { uri: server.uri, kind: 'embedded', reason, embedded: server, stop: () => server.stop() };
}
