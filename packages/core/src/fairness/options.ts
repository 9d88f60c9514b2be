import type { z } from 'zod';

/**
 * Per-tenant admission on shared pools: a tenant runs at most `maxConcurrentPerTenant` operations at once, the rest
 * wait in its own bounded queue, and when a pool is busy the tenants' queues are served in weighted turns, so one
 * tenant flooding a shared pool cannot make every other tenant wait behind it. Off unless given.
 *
 * @example
 * createPolyMongo({ uri, fairness: { maxConcurrentPerTenant: 2, queueTimeoutMS: 2_000 } });
 */
export interface FairnessOptions {
  /** Operations of one tenant running at once (a cursor counts from its first batch until exhausted or closed). Default 10. */
  maxConcurrentPerTenant?: number;
  /** Operations of one tenant waiting for a slot; one more is rejected at once with TENANT_OVERLOADED. 0: no queue. Default 100. */
  maxQueuedPerTenant?: number;
  /** How long an operation may wait for a slot before it is rejected with TENANT_OVERLOADED, in ms. Default 5,000. */
  queueTimeoutMS?: number;
  /**
   * A tenant's share when tenants wait for the same pool: weight 2 is served twice as often as weight 1. Called once
   * per tenant (when its admission state is created); a non-positive or non-finite result counts as 1. Default: 1 for all.
   */
  weight?: (tenant: string) => number;
}

/** One tenant's rate: a token bucket of `burst` tokens refilled at `opsPerSecond`. */
export interface TenantQuota {
  /** Sustained operations per second. Unset: no rate limit. */
  opsPerSecond?: number;
  /** Operations allowed at once above the sustained rate (the bucket size). Default: `opsPerSecond` rounded up, at least 1. */
  burst?: number;
}

/**
 * Per-tenant rate limits: each operation takes a token from its tenant's bucket; with none left it is rejected at
 * once with TENANT_QUOTA_EXCEEDED and `retryAfterMS`, never delayed. Off unless given.
 *
 * @example
 * createPolyMongo({ uri, quotas: { opsPerSecond: 200, burst: 400, perTenant: (t) => (t === 'bigco' ? { opsPerSecond: 2_000 } : undefined) } });
 */
export interface QuotaOptions extends TenantQuota {
  /** A tenant's own quota, replacing the fields it sets; `undefined` keeps the defaults. Called once per tenant state. */
  perTenant?: (tenant: string) => TenantQuota | undefined;
}

type Zod = typeof z;
const isFunction = (v: unknown) => typeof v === 'function';

/** The fairness and quota schemas, built from the zod the options schema is built from (loaded on first use). */
export function fairnessSchemas(z: Zod) {
  const fairness = z
    .object({
      maxConcurrentPerTenant: z.number().int().min(1).max(100_000).default(10),
      maxQueuedPerTenant: z.number().int().min(0).max(1_000_000).default(100),
      queueTimeoutMS: z.number().int().min(1).max(3_600_000).default(5_000),
      weight: z.custom<(tenant: string) => number>(isFunction, 'must be a function (tenant) => number').optional(),
    })
    .strict() satisfies z.ZodType<unknown, FairnessOptions>;

  const quotas = z
    .object({
      opsPerSecond: z.number().positive().max(10_000_000).optional(),
      burst: z.number().int().min(1).max(10_000_000).optional(),
      perTenant: z
        .custom<(tenant: string) => TenantQuota | undefined>(
          isFunction,
          'must be a function (tenant) => { opsPerSecond?, burst? } | undefined',
        )
        .optional(),
    })
    .strict() satisfies z.ZodType<unknown, QuotaOptions>;
  return { fairness, quotas };
}

/** Fairness options with every default applied. */
export type ResolvedFairness = z.output<ReturnType<typeof fairnessSchemas>['fairness']>;
/** Quota options as validated. */
export type ResolvedQuotas = z.output<ReturnType<typeof fairnessSchemas>['quotas']>;
