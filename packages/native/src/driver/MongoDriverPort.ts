import type { DriverPort, PolyMongoCore, PoolNumbers, PoolSpec } from '@polymongo/core';
import { type Db, MongoClient, type MongoClientOptions } from 'mongodb';
import { admittedDb } from '../fairness/admittedDb.js';
import { TenantAdmission } from '../fairness/TenantAdmission.js';

/** A MongoClient plus the live connection numbers its CMAP events report. */
export interface NativePool {
  readonly spec: PoolSpec;
  readonly client: MongoClient;
  readonly numbers: PoolNumbers;
  /** Database name to tenant id, for the handles this pool has given out. */
  readonly tenantsByDb: Map<string, string>;
}

export interface NativePortOptions {
  driverOptions: MongoClientOptions;
  monitorOperations: boolean;
  /** Receives finished commands when operation monitoring is on. */
  core: () => PolyMongoCore<NativePool, Db> | undefined;
}

/** Binds core to the official driver: one MongoClient per pool, `client.db(name)` per tenant. */
export class MongoDriverPort implements DriverPort<NativePool, Db> {
  constructor(private readonly options: NativePortOptions) {}

  createPool(spec: PoolSpec): NativePool {
    const client = new MongoClient(spec.uri, {
      ...this.options.driverOptions,
      maxPoolSize: spec.maxPoolSize,
      minPoolSize: spec.minPoolSize,
      maxIdleTimeMS: spec.maxIdleTimeMS,
      monitorCommands: this.options.monitorOperations,
    });
    const pool: NativePool = { spec, client, numbers: { open: 0, inUse: 0, available: 0, waiting: 0 }, tenantsByDb: new Map() };
    countConnections(client, pool.numbers);
    if (this.options.monitorOperations) this.forwardOperations(pool);
    return pool;
  }

  private forwardOperations(pool: NativePool): void {
    const record = (e: { databaseName: string; commandName: string; duration: number }, failure?: Error) => {
      const core = this.options.core();
      if (!core) return;
      core.recordOperation({
        tenantId: pool.tenantsByDb.get(e.databaseName),
        dbName: e.databaseName,
        command: e.commandName,
        durationMS: e.duration,
        poolKey: pool.spec.key,
        ...(failure ? { error: { name: failure.name, message: failure.message, ...codeOf(failure) } } : {}),
      });
    };
    pool.client.on('commandSucceeded', (e) => {
      // Write errors (duplicate keys, bad update operators) come back in an ok:1 reply.
      const writeError = (e.reply as { writeErrors?: Array<{ code?: number; errmsg?: string }> } | undefined)?.writeErrors?.[0];
      record(
        e,
        writeError
          ? Object.assign(new Error(writeError.errmsg ?? 'write error'), { name: 'MongoWriteError', code: writeError.code })
          : undefined,
      );
    });
    pool.client.on('commandFailed', (e) => record(e, e.failure));
  }

  async connect(pool: NativePool): Promise<void> {
    await pool.client.connect();
  }

  handle(pool: NativePool, dbName: string, tenantId: string): Db {
    pool.tenantsByDb.set(dbName, tenantId);
    const db = pool.client.db(dbName);
    // With fairness or quotas configured, the cached handle admits its operations; without, it is the driver's Db.
    const admission = this.options.core()?.admission;
    return admission ? admittedDb(db, new TenantAdmission(admission, tenantId, pool.spec.key, pool.spec.maxPoolSize)) : db;
  }

  releaseHandle(pool: NativePool, _handle: Db, dbName: string): void {
    pool.tenantsByDb.delete(dbName);
  }

  async close(pool: NativePool, force: boolean): Promise<void> {
    await pool.client.close(force);
  }

  async ping(pool: NativePool): Promise<void> {
    await pool.client.db('admin').command({ ping: 1 });
  }

  numbers(pool: NativePool): PoolNumbers {
    const n = pool.numbers;
    return { open: n.open, inUse: n.inUse, available: Math.max(0, n.open - n.inUse), waiting: n.waiting };
  }
}

function codeOf(error: Error): { code?: string | number } {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' || typeof code === 'number' ? { code } : {};
}

/** Keeps real connection counts from the driver's connection-pool (CMAP) events. */
function countConnections(client: MongoClient, n: PoolNumbers): void {
  client.on('connectionCreated', () => {
    n.open += 1;
  });
  client.on('connectionClosed', () => {
    n.open = Math.max(0, n.open - 1);
  });
  client.on('connectionCheckOutStarted', () => {
    n.waiting += 1;
  });
  client.on('connectionCheckOutFailed', () => {
    n.waiting = Math.max(0, n.waiting - 1);
  });
  client.on('connectionCheckedOut', () => {
    n.waiting = Math.max(0, n.waiting - 1);
    n.inUse += 1;
  });
  client.on('connectionCheckedIn', () => {
    n.inUse = Math.max(0, n.inUse - 1);
  });
  client.on('connectionPoolClosed', () => {
    n.inUse = 0;
    n.waiting = 0;
  });
}
