/** Pool settings for one pool: the driver's names. */
export interface PoolSettings {
  maxPoolSize: number;
  minPoolSize: number;
  maxIdleTimeMS: number;
}

export type ProfileName = 'default' | 'serverless' | 'high-throughput';

/** Starting points for pool settings; anything in `pool` overrides them. */
export const PROFILES: Record<ProfileName, PoolSettings> = {
  default: { maxPoolSize: 100, minPoolSize: 0, maxIdleTimeMS: 0 },
  // Functions come and go: few sockets each, none kept warm, idle ones closed quickly.
  serverless: { maxPoolSize: 5, minPoolSize: 0, maxIdleTimeMS: 10_000 },
  'high-throughput': { maxPoolSize: 200, minPoolSize: 10, maxIdleTimeMS: 300_000 },
};
