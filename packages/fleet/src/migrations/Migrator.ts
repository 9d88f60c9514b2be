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
import { compareIds } from '../runner/compareIds.js';
import type { FleetContext, FleetRunOptions } from '../runner/FleetContext.js';
import { RunSessions } from '../runner/RunSessions.js';
import { type FailureInfo, toFailureInfo } from '../runner/runTenants.js';
import type { Migration } from './defineMigration.js';
import { readState, TenantLease, type TenantState } from './TenantLease.js';

/** The collection in each tenant's database holding its applied migrations and its lease. */
export const MIGRATIONS_COLLECTION = '_polymongo_migrations';

export interface MigrateOptions extends FleetRunOptions {
  migrations: readonly Migration[];
  /**
   * Default 'up'. 'down' without `to` reverts the last applied migration of each tenant (the last one when the run
   * read the tenant first: two concurrent runs revert it once, not one migration each).
   */
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
  /** Applied ids, sorted; `[]` when `error` is set. */
  applied: string[];
  /** Ids of the given migrations not applied, in id order; every one of them when `error` is set. */
  pending: string[];
  /**
   * Set when the tenant's state could not be read (`{ name, code, message }`, message redacted, as in `migrate`'s
   * `failed`): a server error (its code, e.g. 13 Unauthorized) or MIGRATION_STATE_UNKNOWN. Absent otherwise.
   */
  error?: FailureInfo;
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
async function appliedIds(db: Db, tenant: string): Promise<Set<string>> {
  return (await readState(db, MIGRATIONS_COLLECTION, tenant)).applied;
}

/** Whether every one of `steps` is still to do in `state` (another runner may have done some meanwhile). */
function stillPending(steps: Migration[], state: TenantState, direction: 'up' | 'down'): boolean {
  return steps.every((m) => state.applied.has(m.id) === (direction === 'down'));
}

/** Thrown inside a step's transaction to roll it back: its lease or record was not ours to write (nothing ran). */
class NotOurs extends Error {}

const WRITE_CONFLICT = 112;
const NAMESPACE_EXISTS = 48;
const DUPLICATE_KEY = 11000;

/** What a step needs besides the migration. */
interface StepTarget {
  db: Db;
  tenant: string;
  records: Collection<Document>;
  lease: TenantLease;
  direction: 'up' | 'down';
  /** The tenant's pool (`route(tenant).poolKey`): whether transactions work is known per pool, not per Fleet. */
  pool: string;
  /** The run's session for this tenant's commands, once its pool ran a transaction (else each command has its own). */
  session: ClientSession | undefined;
  /** A step failed: the session is not reused. */
  failed: boolean;
}

/** Migrations per tenant: state and a lease in the tenant's `_polymongo_migrations`, a transaction per step. */
export class Migrator {
  /** Per pool key: whether its server ran a transaction (true) or refused one (false); unknown until a step tries. */
  readonly #transactions = new Map<string, boolean>();

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
    const pause = Math.max(10, Math.min(500, Math.floor(leaseMS / 10)));
    const owner = `${process.pid}-${randomUUID()}`;
    const result: MigrateResult = { applied: [], failed: [], skipped: 0, dryRun };
    const sessions = new RunSessions();
    const run = await this.ctx
      .run(async (tenant) => {
        const db = this.ctx.poly.db(tenant);
        const records = db.collection(MIGRATIONS_COLLECTION);
        if (dryRun) {
          for (const m of this.#steps(sorted, await appliedIds(db, tenant), direction, to)) result.applied.push({ tenant, id: m.id });
          return;
        }
        const pool = this.ctx.poly.route(tenant).poolKey;
        const session = this.#transactions.get(pool) === true ? sessions.take(db.client) : undefined;
        const lease = new TenantLease(records, owner, leaseMS);
        const target: StepTarget = { db, tenant, records, lease, direction, pool, session, failed: false };
        const started = Date.now();
        let finished = false;
        // 'down' without `to`: the migration that was the tenant's last at the first read. Another runner reverting it
        // meanwhile ends the tenant; the next one down is not reverted too (two concurrent runs revert one migration).
        let last: string | undefined;
        try {
          for (;;) {
            // A read first, as a hand-written loop does: an up-to-date tenant costs this one command.
            const state = await readState(db, MIGRATIONS_COLLECTION, tenant, session);
            let steps = this.#steps(sorted, state.applied, direction, to);
            if (direction === 'down' && to === undefined) {
              last ??= steps[0]?.id;
              steps = steps.filter((m) => m.id === last);
            }
            if (steps.length === 0) break;
            if (!lease.heldByOther(state) && (await this.#apply(target, steps, state, result)) === 'done') break;
            // Another runner works on this tenant (or got there first): wait for it, then read again.
            const waited = Date.now() - started;
            if (waited >= waitMS || runOptions.signal?.aborted) throw new MigrationLockedError(tenant, waited);
            await new Promise((resolve) => setTimeout(resolve, pause));
          }
          finished = true;
        } finally {
          await lease.release();
          if (session) sessions.give(db.client, session, finished && !target.failed);
        }
      }, runOptions)
      .finally(() => sessions.close());
    for (const f of run.failed) result.failed.push({ tenant: f.tenant, id: null, error: f.error });
    result.skipped = run.skipped;
    const order = (a: { tenant: string; id: string | null }, b: { tenant: string; id: string | null }) =>
      compareIds(a.tenant, b.tenant) || compareIds(String(a.id), String(b.id));
    result.applied.sort(order);
    result.failed.sort(order);
    return result;
  }

  /**
   * Runs a tenant's steps in order. 'contended' when another runner held the tenant or did a step first (nothing of
   * ours ran): the caller reads the state again. A failing step is recorded in `result` and ends the tenant.
   */
  async #apply(target: StepTarget, steps: Migration[], state: TenantState, result: MigrateResult): Promise<'done' | 'contended'> {
    const { tenant, lease, direction } = target;
    // One step and no stale lease to clear: the step's transaction alone keeps other runners out.
    const leased = steps.length > 1 || state.lease !== undefined;
    for (const [i, m] of steps.entries()) {
      const step = { last: i === steps.length - 1, leased, pending: (now: TenantState) => stillPending(steps.slice(i), now, direction) };
      let outcome: 'done' | 'contended';
      try {
        if (i > 0 && !lease.held) throw new MigrationLockedError(tenant, 0);
        if (direction === 'down' && !m.down) throw new MigrationNotReversibleError(m.id);
        outcome = await this.#step(target, m, step);
      } catch (error) {
        target.failed = true;
        result.failed.push({ tenant, id: m.id, error: toFailureInfo(error) });
        return 'done'; // later migrations build on this one
      }
      if (outcome === 'contended') return 'contended';
      if (step.last) lease.released();
      else lease.taken();
      result.applied.push({ tenant, id: m.id });
    }
    return 'done';
  }

  /**
   * One migration on one tenant: the change and its record commit together, or neither does.
   *
   * In a transaction, its first statements are the lease write (when the tenant has several steps or a stale lease)
   * and the record (an insert of `{ _id: id }`, or its delete for `down`): both fail unless this runner may act, and
   * then nothing of `up`/`down` runs. From there the transaction owns those documents: another runner's insert of
   * the same record conflicts, and mongod makes its writes to them wait for the transaction to end, however long the
   * step runs. The renewal timer is paused meanwhile (a renewal would conflict with the transaction). Without
   * transactions (a standalone server) the lease is taken by its own command first, the change runs renewed as it
   * goes, and the record comes last.
   */
  async #step(
    target: StepTarget,
    m: Migration,
    step: { last: boolean; leased: boolean; pending: (state: TenantState) => boolean },
  ): Promise<'done' | 'contended'> {
    const { db, tenant, records, lease, direction, pool, session: runSession } = target;
    const change = (session: ClientSession | undefined) => {
      const context = { db, tenant, session };
      return direction === 'up' ? m.up(context) : (m.down as NonNullable<Migration['down']>)(context);
    };
    const record = async (session: ClientSession | undefined) => {
      try {
        if (direction === 'up') await records.insertOne({ _id: m.id as never, appliedAt: new Date() }, { session });
        else if ((await records.deleteOne({ _id: m.id as never }, { session })).deletedCount === 0) throw new NotOurs();
      } catch (error) {
        // Applied (or reverted) by another runner first.
        if ((error as { code?: unknown }).code === DUPLICATE_KEY) throw new NotOurs();
        throw error;
      }
    };
    const leaseWrite = async (session: ClientSession | undefined, ending: boolean) => {
      const held = lease.held;
      if (await lease.write(ending, session)) return;
      // We held the lease, and it expired and was taken over (the other runner may do this step): roll back.
      if (held) throw new MigrationLockedError(tenant, 0);
      throw new NotOurs();
    };
    if (this.#transactions.get(pool) !== false) {
      await lease.pause();
      // Where the last attempt got to: a WriteConflict or NamespaceExists means another runner only when our own
      // statements (lease, record) or the commit raised it, never when the migration's change did.
      let phase = 'claim' as 'claim' | 'change' | 'commit';
      try {
        await this.ctx.poly.withTransaction(
          async (session) => {
            phase = 'claim';
            const started = Date.now();
            if (step.leased) await leaseWrite(session, step.last);
            await record(session);
            phase = 'change';
            await change(session);
            phase = 'claim';
            // A step that ran past a renewal period extends the lease again, so it is live when the transaction
            // commits: a takeover that waited for the transaction then finds it held.
            if (step.leased && !step.last && lease.dueSince(started)) await leaseWrite(session, false);
            phase = 'commit';
          },
          { tenants: [tenant], session: runSession },
        );
        this.#transactions.set(pool, true);
        return 'done';
      } catch (error) {
        if (error instanceof NotOurs) return 'contended';
        // Another runner's transaction wrote the same documents first (retried until it gave up), or created the
        // migrations collection while this transaction did. The same codes from up()/down() are its own failure.
        const code = (error as { code?: unknown }).code;
        if (!lease.held && phase !== 'change' && (code === WRITE_CONFLICT || code === NAMESPACE_EXISTS)) return 'contended';
        // Refused before the callback ran: a standalone server. Run without a transaction from now on.
        if (!(error instanceof PolyMongoError && error.code === 'TRANSACTIONS_UNSUPPORTED')) throw error;
        this.#transactions.set(pool, false);
      } finally {
        lease.resume();
      }
    }
    try {
      if (!lease.held) {
        // Take the lease, then make sure nobody did these steps meanwhile.
        if (!(await lease.write(false, undefined))) return 'contended';
        lease.taken();
        if (!step.pending(await readState(db, MIGRATIONS_COLLECTION, tenant))) return 'contended';
      }
      await change(undefined);
      // Record only while the lease is still ours (this write also extends it).
      await leaseWrite(undefined, false);
      await record(undefined);
      if (step.last) await lease.release();
    } catch (error) {
      if (error instanceof NotOurs) throw new MigrationLockedError(tenant, 0);
      throw error;
    }
    return 'done';
  }

