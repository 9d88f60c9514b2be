import type { AdmissionStats } from '../fairness/AdmissionController.js';
import type { ConnectionState } from '../lifecycle/states.js';
import type { PoolNumbers } from '../pools/DriverPort.js';

/** A JSON snapshot of a client; safe to log or serve: it holds no credentials. */
export interface StatsSnapshot {
  state: ConnectionState;
  clusters: Array<{ id: string; uri: string }>;
  pools: Array<{
    key: string;
    kind: 'shared' | 'dedicated';
    clusterId: string;
    tenant?: string;
    state: ConnectionState;
    connections: PoolNumbers;
    maxPoolSize: number;
    pins: number;
    /** Times the server was lost (`disconnects`) and found again (`reconnects`) after the first connect. */
    transitions: { disconnects: number; reconnects: number };
  }>;
  tenants: { cached: number; maxCached: number; evictions: number; pinned: number };
  dedicatedPools: number;
  openStreams: number;
  operations: {
    total: number;
    errors: number;
    /** PolyMongo's own operations (repositories, transactions, ping) running now. */
    inFlight: number;
    topTenants: Array<{ tenant: string; ops: number; errors: number }>;
    other: { ops: number; errors: number };
  };
  /** Per-tenant admission (in flight, queued, rejected, throttled), when `fairness` or `quotas` is configured. */
  admission?: AdmissionStats;
}
