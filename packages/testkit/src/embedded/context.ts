import type { Document, Timestamp } from 'bson';
import type { ChangeLog, ClusterClock } from './changes.js';
import type { CursorRegistry } from './cursors.js';
import type { Catalog, ChangeContext } from './storage/catalog.js';
import type { Transaction } from './storage/transaction.js';

/** Counters reported by `serverStatus`. */
export interface OpCounters {
  insert: number;
  query: number;
  update: number;
  delete: number;
  getmore: number;
  command: number;
}

/** What a command handler may use: the request, its database, transaction, and the server's shared state. */
export interface CommandContext {
  db: string;
  body: Document;
  txn: Transaction | undefined;
  change: ChangeContext;
  catalog: Catalog;
  changes: ChangeLog;
  clock: ClusterClock;
  cursors: CursorRegistry;
  opcounters: OpCounters;
  server: ServerInfo;
  connectionId: number;
  /** Sessions seen and not ended, for `$listLocalSessions`. */
  localSessions: () => Document[];
  /** The cluster time of a snapshot read outside a transaction: reads see the data as of then. */
  readAt?: Timestamp | undefined;
  /** Milliseconds since the epoch by which the command must finish (its maxTimeMS), if it has one. */
  deadline?: number | undefined;
}

export interface ServerInfo {
  host: string;
  replSet: string | undefined;
  startedAt: number;
  connections: { current: number; totalCreated: number };
}

export type CommandHandler = (ctx: CommandContext) => Document | Promise<Document>;
