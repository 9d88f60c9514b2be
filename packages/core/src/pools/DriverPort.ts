/** What core asks of a driver adapter. Core never imports a driver; adapters implement this small port. */
export interface PoolSpec {
  /** `cluster:<id>` for a shared pool, `dedicated:<tenant>` for a dedicated one. */
  key: string;
  kind: 'shared' | 'dedicated';
  clusterId: string;
  uri: string;
  maxPoolSize: number;
  minPoolSize: number;
  maxIdleTimeMS: number;
  /** The tenant a dedicated pool serves. */
  tenant?: string;
}

/** Connection numbers of one pool, as the driver reports them. */
export interface PoolNumbers {
  open: number;
  inUse: number;
  available: number;
  waiting: number;
}

export interface DriverPort<Pool, Handle> {
  /** Creates a pool without any I/O; the driver may connect lazily. */
  createPool(spec: PoolSpec): Pool;
  /** Connects (handshake, authentication); rejects with the driver's error. */
  connect(pool: Pool): Promise<void>;
  /** A handle for one database on a pool; cheap and synchronous. */
  handle(pool: Pool, dbName: string, tenantId: string): Handle;
  /** Releases what a handle holds, when its tenant is evicted. */
  releaseHandle?(pool: Pool, handle: Handle, dbName: string): void;
  close(pool: Pool, force: boolean): Promise<void>;
  ping(pool: Pool): Promise<void>;
  numbers(pool: Pool): PoolNumbers;
}
