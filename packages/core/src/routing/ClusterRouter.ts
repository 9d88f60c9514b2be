import { UnknownClusterError } from '../errors/errors.js';
import { HashRing } from './HashRing.js';

export interface ClusterRoutingRules {
  defaultCluster: string;
  clusters: Iterable<string>;
  tenants?: Record<string, string>;
  prefixes?: Array<{ prefix: string; cluster: string }>;
  hashRing?: { clusters: string[]; virtualNodes: number };
  overrides?: Record<string, string>;
}

/**
 * Picks a tenant's cluster. Rules in order: a per-tenant override (for moving a tenant), the explicit tenant map,
 * the first matching prefix rule, the consistent-hash ring, then the default cluster.
 */
export class ClusterRouter {
  private readonly known: Set<string>;
  private readonly tenants: Map<string, string>;
  private readonly overrides: Map<string, string>;
  private readonly prefixes: Array<{ prefix: string; cluster: string }>;
  private readonly ring: HashRing | undefined;

  constructor(private readonly rules: ClusterRoutingRules) {
    this.known = new Set(rules.clusters);
    this.tenants = new Map(Object.entries(rules.tenants ?? {}));
    this.overrides = new Map(Object.entries(rules.overrides ?? {}));
    this.prefixes = [...(rules.prefixes ?? [])];
    this.ring = rules.hashRing ? new HashRing(rules.hashRing.clusters, rules.hashRing.virtualNodes) : undefined;
  }

  clusterOf(tenantId: string): string {
    const override = this.overrides.get(tenantId);
    if (override !== undefined) return override;
    const explicit = this.tenants.get(tenantId);
    if (explicit !== undefined) return explicit;
    for (const rule of this.prefixes) if (tenantId.startsWith(rule.prefix)) return rule.cluster;
    if (this.ring) return this.ring.nodeFor(tenantId);
    return this.rules.defaultCluster;
  }

  /** Places one tenant on a cluster, ahead of every other rule. */
  setOverride(tenantId: string, clusterId: string | undefined): void {
    if (clusterId === undefined) {
      this.overrides.delete(tenantId);
      return;
    }
    if (!this.known.has(clusterId)) throw new UnknownClusterError(clusterId);
    this.overrides.set(tenantId, clusterId);
  }
}
