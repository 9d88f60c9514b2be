import type { DriverPort, PoolMonitor, PoolNumbers, PoolSpec } from '../src/index.js';

export interface FakePool {
  spec: PoolSpec;
  closed: boolean;
  forced: boolean;
  connects: number;
  numbers: PoolNumbers;
  /** What core listens to: tests report driver activity through it. */
  monitor?: PoolMonitor;
}

export interface FakeHandle {
  pool: FakePool;
  dbName: string;
  tenantId: string;
}

/** An in-memory DriverPort: counts what core asks of it and lets tests script connection outcomes. */
export class FakePort implements DriverPort<FakePool, FakeHandle> {
  readonly created: FakePool[] = [];
  readonly released: FakeHandle[] = [];
  connectCalls = 0;
  /** Decides each connect attempt; resolves by default after a tick. */
  behaviour: (pool: FakePool, attempt: number) => Promise<void> = () => new Promise((r) => setImmediate(r));

  createPool(spec: PoolSpec, monitor?: PoolMonitor): FakePool {
    const pool: FakePool = {
      spec,
      closed: false,
      forced: false,
      connects: 0,
      numbers: { open: 0, inUse: 0, available: 0, waiting: 0 },
      ...(monitor ? { monitor } : {}),
    };
    this.created.push(pool);
    return pool;
  }

  async connect(pool: FakePool): Promise<void> {
    this.connectCalls += 1;
    pool.connects += 1;
    await this.behaviour(pool, pool.connects);
    pool.numbers = { ...pool.numbers, open: Math.max(pool.numbers.open, 1), available: 1 };
  }

  handle(pool: FakePool, dbName: string, tenantId: string): FakeHandle {
    return { pool, dbName, tenantId };
  }

  releaseHandle(_pool: FakePool, handle: FakeHandle): void {
    this.released.push(handle);
  }

  async close(pool: FakePool, force: boolean): Promise<void> {
    pool.closed = true;
    pool.forced = force;
    pool.numbers = { open: 0, inUse: 0, available: 0, waiting: 0 };
  }

  async ping(): Promise<void> {}

  numbers(pool: FakePool): PoolNumbers {
    return pool.numbers;
  }
}

export function networkError(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'MongoNetworkError' });
}

export function authError(): Error {
  return Object.assign(new Error('Authentication failed.'), { name: 'MongoServerError', code: 18, codeName: 'AuthenticationFailed' });
}
