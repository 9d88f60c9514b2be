import type { OperationInfo } from '../events/events.js';

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
  /** For a dedicated pool with autoClose: its idle TTL. The port then reports operation activity (`monitor.activity`). */
  autoCloseMS?: number;
}

/** Connection numbers of one pool, as the driver reports them. */
export interface PoolNumbers {
  open: number;
  inUse: number;
  available: number;
  waiting: number;
}

/** What the driver's topology monitoring says of a pool's server(s) after the first connect. */
export interface PoolHealth {
  /** Whether an operation could select a server now. */
  reachable: boolean;
  /** Why not, in the driver's words (credentials redacted by core). */
  reason?: string;
}

/** What a port reports of one pool to core, as the driver tells it. */
export interface PoolMonitor {
  /** Topology monitoring after the first connect: the server was lost or found again. */
  health(health: PoolHealth): void;
  /** A finished driver command (command monitoring), for stats, plugins and the slow-operation log. */
  operation(info: OperationInfo): void;
  /** An operation started or finished on the pool (only asked of autoClose pools): the idle clock restarts. */
  activity(): void;
}

export interface DriverPort<Pool, Handle> {
  /** Creates a pool without any I/O; the driver may connect lazily. Reports go to `monitor`. */
  createPool(spec: PoolSpec, monitor: PoolMonitor): Pool;
  /** Connects (handshake, authentication); rejects with the driver's error. */
  connect(pool: Pool): Promise<void>;
  /** A handle for one database on a pool; cheap and synchronous. */
  handle(pool: Pool, dbName: string, tenantId: string): Handle;
  /** Releases what a handle holds, when its tenant is evicted. */
  releaseHandle?(pool: Pool, handle: Handle, dbName: string): void;
  close(pool: Pool, force: boolean): Promise<void>;
  /**
   * Closes an idle pool's connections but keeps the pool usable: the next operation, on any handle already given
   * out, reconnects it. Without it, an idle pool is closed and its handles are dropped.
   */
  suspend?(pool: Pool): Promise<void>;
  /** One round trip to the pool's server (`{ ping: 1 }`); rejects with the driver's error. */
  ping(pool: Pool): Promise<void>;
  /** Connection numbers; `waiting` includes operations still waiting for a server (server selection). */
  numbers(pool: Pool): PoolNumbers;
  /**
   * Operations in flight on the pool (started, not finished), where the driver can tell: it also sees an operation
   * between its server selection and its first connection (a connection being opened for it). Without it core
   * counts connections in use plus operations waiting.
   */
  inFlight?(pool: Pool): number;
  /** Server-side cursors open on the pool (first batch read, not exhausted or closed): they keep an autoClose pool open. */
  openCursors?(pool: Pool): number;
}
