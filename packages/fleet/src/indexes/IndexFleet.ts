import type { Db, Document, IndexDescription } from 'mongodb';
import { auditFleet } from '../audit/auditFleet.js';
import { compareIds } from '../runner/compareIds.js';
import type { FleetContext, FleetRunOptions } from '../runner/FleetContext.js';
import { firstBatchOnly } from '../runner/firstBatch.js';
import type { FleetFailure } from '../runner/runTenants.js';
import { compareIndexes, type IndexDrift } from './compareIndexes.js';
import { type IndexSpec, normaliseIndexSpec } from './indexSpec.js';

/** What `indexes.plan` and `validators.plan` return (the shape DESIGN.md settles). */
export interface PlanResult<Drift> {
  /**
   * Tenants compared. A tenant that could not be compared (an error) is neither counted here nor in `drift`: it is
   * named in `sync(spec, { dryRun: true })`'s `failed` (the CLI's plan commands name it and exit 1).
   */
  tenants: number;
  /** Only the tenants (and collections) with drift. */
  drift: Drift[];
}

/** A sync's run summary besides its drift: which tenants failed (each named) and how many were skipped. */
export interface SyncSummary<Drift> extends PlanResult<Drift> {
  /** Tenants that could not be compared or changed (not counted in `tenants`: compared + failed + skipped = all). */
  failed: FleetFailure[];
  /** Tenants not run: checkpoint, or never started after an abort. */
  skipped: number;
}

export interface IndexSyncOptions extends FleetRunOptions {
  /** Drop indexes the spec does not name (never `_id_`). Default false. */
  dropExtra?: boolean;
  /** Drop and recreate indexes whose options differ from the spec. Default false: they are only reported. */
  replaceDifferent?: boolean;
  /** Report what would change and change nothing. */
  dryRun?: boolean;
}

export interface IndexSyncResult extends SyncSummary<IndexDrift> {
  /** Indexes created (with dryRun: that would be). */
  created: number;
  dropped: number;
  replaced: number;
  dryRun: boolean;
}

const NAMESPACE_NOT_FOUND = 26;

/**
 * A collection's indexes, from one `listIndexes` command (see `firstBatchOnly`): a collection has at most 64 indexes,
 * so the first batch holds them all, and a server that leaves a cursor open anyway is read through the driver's
 * cursor. A missing collection has none.
 */
export async function listIndexes(db: Db, collection: string): Promise<Document[]> {
  try {
    return (await firstBatchOnly(db, collection, { listIndexes: collection })) ?? (await db.collection(collection).listIndexes().toArray());
  } catch (error) {
    if ((error as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return [];
    throw error;
  }
}

/** Index drift detection and sync across the fleet: one listIndexes per collection per tenant. */
export class IndexFleet {
  constructor(private readonly ctx: FleetContext) {}

  /**
   * Per tenant and collection: indexes missing, extra and different from `spec` — `{ tenants, drift }`. Changes
   * nothing. `tenants` counts the tenants compared; those that could not be are in `sync(spec, { dryRun: true })`'s
   * `failed`.
   */
  async plan(spec: IndexSpec, options: FleetRunOptions = {}): Promise<PlanResult<IndexDrift>> {
    const { tenants, drift } = await this.sync(spec, { ...options, dryRun: true });
    return { tenants, drift };
  }

  /**
   * Creates missing indexes; with `dropExtra` drops extra ones, with `replaceDifferent` recreates differing ones.
   * `dryRun` changes nothing and reports the drift.
   */
  sync(spec: IndexSpec, options: IndexSyncOptions = {}): Promise<IndexSyncResult> {
    return auditFleet(
      this.ctx.poly,
      'fleet.indexes.sync',
      { details: { dropExtra: options.dropExtra === true, replaceDifferent: options.replaceDifferent === true }, dryRun: options.dryRun },
      () => this.#sync(spec, options),
      (r) => ({
        failed: r.failed,
        succeeded: r.tenants,
        details: { created: r.created, dropped: r.dropped, replaced: r.replaced, tenants: r.tenants, skipped: r.skipped },
      }),
    );
  }

  async #sync(spec: IndexSpec, options: IndexSyncOptions): Promise<IndexSyncResult> {
    const collections = normaliseIndexSpec(spec);
    const { dropExtra = false, replaceDifferent = false, dryRun = false, ...runOptions } = options;
    const result: IndexSyncResult = { tenants: 0, drift: [], failed: [], skipped: 0, created: 0, dropped: 0, replaced: 0, dryRun };
    const run = await this.ctx.run(async (tenant) => {
      const db = this.ctx.poly.db(tenant);
      const found: IndexDrift[] = [];
      for (const { collection, indexes, descriptions } of collections) {
        const drift = compareIndexes(indexes, await listIndexes(db, collection));
        if (drift.missing.length + drift.extra.length + drift.different.length === 0) continue;
        found.push({ tenant, collection, ...drift });
        const replace = replaceDifferent ? drift.different : [];
        const drop = dropExtra ? drift.extra : [];
        const count = () => {
          result.created += drift.missing.length;
          result.replaced += replace.length;
          result.dropped += drop.length;
        };
        if (dryRun) {
          count(); // what would change
          continue;
        }
        const describe = (name: string) => descriptions.find((d) => d.name === name) as IndexDescription;
        // One dropIndexes (a list of names) and one createIndexes per collection, whatever the number of indexes.
        const dropNames = [...replace.map((d) => d.actual.name), ...drop.map((e) => e.name)];
        if (dropNames.length > 0) await db.command({ dropIndexes: collection, index: dropNames });
        const create = [...drift.missing.map((m) => describe(m.name)), ...replace.map((d) => describe(d.expected.name))];
        if (create.length > 0) await db.collection(collection).createIndexes(create);
        count();
      }
      result.tenants++;
      result.drift.push(...found);
    }, runOptions);
    result.failed = run.failed;
    result.skipped = run.skipped;
    result.drift.sort((a, b) => compareIds(a.tenant, b.tenant) || compareIds(a.collection, b.collection));
    return result;
  }
}
