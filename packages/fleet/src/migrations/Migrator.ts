import { randomUUID } from 'node:crypto';
import { PolyMongoError } from '@polymongo/core';
import type { ClientSession, Collection, Db, Document } from 'mongodb';
import {
  DuplicateMigrationError,
  FleetSpecError,
  MigrationLockedError,
  MigrationNotReversibleError,
  UnknownMigrationError,
} from '../errors.js';
import type { FleetContext, FleetRunOptions } from '../runner/FleetContext.js';
import { type FailureInfo, toFailureInfo } from '../runner/runTenants.js';
import type { Migration } from './defineMigration.js';
import { appliedOf, readState, type StateDocument, TenantLease } from './TenantLease.js';

/** The collection in each tenant's database holding its applied migrations and its lease. */
export const MIGRATIONS_COLLECTION = '_polymongo_migrations';

export interface MigrateOptions extends FleetRunOptions {
  migrations: readonly Migration[];
  /** Default 'up'. 'down' without `to` reverts the last applied migration of each tenant. */
  direction?: 'up' | 'down';
  /** Up: apply up to and including this id. Down: revert every migration after this id. */
  to?: string;
  /** Report what would run; write nothing at all (no records, no lease). */
  dryRun?: boolean;
  /** How long a lease lasts unless renewed, in ms. Default 30,000. */
  leaseMS?: number;
  /** How long to wait for another runner's lease on a tenant before failing it with MIGRATION_LOCKED. Default 2 × leaseMS. */
  lockWaitMS?: number;
}

export interface MigrateResult {
  /** Migrations applied (or, with direction 'down', reverted); with dryRun, those that would be. */
  applied: Array<{ tenant: string; id: string }>;
  /** `id` is null when the tenant failed before a migration started (lease, invalid tenant). */
  failed: Array<{ tenant: string; id: string | null; error: FailureInfo }>;
  /** Tenants not run: checkpoint, or never started after an abort. */
  skipped: number;
  dryRun: boolean;
}

export interface MigrationStatus {
  tenant: string;
  applied: string[];
  pending: string[];
}

const byId = (a: Migration, b: Migration) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function checkMigrations(migrations: unknown): Migration[] {
  if (!Array.isArray(migrations)) throw new FleetSpecError('migrations must be an array of defineMigration(...) results.');
  const seen = new Set<string>();
  for (const m of migrations as Migration[]) {
    if (typeof m?.id !== 'string' || typeof m.up !== 'function') {
      throw new FleetSpecError('Every migration must come from defineMigration({ id, up, down? }).');
    }
    if (seen.has(m.id)) throw new DuplicateMigrationError(m.id);
    seen.add(m.id);
  }
  return [...(migrations as Migration[])].sort(byId);
}

/** The ids of the migrations a tenant has applied. */
async function appliedIds(records: Collection<Document>): Promise<Set<string>> {
  return appliedOf(await readState(records));
}

/**
 * When a tenant has work, as an aggregation expression over its state document (evaluated by the server inside the
 * lease's findOneAndUpdate) and as the same test in JavaScript over the returned document.
 */
function workOf(sorted: Migration[], direction: 'up' | 'down', to: string | undefined) {
  const applied = { $ifNull: ['$applied.id', []] };
  if (direction === 'up') {
    const last = to === undefined ? sorted.length - 1 : sorted.findIndex((m) => m.id === to);
    const wanted = sorted.slice(0, last + 1).map((m) => m.id);
    return {
      expression: { $not: [{ $setIsSubset: [{ $literal: wanted }, applied] }] },
      upsert: wanted.length > 0,
      test: (state: StateDocument | null) => {
        const done = appliedOf(state);
        return wanted.some((id) => !done.has(id));
      },
    };
  }
  if (to === undefined) {
    return {
      expression: { $gt: [{ $size: applied }, 0] },
      upsert: false,
      test: (state: StateDocument | null) => appliedOf(state).size > 0,
    };
  }
  const after = sorted.filter((m) => m.id > to).map((m) => m.id);
  return {
    expression: { $gt: [{ $size: { $setIntersection: [{ $literal: after }, applied] } }, 0] },
    upsert: false,
    test: (state: StateDocument | null) => {
      const done = appliedOf(state);
      return after.some((id) => done.has(id));
    },
  };
}

