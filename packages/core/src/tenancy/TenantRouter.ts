import { InvalidTenantError, TenantRequiredError } from '../errors/errors.js';
import { LruCache, type LruEntry } from '../pools/LruCache.js';
import type { ClusterRouter } from '../routing/ClusterRouter.js';
import { currentTenant } from './context.js';
import { assertDatabaseName, normalizeTenantId, type TenantCasePolicy } from './databaseName.js';
import { namingFunction, type TenantNaming } from './naming.js';

/** Where a tenant's data lives. */
export interface Route {
  readonly tenantId: string;
  readonly dbName: string;
  readonly clusterId: string;
  readonly poolKey: string;
}

/** Options of `tenantForDatabase`. */
export interface TenantForDatabaseOptions {
  /**
   * Rethrow an error of a `tenantDb` / `tenantDbInverse` function instead of answering "not a tenant database"
   * (undefined). A name that maps back to an invalid tenant id is still undefined. Default false.
   *
   * @example
   * poly.tenantForDatabase('tenant_acme', { strict: true }); // throws what a buggy tenantDbInverse throws
   */
  strict?: boolean;
}

export interface TenantRouterOptions {
  naming: TenantNaming;
  /** The inverse of a function `naming`: database name → tenant id, or undefined for other databases. */
  inverseNaming?: ((dbName: string) => string | undefined) | undefined;
  defaultTenant: string | undefined;
  strictTenancy: boolean;
  allowReservedDatabases: boolean;
  /** `reject` (default): upper-case database names are invalid; `lower`: ids are lower-cased; `preserve`: no check. */
  tenantCase?: TenantCasePolicy | undefined;
  cacheSize: number;
  clusters: Pick<ClusterRouter, 'clusterOf'>;
  /** Pool key of a tenant with a dedicated pool; undefined for the cluster's shared pool. */
  dedicatedPoolKey(tenantId: string): string | undefined;
}

interface CachedRoute extends LruEntry<string> {
  readonly route: Route;
}

/** Maps tenant ids to routes, validating each id once; routes are cached, so a repeat resolve allocates nothing. */
export class TenantRouter {
  private readonly cache: LruCache<string, CachedRoute>;
  private readonly toDbName: (tenantId: string) => string;
  private readonly casePolicy: TenantCasePolicy;
  private readonly prefix: string;

  constructor(private readonly options: TenantRouterOptions) {
    this.cache = new LruCache(options.cacheSize);
    this.toDbName = namingFunction(options.naming);
    this.casePolicy = options.tenantCase ?? 'reject';
    this.prefix = typeof options.naming === 'object' ? options.naming.prefix : '';
    if (options.defaultTenant !== undefined) this.resolve(options.defaultTenant);
  }

  /** The tenant to use: the argument, else the current `runWithTenant` tenant, else the default. */
  tenantOf(tenant?: string | null): string {
    const given = normalizeTenantId(tenant) ?? currentTenant();
    if (given !== undefined) return this.casePolicy === 'lower' ? given.toLowerCase() : given;
    if (this.options.strictTenancy || this.options.defaultTenant === undefined) throw new TenantRequiredError();
    return this.casePolicy === 'lower' ? this.options.defaultTenant.toLowerCase() : this.options.defaultTenant;
  }

  /**
   * The route of a tenant; throws InvalidTenantError before any network call when the id is not usable.
   * `cache: false` for a caller that keeps the route itself (the core's handle cache): one cached copy per tenant.
   */
  resolve(id: string, options?: { cache?: boolean }): Route {
    const hit = this.cache.get(id);
    if (hit !== undefined) return hit.route;
    const tenantId = this.casePolicy === 'lower' && typeof id === 'string' ? id.toLowerCase() : id;
    const dbName = this.resolveName(tenantId);
    const clusterId = this.options.clusters.clusterOf(tenantId);
    const route: Route = {
      tenantId,
      dbName,
      clusterId,
      poolKey: this.options.dedicatedPoolKey(tenantId) ?? sharedPoolKey(clusterId),
    };
    if (options?.cache !== false) this.cache.set({ key: tenantId, route, newer: undefined, older: undefined });
    return route;
  }

  /**
   * The tenant whose database is `dbName`, or undefined when `dbName` is not a tenant database: a system database
   * (admin, local, config), a name the naming strategy cannot produce, or one that maps back to an invalid id.
   * Identity and prefix naming are inverted here; a function naming needs its inverse (`tenantDbInverse`), and
   * without one every name is undefined. A candidate counts only if naming it again gives `dbName` back.
   */
  tenantForDatabase(dbName: string, options: TenantForDatabaseOptions = {}): string | undefined {
    if (typeof dbName !== 'string' || dbName.length === 0 || SYSTEM_DATABASES.has(dbName.toLowerCase())) return undefined;
    try {
      const inverse = this.inverse(dbName);
      if (typeof inverse !== 'string' || inverse.length === 0) return undefined;
      const candidate = this.casePolicy === 'lower' ? inverse.toLowerCase() : inverse;
      return this.resolveName(candidate) === dbName ? candidate : undefined;
    } catch (error) {
      // A name that maps to an invalid tenant id is not a tenant database; anything else (a throwing tenantDb or
      // tenantDbInverse function) is a bug the strict caller (fleet discovery) wants to see.
      if (options.strict === true && !(error instanceof InvalidTenantError)) throw error;
      return undefined;
    }
  }

  /** Forgets a cached route, after its placement or pool changed. */
  invalidate(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else this.cache.delete(tenantId);
  }

  get cachedRoutes(): number {
    return this.cache.size;
  }

  /** The database name of a tenant id, validated; throws InvalidTenantError. */
  private resolveName(tenantId: string): string {
    normalizeTenantId(tenantId);
    const dbName = this.toDbName(tenantId);
    if (typeof dbName !== 'string') {
      throw new InvalidTenantError(
        'type',
        `The tenantDb function returned ${typeof dbName} for tenant "${tenantId}"; it must return a database name string.`,
      );
    }
    // With a prefix only the id's part can vary between tenants, so only it must be lower case.
    const casedPart = this.prefix !== '' && dbName.startsWith(this.prefix) ? dbName.slice(this.prefix.length) : dbName;
    assertDatabaseName(tenantId, dbName, this.options.allowReservedDatabases, this.casePolicy, casedPart);
    return dbName;
  }

  private inverse(dbName: string): string | undefined {
    const { naming } = this.options;
    if (naming === 'identity') return dbName;
    if (typeof naming === 'function') return this.options.inverseNaming?.(dbName);
    return dbName.startsWith(naming.prefix) ? dbName.slice(naming.prefix.length) : undefined;
  }
}

// Never tenant databases, whatever the naming: MongoDB's own.
const SYSTEM_DATABASES = new Set(['admin', 'local', 'config']);

// One key string per cluster, not one per route: a route is kept for every cached tenant.
const sharedKeys = new Map<string, string>();

export function sharedPoolKey(clusterId: string): string {
  let key = sharedKeys.get(clusterId);
  if (key === undefined) {
    key = `cluster:${clusterId}`;
    if (sharedKeys.size < 1_000) sharedKeys.set(clusterId, key);
  }
  return key;
}
