import type { ResolvedConfig } from '../config/schema.js';
import { redactUri } from '../config/uri.js';
import type { AdmissionController } from '../fairness/AdmissionController.js';
import type { ConnectionState } from '../lifecycle/states.js';
import type { StatsSnapshot } from '../observability/stats.js';
import type { PoolRegistry } from '../pools/PoolRegistry.js';
import type { OperationRunner } from './OperationRunner.js';
import type { TenantHandles } from './TenantHandles.js';

interface StatsSources<Pool, Handle> {
  state: ConnectionState;
  config: ResolvedConfig;
  registry: PoolRegistry<Pool, Handle>;
  handles: TenantHandles<Pool, Handle>;
  operations: OperationRunner;
  openStreams: number;
  admission: AdmissionController | undefined;
}

/** A JSON snapshot of a client, built from its parts; it holds no credentials. */
export function buildStats<Pool, Handle>(s: StatsSources<Pool, Handle>): StatsSnapshot {
  const top = s.operations.counter.top(10);
  return {
    state: s.state,
    clusters: [...s.config.clusters.values()].map((c) => ({ id: c.id, uri: redactUri(c.uri) })),
    pools: [...s.registry.all()].map((e) => ({
      key: e.spec.key,
      kind: e.spec.kind,
      clusterId: e.spec.clusterId,
      ...(e.spec.tenant ? { tenant: e.spec.tenant } : {}),
      state: e.state,
      connections: s.registry.numbers(e),
      maxPoolSize: e.spec.maxPoolSize,
      pins: e.pins,
      transitions: { ...e.transitions },
    })),
    tenants: {
      cached: s.handles.size,
      maxCached: s.config.maxCachedTenants,
      evictions: s.handles.evictions,
      pinned: s.handles.pinnedTenants,
    },
    dedicatedPools: s.registry.dedicatedCount,
    openStreams: s.openStreams,
    operations: {
      total: s.operations.counter.total,
      errors: s.operations.counter.errors,
      inFlight: s.operations.inFlight,
      topTenants: top.tenants,
      other: top.other,
    },
    ...(s.admission ? { admission: s.admission.stats() } : {}),
  };
}