/** Migrations per tenant: state and a lease in the tenant's `_polymongo_migrations`, a transaction per step. */
export class Migrator {
  #transactions: boolean | undefined;

  constructor(private readonly ctx: FleetContext) {}

  /** What each step of one tenant should do, in order. */
  #steps(sorted: Migration[], applied: Set<string>, direction: 'up' | 'down', to: string | undefined): Migration[] {
    if (direction === 'up') {
      const last = to === undefined ? sorted.length - 1 : sorted.findIndex((m) => m.id === to);
      return sorted.slice(0, last + 1).filter((m) => !applied.has(m.id));
    }
    const done = sorted.filter((m) => applied.has(m.id)).reverse();
    if (to !== undefined) return done.filter((m) => m.id > to);
    const unknown = [...applied].filter((id) => !sorted.some((m) => m.id === id)).sort();
    const newest = unknown.at(-1);
    if (newest !== undefined && (done[0] === undefined || newest > done[0].id)) {
      throw new UnknownMigrationError(
        newest,
        sorted.map((m) => m.id),
      );
    }
    return done.slice(0, 1);
  }

  /**
   * Applies pending migrations (or reverts, with direction 'down') on every tenant, in id order, each in a
   * transaction with its record where the server supports transactions.
   */
  async migrate(options: MigrateOptions): Promise<MigrateResult> {
    const { migrations, direction = 'up', to, dryRun = false, leaseMS = 30_000, lockWaitMS, ...runOptions } = options ?? ({} as never);
    const sorted = checkMigrations(migrations);
    if (direction !== 'up' && direction !== 'down') throw new FleetSpecError("direction must be 'up' or 'down'.");
    if (!Number.isFinite(leaseMS) || leaseMS < 100) throw new FleetSpecError('leaseMS must be a number of milliseconds, at least 100.');
    if (to !== undefined && !sorted.some((m) => m.id === to))
      throw new UnknownMigrationError(
        to,
        sorted.map((m) => m.id),
      );
    if (direction === 'down') {
      const candidates = to === undefined ? sorted : sorted.filter((m) => m.id > to);
      const irreversible = to === undefined ? (sorted.every((m) => !m.down) ? sorted.at(-1) : undefined) : candidates.find((m) => !m.down);
      if (irreversible) throw new MigrationNotReversibleError(irreversible.id);
    }
    const waitMS = lockWaitMS ?? 2 * leaseMS;
    const owner = `${process.pid}-${randomUUID()}`;
    const result: MigrateResult = { applied: [], failed: [], skipped: 0, dryRun };
    const work = workOf(sorted, direction, to);
    // Tenants of this run found up to date / with work so far: picks the cheaper first command for the next one.
    const seen = { upToDate: 0, pending: 0 };
    const run = await this.ctx.run(async (tenant) => {
      const db = this.ctx.poly.db(tenant);
      const records = db.collection(MIGRATIONS_COLLECTION);
      if (dryRun) {
        for (const m of this.#steps(sorted, await appliedIds(records), direction, to)) result.applied.push({ tenant, id: m.id });
        return;
      }
      // Mostly up to date so far (a rerun on deploy): a plain read first, so such a tenant costs one find, not a write.
      if (seen.upToDate > seen.pending && !work.test(await readState(records))) {
        seen.upToDate++;
        return;
      }
      // One command reads the state and takes the lease, only when there is work (an up-to-date tenant costs just it).
      const lease = new TenantLease(records, owner, leaseMS);
      const state = await lease.acquire(tenant, work, waitMS, runOptions.signal);
      if (!lease.held) {
        seen.upToDate++;
        return;
      }
      seen.pending++;
      try {
        const steps = this.#steps(sorted, appliedOf(state), direction, to);
        for (const [i, m] of steps.entries()) {
          if (!lease.held) throw new MigrationLockedError(tenant, 0);
          if (direction === 'down' && !m.down) throw new MigrationNotReversibleError(m.id);
          const last = i === steps.length - 1;
          try {
            await this.#step(db, tenant, records, lease, m, direction, last);
          } catch (error) {
            result.failed.push({ tenant, id: m.id, error: toFailureInfo(error) });
            return; // later migrations build on this one
          }
          if (last) lease.released();
          result.applied.push({ tenant, id: m.id });
        }
      } finally {
        await lease.release();
      }
    }, runOptions);
    for (const f of run.failed) result.failed.push({ tenant: f.tenant, id: null, error: f.error });
    result.skipped = run.skipped;
    const order = (a: { tenant: string; id: string | null }, b: { tenant: string; id: string | null }) =>
      a.tenant.localeCompare(b.tenant) || String(a.id).localeCompare(String(b.id));
    result.applied.sort(order);
    result.failed.sort(order);
    return result;
  }

  /**
   * One migration on one tenant: the change and its record commit together, or neither does. The record is written
   * only while this runner still holds the lease (else MIGRATION_LOCKED), and the last step's record releases the
   * lease in the same write.
   *
   * In a transaction the record is the FIRST statement, which also extends the lease, and the renewal timer is
   * paused: the transaction then owns the state document, so no renewal of ours conflicts with it however long the
   * step runs, and another runner's takeover waits for it to end (mongod blocks a write outside a transaction on a
   * document the transaction wrote); a takeover that came before matches nothing and rolls the step back before
   * `up`/`down` ran. Without transactions (a standalone server) the change runs first, renewed as it goes, and the
   * record after it.
   */
  async #step(
    db: Db,
    tenant: string,
    records: Collection<Document>,
    lease: TenantLease,
    m: Migration,
    direction: 'up' | 'down',
    last: boolean,
  ): Promise<void> {
    const change = (session: ClientSession | undefined) => {
      const context = { db, tenant, session };
      return direction === 'up' ? m.up(context) : (m.down as NonNullable<Migration['down']>)(context);
    };
    const record = async (session: ClientSession | undefined) => {
      const update: Document =
        direction === 'up' ? { $push: { applied: { id: m.id, appliedAt: new Date() } } } : { $pull: { applied: { id: m.id } } };
      if (last) update.$unset = { lease: '' };
      else if (session) update.$set = { 'lease.expiresAt': lease.nextExpiry };
      const filter = { ...lease.ownFilter, 'applied.id': direction === 'up' ? { $ne: m.id } : m.id };
      const { matchedCount } = await records.updateOne(filter, update, { session });
      // The lease expired and another runner took it over (and may have done this step): roll this one back.
      if (matchedCount === 0) throw new MigrationLockedError(tenant, 0);
    };
    if (this.#transactions !== false) {
      await lease.pause();
      try {
        await this.ctx.poly.withTransaction(
          async (session) => {
            await record(session);
            await change(session);
          },
          { tenants: [tenant] },
        );
        this.#transactions = true;
        return;
      } catch (error) {
        // Refused before the callback ran: a standalone server. Run without a transaction from now on.
        if (!(error instanceof PolyMongoError && error.code === 'TRANSACTIONS_UNSUPPORTED')) throw error;
        this.#transactions = false;
        lease.resume(); // the change runs outside a transaction: renew while it runs
      } finally {
        if (!last) lease.resume();
      }
    }
    await change(undefined);
    await record(undefined);
  }

  /** Per tenant: applied and pending migration ids. Reads only. */
  async status(options: { migrations: readonly Migration[] } & FleetRunOptions): Promise<MigrationStatus[]> {
    const { migrations, ...runOptions } = options ?? ({} as never);
    const sorted = checkMigrations(migrations);
    const out: MigrationStatus[] = [];
    let firstError: unknown;
    await this.ctx.run(
      async (tenant) => {
        try {
          const applied = await appliedIds(this.ctx.poly.db(tenant).collection(MIGRATIONS_COLLECTION));
          out.push({ tenant, applied: [...applied].sort(), pending: sorted.filter((m) => !applied.has(m.id)).map((m) => m.id) });
        } catch (error) {
          firstError ??= error;
          throw error;
        }
      },
      { ...runOptions, stopOnError: true },
    );
    if (firstError !== undefined) throw firstError;
    return out.sort((a, b) => a.tenant.localeCompare(b.tenant));
  }
}
