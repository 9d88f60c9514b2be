import { adapterHost, type PolyMongo } from '@polymongo/native';
import type { MongoClient } from 'mongodb';
import { FleetSpecError } from '../errors.js';

/**
 * Where the fleet's tenants come from: `'databases'` (listDatabases of every cluster, mapped back through the tenantDb
 * naming and kept where the tenant is placed on that cluster; the default), a registry collection in one tenant's database (one document per tenant; the id in `field`, default
 * `_id`), or a function yielding ids.
 */
export type DiscoverOption =
  | 'databases'
  | { tenant: string; collection: string; field?: string; filter?: Record<string, unknown> }
  | (() => AsyncIterable<string> | Iterable<string>);

/** Tenant ids to act on: the whole fleet from discovery, or a subset (`tenants` option) as an iterable of ids. */
export type TenantSource = Iterable<string> | AsyncIterable<string>;

export interface ResolvedSource {
  /** The ids: an array when they are known up front (a list, database discovery), else a stream. */
  ids: readonly string[] | AsyncIterable<string>;
  /** Known up front for lists and database discovery; undefined for streams. */
  total: number | undefined;
  /** True when every id was already routed (validated) here: the runner need not route it again. */
  validated: boolean;
}

const SYSTEM_DATABASES = new Set(['admin', 'local', 'config']);
/** A throwing naming function is a `lookup-failed` skip, not "not a tenant database". */
const STRICT = { strict: true } as const;

/**
 * A database `listDatabases` returned that discovery did not yield (admin, local and config are never counted).
 * - `not-a-tenant`: the naming does not map its name back to a valid tenant id — another app's database (normal);
 * - `placed-elsewhere`: its name maps to a tenant placed on another cluster (a copy left behind by a move);
 * - `lookup-failed`: mapping the name (`poly.tenantForDatabase`) or routing its tenant threw an error other than
 *   INVALID_TENANT — a bug or misconfiguration (a throwing `tenantDb`/`tenantDbInverse` function, read with
 *   `poly.tenantForDatabase(name, { strict: true })`); the tenant, if it is one, is missing from this discovery.
 */
export interface SkippedDatabase {
  database: string;
  cluster: string;
  reason: 'not-a-tenant' | 'placed-elsewhere' | 'lookup-failed';
  /** For `lookup-failed`: the error's `code` (a PolyMongoError's or the driver's), else its class name. */
  code?: string;
}

/** Called once per database discovery skips (system databases excepted). */
export type OnSkip = (skip: SkippedDatabase) => void;

type WithInverse = PolyMongo & { tenantForDatabase?: (dbName: string, options?: { strict?: boolean }) => string | undefined };

/** Every cluster's shared MongoClient, by cluster id (one entry without `clusters`), through native's adapter host. */
function clusterClients(poly: PolyMongo): Array<{ clusterId: string; client: MongoClient }> {
  const host = adapterHost(poly);
  return host.settings.clusterIds.map((clusterId) => ({ clusterId, client: host.sharedPool(clusterId).pool.client as MongoClient }));
}

/** An error's code for a log line or a skip: never its message (it may quote a name, a URI or user data). */
function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return error instanceof Error ? error.name : typeof error;
}

/**
 * The tenants whose database lives on `clusterId` and who are placed there: a database left on a cluster its tenant
 * no longer routes to (a copy before a move) is not that tenant, so no tenant is yielded twice. Every other database
 * but admin/local/config is reported: a debug log line (a warn line when a lookup threw) and `onSkip`.
 */