  /**
   * Per tenant: applied and pending migration ids. Reads only. A tenant whose state cannot be read (a server error,
   * MIGRATION_STATE_UNKNOWN, an invalid id from a stream) does not stop the others: its entry has `applied: []`,
   * every migration in `pending` and `error`.
   */
  async status(options: { migrations: readonly Migration[] } & FleetRunOptions): Promise<MigrationStatus[]> {
    const { migrations, ...runOptions } = options ?? ({} as never);
    const sorted = checkMigrations(migrations);
    const all = sorted.map((m) => m.id);
    const out: MigrationStatus[] = [];
    const run = await this.ctx.run(async (tenant) => {
      let applied: Set<string>;
      try {
        applied = await appliedIds(this.ctx.poly.db(tenant), tenant);
      } catch (error) {
        out.push({ tenant, applied: [], pending: [...all], error: toFailureInfo(error) });
        throw error; // counted as failed by the runner (progress, stopOnError)
      }
      out.push({ tenant, applied: [...applied].sort(), pending: sorted.filter((m) => !applied.has(m.id)).map((m) => m.id) });
    }, runOptions);
    // A tenant the runner failed before reading its state (an invalid id from a stream) has no entry yet.
    const listed = new Set(out.map((s) => s.tenant));
    for (const f of run.failed) if (!listed.has(f.tenant)) out.push({ tenant: f.tenant, applied: [], pending: [...all], error: f.error });
    return out.sort((a, b) => compareIds(a.tenant, b.tenant));
  }
}
