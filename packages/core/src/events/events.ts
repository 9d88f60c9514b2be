import type { TenantThrottledEvent } from '../fairness/AdmissionController.js';
import type { ConnectionState } from '../lifecycle/states.js';

/** One database operation, as plugins, the slow-operation log and stats see it. No document contents. */
export interface OperationInfo {
  tenantId: string | undefined;
  dbName: string;
  /** The command name, e.g. `find`, `insert`, or a PolyMongo operation such as `repo.insertOne`. */
  command: string;
  durationMS: number;
  poolKey: string | undefined;
  /** Set when the operation failed: the error's name, code and message (credentials redacted). */
  error?: { name: string; code?: string | number; message: string };
}

export interface StateChangeEvent {
  scope: 'client' | 'pool';
  poolKey?: string;
  from: ConnectionState;
  to: ConnectionState;
}

/** Every event a PolyMongo client emits, with its payload. */
export interface PolyMongoEvents {
  stateChange: StateChangeEvent;
  connect: { poolKey: string; clusterId: string };
  /** A pool closed (`close`, `idle`), or its server became unreachable after it had connected (`server`). */
  disconnect: { poolKey: string; clusterId: string; reason: 'close' | 'idle' | 'server' };
  /** A pool's server is reachable again after a `disconnect` with reason `server`; `downMS` is how long it was not. */
  reconnect: { poolKey: string; clusterId: string; downMS: number };
  error: { error: Error; poolKey?: string };
  poolCreated: { poolKey: string; kind: 'shared' | 'dedicated'; clusterId: string; tenant?: string };
  poolClosed: { poolKey: string; reason: 'close' | 'idle' };
  tenantEvicted: { tenantId: string; reason: 'lru' | 'manual' | 'dropped' | 'rerouted' };
  operation: OperationInfo;
  slowOperation: OperationInfo;
  /** A tenant's operation was refused by fairness (TENANT_OVERLOADED) or quotas (TENANT_QUOTA_EXCEEDED). */
  tenantThrottled: TenantThrottledEvent;
}

export type PolyMongoEventName = keyof PolyMongoEvents;
