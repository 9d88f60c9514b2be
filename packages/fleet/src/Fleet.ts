import type { Readable } from 'node:stream';
import { auditLog, type PolyMongo, type TenantScope } from '@polymongo/native';
import { auditExport, auditFleet } from './audit/auditFleet.js';
import { checkDiscover, type DiscoverOption, type OnSkip, resolveSource, type TenantSource } from './discovery/discoverTenants.js';
import { FleetSpecError } from './errors.js';
import { IndexFleet } from './indexes/IndexFleet.js';
import type { Migration } from './migrations/defineMigration.js';
import { type MigrateOptions, type MigrateResult, type MigrationStatus, Migrator } from './migrations/Migrator.js';
import type { FleetContext, FleetRunOptions } from './runner/FleetContext.js';
import { type RunResult, runTenants } from './runner/runTenants.js';
import { type SchemaDiffOptions, type SchemaDiffResult, schemaDiff } from './schema/schemaDiff.js';
import { type ExportOptions, exportTenant, type ImportOptions, type ImportResult, importTenant } from './transfer/tenantExport.js';
import { ValidatorFleet } from './validators/ValidatorFleet.js';

export interface FleetOptions {
  /** Where tenants come from. Default `'databases'`: listDatabases mapped back through the tenantDb naming. */
  discover?: DiscoverOption;
}

/** Options of `copyTenant`: those of `importTenant`, plus which indexes to copy and where to. */
export interface CopyOptions extends ImportOptions {
  /** Copy index definitions too. Default true. */
  indexes?: boolean;
  /** Another PolyMongo client (another deployment) to copy to. Default: this fleet's client. */
  target?: PolyMongo;
}

/** `forEach`'s result: tenants done, failures (each named), and tenants skipped (checkpoint, abort). */
export type ForEachResult = RunResult;

/**
 * Operations over every tenant of a PolyMongo client: discovery, bounded-concurrency loops, index and validator sync,
 * migrations, export/import and schema diffs. Create it with `createFleet(poly)`.
 */
export class Fleet implements FleetContext {
  readonly poly: PolyMongo;
  readonly indexes: IndexFleet;
  readonly validators: ValidatorFleet;
  readonly #discover: DiscoverOption;
  readonly #migrator: Migrator;

  constructor(poly: PolyMongo, options: FleetOptions = {}) {
    this.poly = poly;
    this.#discover = checkDiscover(options.discover);
    this.indexes = new IndexFleet(this);
    this.validators = new ValidatorFleet(this);
    this.#migrator = new Migrator(this);
  }

  /**
   * Applies pending migrations on every tenant in id order (or reverts them with `direction: 'down'`), each step in a
   * transaction together with its record in `_polymongo_migrations` (whose `_id` is the migration's, so no runner
   * applies one twice), under a per-tenant lease while a runner works through several steps. Bad input (duplicate ids, unknown `to`, no `down`) throws before anything runs.
   *
   * @example
   * const report = await fleet.migrate({ migrations: [addStatus], concurrency: 16 });
   */
  migrate(options: MigrateOptions): Promise<MigrateResult> {
    const details = { direction: options?.direction ?? 'up', ...(options?.to ? { to: options.to } : {}) };
    return auditFleet(
      this.poly,
      'fleet.migrate',
      { details, dryRun: options?.dryRun },
      () => this.#migrator.migrate(options),
      (r) => ({ failed: r.failed, succeeded: r.applied.length, details: { applied: r.applied.length, skipped: r.skipped } }),
    );
  }

  /**
   * A tenant as a Readable of canonical Extended JSON lines (collection options, indexes, documents with their BSON
   * types). Returned at once; errors arrive as stream errors.
   *
   * @example
   * await pipeline(fleet.exportTenant('acme'), createWriteStream('acme.ejson'));
   */
  exportTenant(tenant: string, options?: ExportOptions): Readable {
    return auditExport(this.poly, tenant, exportTenant(this.poly, tenant, options));
  }

  /** Reads an export into `tenant` in batches with backpressure; refuses a non-empty tenant (TENANT_NOT_EMPTY) unless `drop`. */
  importTenant(tenant: string, input: AsyncIterable<unknown>, options?: ImportOptions): Promise<ImportResult> {
    return auditLog(this.poly).run({ action: 'fleet.import', tenant, details: { drop: options?.drop === true } }, () =>
      importTenant(this.poly, tenant, input, options),
    );
  }