function tenantsOnCluster(poly: PolyMongo, clusterId: string, names: string[], onSkip: OnSkip | undefined): string[] {
  const inverse = (poly as WithInverse).tenantForDatabase;
  const logger = adapterHost(poly).logger;
  const tenants: string[] = [];
  const skip = (database: string, reason: SkippedDatabase['reason'], code?: string) => {
    const entry: SkippedDatabase =
      code === undefined ? { database, cluster: clusterId, reason } : { database, cluster: clusterId, reason, code };
    if (reason === 'lookup-failed') logger.warn(entry, 'fleet discovery: looking up the tenant of a database threw; database skipped');
    else logger.debug(entry, 'fleet discovery: database skipped (not a tenant database placed on this cluster)');
    onSkip?.(entry);
  };
  for (const name of names) {
    if (SYSTEM_DATABASES.has(name)) continue;
    // One route per database: it validates the tenant and says where it is placed (the route of a tenant that does
    // not map back to `name` is not this database's).
    try {
      const tenant = typeof inverse === 'function' ? inverse.call(poly, name, STRICT) : name;
      if (tenant === undefined) {
        skip(name, 'not-a-tenant');
        continue;
      }
      const route = poly.route(tenant);
      if (route.dbName === name && route.clusterId === clusterId) tenants.push(tenant);
      else skip(name, route.dbName === name ? 'placed-elsewhere' : 'not-a-tenant');
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code === 'INVALID_TENANT') skip(name, 'not-a-tenant');
      else skip(name, 'lookup-failed', codeOf(error));
    }
  }
  return tenants;
}

async function* fromRegistry(
  poly: PolyMongo,
  registry: { tenant: string; collection: string; field?: string; filter?: Record<string, unknown> },
): AsyncGenerator<string> {
  const field = registry.field ?? '_id';
  const cursor = poly
    .db(registry.tenant)
    .collection(registry.collection)
    .find(registry.filter ?? {}, { projection: { [field]: 1 } })
    .sort({ [field]: 1 });
  try {
    for await (const doc of cursor) {
      const id = field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], doc);
      if (typeof id === 'string' && id.length > 0) yield id;
    }
  } finally {
    await cursor.close();
  }
}

/** Ids of an async source are validated by the runner as they come, so a bad one fails only itself. */
async function* fromIterable(ids: TenantSource): AsyncGenerator<string> {
  yield* ids;
}

function isIterable(value: unknown): value is Iterable<string> {
  return typeof (value as Iterable<string> | null)?.[Symbol.iterator] === 'function' && typeof value !== 'string';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<string> {
  return typeof (value as AsyncIterable<string> | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * The ids an operation acts on. A synchronous `tenants` list is validated whole before anything runs (INVALID_TENANT
 * with no network call); async sources are validated id by id.
 */
export async function resolveSource(
  poly: PolyMongo,
  discover: DiscoverOption,
  tenants?: TenantSource,
  onSkip?: OnSkip,
): Promise<ResolvedSource> {
  if (tenants !== undefined) {
    if (isIterable(tenants)) {
      const list = [...tenants];
      for (const id of list) poly.route(id);
      return { ids: list, total: list.length, validated: true };
    }
    if (isAsyncIterable(tenants)) return { ids: fromIterable(tenants), total: undefined, validated: false };
    throw new FleetSpecError('tenants must be an iterable or async iterable of tenant ids (for example an array).');
  }
  if (discover === 'databases') {
    // One listDatabases per cluster (its names only; the driver returns them as one array anyway).
    const lists = await Promise.all(
      clusterClients(poly).map(async ({ clusterId, client }) => {
        const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
        return tenantsOnCluster(
          poly,
          clusterId,
          databases.map((d) => d.name),
          onSkip,
        );
      }),
    );
    const ids = lists.length === 1 ? (lists[0] as string[]) : lists.flat();
    return { ids, total: ids.length, validated: true };
  }
  if (typeof discover === 'function') {
    const source = discover();
    if (!isIterable(source) && !isAsyncIterable(source)) {
      throw new FleetSpecError('discover() must return an iterable or async iterable of tenant ids.');
    }
    return { ids: fromIterable(source), total: undefined, validated: false };
  }
  return { ids: fromIterable(fromRegistry(poly, discover)), total: undefined, validated: false };
}

export function checkDiscover(discover: unknown): DiscoverOption {
  if (discover === undefined || discover === 'databases') return 'databases';
  if (typeof discover === 'function') return discover as DiscoverOption;
  const registry = discover as { tenant?: unknown; collection?: unknown } | null;
  if (typeof registry?.tenant === 'string' && typeof registry.collection === 'string') return discover as DiscoverOption;
  throw new FleetSpecError(
    "discover must be 'databases', { tenant, collection } naming a registry collection, or a function returning tenant ids.",
  );
}
