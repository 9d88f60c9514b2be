import type { PolyMongo } from '@polymongo/native';
import type { TenantSource } from '../discovery/discoverTenants.js';
import type { RunOptions, RunResult } from './runTenants.js';

/** Options every fleet-wide operation takes. */
export interface FleetRunOptions extends RunOptions {
  /** Act on these tenants (a canary subset) instead of the discovered fleet. */
  tenants?: TenantSource;
}

/** What the fleet's parts (indexes, validators, migrations) share: the client and the bounded tenant runner. */
export interface FleetContext {
  readonly poly: PolyMongo;
  run(work: (tenant: string) => Promise<void>, options?: FleetRunOptions): Promise<RunResult>;
}