  /**
   * Copies a tenant's collections (with their options, validators included), documents and (unless `indexes: false`)
   * indexes to another tenant, on this client's clusters or, with `target`, on another PolyMongo client (another
   * deployment). Documents a validator refuses fail the copy with VALIDATION_FAILED unless `bypassDocumentValidation`.
   *
   * @example
   * await fleet.copyTenant('acme', 'acme-staging', { drop: true, bypassDocumentValidation: true });
   */
  copyTenant(from: string, to: string, options: CopyOptions = {}): Promise<ImportResult> {
    const { indexes = true, target = this.poly, ...importOptions } = options;
    const details = { from, indexes, drop: importOptions.drop === true, otherClient: target !== this.poly };
    return auditLog(this.poly).run({ action: 'fleet.copy', tenant: to, details }, async () => {
      target.route(to); // INVALID_TENANT before reading anything
      return importTenant(target, to, exportTenant(this.poly, from, { indexes }), importOptions);
    });
  }

  /**
   * Samples `sample` (default 1,000) documents of a tenant's collection and reports fields missing, extra and of the
   * wrong type against a zod or Mongoose schema.
   */
  schemaDiff(tenant: string, options: SchemaDiffOptions): Promise<SchemaDiffResult> {
    return schemaDiff(this.poly, tenant, options);
  }

  /**
   * Per tenant: applied and pending migration ids, sorted by tenant. Reads only. A tenant whose state cannot be read
   * (a server error, MIGRATION_STATE_UNKNOWN) does not stop the others: its entry has `error` (`{ name, code,
   * message }`), `applied: []` and every migration in `pending`. Bad input (duplicate ids, an invalid id in a
   * `tenants` list) still rejects before anything runs.
   */
  migrationStatus(options: { migrations: readonly Migration[] } & FleetRunOptions): Promise<MigrationStatus[]> {
    return this.#migrator.status(options);
  }

  /**
   * The tenant ids, streamed: from discovery, or from `tenants` when given (validated). With `'databases'` discovery,
   * each database that is not yielded (admin, local and config excepted) is passed to `onSkip` and logged through the
   * client's logger: debug for a name that does not map back to a tenant placed on that cluster (another app's
   * database), warn for a lookup that threw (with the error's code).
   *
   * @example
   * let skipped = 0;
   * for await (const id of fleet.tenants({ onSkip: () => skipped++ })) console.log(id);
   */
  async *tenants(options: { tenants?: TenantSource; onSkip?: OnSkip } = {}): AsyncGenerator<string> {
    const { ids } = await resolveSource(this.poly, this.#discover, options.tenants, options.onSkip);
    yield* ids;
  }

  /**
   * Runs `fn` once per tenant with at most `concurrency` (default 8) at a time. A failing tenant is recorded in
   * `failed` and the others go on; an aborted signal resolves the call, counting unstarted tenants as `skipped`.
   *
   * @example
   * const { done, failed } = await fleet.forEach(async (scope) => {
   *   await scope.collection('orders').updateMany({ status: { $exists: false } }, { $set: { status: 'open' } });
   * }, { concurrency: 16, onProgress: (p) => console.log(p.done, p.total) });
   */
  forEach(fn: (scope: TenantScope) => Promise<unknown>, options: FleetRunOptions = {}): Promise<ForEachResult> {
    if (typeof fn !== 'function') throw new FleetSpecError('forEach needs a function: fleet.forEach(async (scope) => { ... }).');
    return this.run(async (tenant) => {
      await fn(this.poly.tenant(tenant));
    }, options);
  }

  /** The bounded runner behind every fleet-wide operation. */
  async run(work: (tenant: string) => Promise<void>, options: FleetRunOptions = {}): Promise<RunResult> {
    const { tenants, ...runOptions } = options;
    const source = await resolveSource(this.poly, this.#discover, tenants);
    // Lists and discovered tenants were routed (validated) by resolveSource; a streamed id is validated as it comes.
    const checked = source.validated
      ? work
      : (tenant: string) => {
          this.poly.route(tenant); // INVALID_TENANT for this tenant before any network call
          return work(tenant);
        };
    return runTenants(source.ids, source.total, checked, runOptions);
  }
}

/**
 * A fleet over a PolyMongo client (from `createPolyMongo`, or a Mongoose adapter's `poly`).
 *
 * @example
 * const fleet = createFleet(poly, { discover: 'databases' });
 * const plan = await fleet.indexes.plan([Users, Orders]);
 */
export function createFleet(poly: PolyMongo, options?: FleetOptions): Fleet {
  return new Fleet(poly, options);
}
