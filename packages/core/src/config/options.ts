import type { FairnessOptions, QuotaOptions } from '../fairness/options.js';
import type { TenantNaming } from '../tenancy/naming.js';
import type { ProfileName } from './profiles.js';

/** The part of a pino logger PolyMongo uses. */
export interface LoggerLike {
  child(bindings: Record<string, unknown>): LoggerLike;
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Pool sizes, with the driver's names. Anything left out comes from the `profile`. */
export interface PoolOptions {
  /** Connections the pool may open, 1-10,000. Default 100 (`serverless`: 5, `high-throughput`: 200). */
  maxPoolSize?: number;
  /** Connections kept open even when idle, 0-10,000, at most `maxPoolSize`. Default 0 (`high-throughput`: 10). */
  minPoolSize?: number;
  /** Milliseconds an idle connection stays open; 0 keeps it. Default 0 (`serverless`: 10,000). */
  maxIdleTimeMS?: number;
}

/**
 * Own pools for chosen tenants, apart from their cluster's shared pool.
 *
 * @example
 * dedicated: [{ tenants: ['bigco'], maxConnections: 20, autoClose: true, ttlMS: 600_000 }]
 */
export interface DedicatedOptions {
  /** The tenant, or tenants (each gets its own pool), this entry applies to. Required. */
  tenants: string | string[];
  /** Connection string of the pool. Default: the URI of the tenant's cluster. */
  uri?: string;
  /** Connections of each dedicated pool, 1-10,000. Default 10. */
  maxConnections?: number;
  /**
   * Close the pool after `ttlMS` with no operation started and none in flight; handles kept across the close stay
   * valid and the next operation opens it again. Default false.
   */
  autoClose?: boolean;
  /** Idle time before `autoClose` closes the pool, in milliseconds. Default 300,000 (5 minutes). */
  ttlMS?: number;
  /** The driver closes a connection of this pool idle for longer (ms; 0: never). Default: the cluster's `pool.maxIdleTimeMS`. */
  maxIdleTimeMS?: number;
  /** Open the pool on first use (true) or at construction (false). Default true. */
  coldStart?: boolean;
}

/** One cluster among several; tenants are placed on clusters by `routing`. */
export interface ClusterOptions {
  /** The cluster's connection string. Required. */
  uri: string;
  /** Pool sizes for this cluster's shared pool, over the top-level `pool`. */
  pool?: PoolOptions;
}

/** How tenants are placed on clusters; the first rule that names a tenant wins, in this order. */
export interface RoutingOptions {
  /** Per-tenant placement that wins over every other rule: `{ acme: 'eu' }`. */
  overrides?: Record<string, string>;
  /** An explicit tenant → cluster map: `{ acme: 'eu', globex: 'us' }`. */
  tenants?: Record<string, string>;
  /** Tenants whose id starts with `prefix` go to `cluster`: `[{ prefix: 'eu-', cluster: 'eu' }]`. */
  prefixes?: Array<{ prefix: string; cluster: string }>;
  /** The rest spread over `clusters` by a consistent-hash ring; `virtualNodes` per cluster, default 160. */
  hashRing?: { clusters: string[]; virtualNodes?: number };
}

/** Retries of the first connect of a pool: exponential backoff with full jitter. Authentication failures stop at once. */
export interface RetryOptions {
  /** Attempts in all, 1-1,000. Default 5. */
  attempts?: number;
  /** Delay before the second attempt, in milliseconds. Default 100. */
  initialDelayMS?: number;
  /** Upper bound of any delay, in milliseconds. Default 5,000. */
  maxDelayMS?: number;
}

/** Graceful close on process signals. PolyMongo never calls `process.exit`. */
export interface ShutdownOptions {
  /** Signals that start `close()`. Default `['SIGINT', 'SIGTERM']`. */
  signals?: Array<'SIGINT' | 'SIGTERM' | 'SIGUSR2' | 'SIGHUP'>;
  /** How long `close()` waits for in-flight work, in milliseconds. Default 10,000. */
  timeoutMS?: number;
}

/**
 * Options of `createPolyMongo` and the adapters. Every field is checked at construction; a bad one throws
 * `ConfigError` (CONFIG_INVALID) naming every bad field.
 *
 * @example
 * createPolyMongo({ uri: process.env.MONGODB_URI, strictTenancy: true, tenantDb: { prefix: 'tenant_' }, pool: { maxPoolSize: 50 } });
 */
export interface PolyMongoOptions {
  /**
   * Connection string of the default cluster, `mongodb://` or `mongodb+srv://`; a database in its path is the
   * default tenant. Required unless `clusters` is given. Checked with the driver's own parser.
   * @example 'mongodb://app:secret@db1:27017,db2:27017/?replicaSet=rs0'
   */
  uri?: string;
  /** Starting point for pool sizes: `default`, `serverless` (small, cold) or `high-throughput`. Default `'default'`. */
  profile?: ProfileName;
  /** The tenant used when none is given and `strictTenancy` is off. Default: the URI's database, else `'default'`. */
  defaultTenant?: string;
  /**
   * How a tenant id becomes a database name: `'identity'`, `{ prefix: 'tenant_' }` (prefix up to 62 characters) or a
   * function. Default `'identity'`.
   * @example tenantDb: (id) => `t_${id}`
   */
  tenantDb?: TenantNaming;
  /**
   * With a function `tenantDb`: database name → tenant id, or undefined for other databases; used by
   * `tenantForDatabase` (and so by discovery). Only names that round-trip are accepted. Default: none.
   */
  tenantDbInverse?: (dbName: string) => string | undefined;
  /** Several clusters by id (1-64 letters, digits, `_`, `-`); `uri` is the cluster `default`. Default: none. */
  clusters?: Record<string, ClusterOptions>;
  /** The cluster of tenants no routing rule names. Default `'default'` with `uri`, else the first of `clusters`. */
  defaultCluster?: string;
  /** Tenant → cluster placement rules. Default: every tenant on `defaultCluster`. */
  routing?: RoutingOptions;
  /** Pool sizes of every shared pool, over the `profile`. */
  pool?: PoolOptions;
  /** Own pools for chosen tenants. Default: none. */
  dedicated?: DedicatedOptions[];
  /** Dedicated pools open at once (tenants added at run time count), 1-100,000. Default 100. */
  maxDedicatedPools?: number;
  /** Tenant handles kept in the LRU cache, 1-10,000,000; memory stays bounded at any number of tenants. Default 10,000. */
  maxCachedTenants?: number;
  /** Connect on first use (true) or at construction (false). Default true. */
  coldStart?: boolean;
  /** A missing tenant is TENANT_REQUIRED instead of the default tenant. Default false. */
  strictTenancy?: boolean;
  /** Allow tenants whose database is `admin`, `local` or `config`. Default false. */
  allowReservedDatabases?: boolean;
  /**
   * Tenant ids differing only in case: `'reject'` refuses upper-case database names (MongoDB error 13297 otherwise),
   * `'lower'` lower-cases ids (`ACME` is `acme`), `'preserve'` checks nothing. Default `'reject'`.
   */
  tenantCase?: 'reject' | 'lower' | 'preserve';
  /** Retries of a pool's first connect. Default `{ attempts: 5, initialDelayMS: 100, maxDelayMS: 5000 }`. */
  retry?: RetryOptions;
  /** A pino logger, or `{ level }` for PolyMongo's own. Credentials are always redacted. Default: level `warn`. */
  logger?: LoggerLike | { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
  /** Log operations slower than this, in milliseconds (turns on command monitoring). Default: off. */
  slowOperationMS?: number;
  /** Command monitoring for operation metrics and per-tenant counts. Default false. */
  monitorOperations?: boolean;
  /** Graceful close on signals. Default: off. */
  shutdown?: ShutdownOptions;
  /** Tenants the per-tenant operation counts keep (the busiest), 1-100,000. Default 1,000. */
  topTenantsTracked?: number;
  /** Per-tenant admission on shared pools. Default: off. */
  fairness?: FairnessOptions;
  /** Per-tenant rate limits. Default: off. */
  quotas?: QuotaOptions;
  /** Passed to every driver client (TLS, timeouts, compressors...). Default `{}`. */
  driverOptions?: Record<string, unknown>;
}
