import type { ClientSession, Collection, Db, Document } from 'mongodb';
import { MigrationStateError } from '../errors.js';
import { firstBatchOnly } from '../runner/firstBatch.js';

/**
 * The `_id` of the lease document in `_polymongo_migrations`: `{ _id: '__lease__', owner, expiresAt }`, present while
 * a runner works through several steps of a tenant (or on a standalone server). Every other document there is one
 * applied migration, `{ _id: id, appliedAt }`. Migration ids may not start with "__", so none collides with it.
 */
export const LEASE_ID = '__lease__';

export interface LeaseDocument {
  _id: typeof LEASE_ID;
  owner: string;
  expiresAt: Date;
}

/** A tenant's migration state: the ids it has applied, and the lease while a runner holds one. */
export interface TenantState {
  applied: Set<string>;
  lease: LeaseDocument | undefined;
}

/**
 * Reads a tenant's state: one find of its (small) migrations collection, the first command for every tenant. Refuses
 * (MIGRATION_STATE_UNKNOWN) a document that is neither a record nor the lease, such as `{ _id: '__migrations__' }` of
 * an unreleased earlier layout: counting it as an applied id would run every migration again.
 */
export async function readState(db: Db, collection: string, tenant: string, session?: ClientSession): Promise<TenantState> {
  const state: TenantState = { applied: new Set(), lease: undefined };
  // One find read from its reply (see firstBatchOnly); the driver's cursor only for a tenant with over 10,000 records.
  const docs =
    (await firstBatchOnly(db, collection, { find: collection, filter: {}, batchSize: FIRST_BATCH }, session)) ??
    (await db.collection(collection).find({}, { session }).toArray());
  for (const doc of docs) {
    const id = doc._id as unknown;
    if (id === LEASE_ID) state.lease = doc as unknown as LeaseDocument;
    else if (typeof id === 'string' && id.startsWith('__')) throw new MigrationStateError(tenant, id);
    else state.applied.add(String(id));
  }
  return state;
}

/** Records a state read asks for in its first batch (each is about 60 bytes). */
const FIRST_BATCH = 10_000;

/**
 * A per-tenant lock with an expiry, so two runners do not work through one tenant's steps at once; taken over once
 * expired (its holder crashed), renewed every leaseMS / 3 while held between steps.
 *
 * With transactions, its writes are statements of the steps' transactions: the first step takes it, the last one
 * removes it, so a tenant with a single pending step needs none (its transaction is the lock: the record insert,
 * its first statement, conflicts with any other runner's). During a step's transaction the timer is paused: a
 * renewal committed after the transaction's snapshot would make the step's lease write fail with WriteConflict.
 * Without transactions (a standalone server) it is taken by its own command before the first step.
 */
export class TenantLease {
  #timer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #lost = false;
  #held = false;

  constructor(
    private readonly records: Collection<Document>,
    private readonly owner: string,
    private readonly leaseMS: number,
  ) {}

  /** True while this runner holds the lease: false before it took it, after it released it, or once a renewal found it taken over. */
  get held(): boolean {
    return this.#held && !this.#lost;
  }

  /** The lease document while it is this runner's. */
  get ownFilter(): Document {
    return { _id: LEASE_ID, owner: this.owner };
  }

  /** The lease document when this runner may take it: expired, or already its own (a missing one is upserted). */
  get freeFilter(): Document {
    return { _id: LEASE_ID, $or: [{ expiresAt: { $lte: new Date() } }, { owner: this.owner }] };
  }

  /** The expiry a write made now gives the lease. */
  get nextExpiry(): Date {
    return new Date(Date.now() + this.leaseMS);
  }

  /** Whether a renewal period has passed since `since` (a write then would have renewed the lease). */
  dueSince(since: number): boolean {
    return Date.now() - since >= this.leaseMS / 3;
  }

  /** Another runner's lease that has not expired: wait for it. */
  heldByOther(state: TenantState): boolean {
    const lease = state.lease;
    return lease !== undefined && lease.owner !== this.owner && lease.expiresAt.getTime() > Date.now();
  }

  /**
   * The lease statement of a step's transaction (or, without one, of the step itself), before its record: takes the
   * lease (first of several steps), extends it (a middle step) or removes it (the last step; also a stale lease a
   * dead runner left on a one-step tenant). False when it was not ours to write.
   */
  async write(last: boolean, session: ClientSession | undefined): Promise<boolean> {
    const filter = this.held ? this.ownFilter : this.freeFilter;
    if (last) return (await this.records.deleteOne(filter, { session })).deletedCount === 1;
    const set = this.held ? { expiresAt: this.nextExpiry } : { owner: this.owner, expiresAt: this.nextExpiry };
    try {
      const { matchedCount, upsertedCount } = await this.records.updateOne(filter, { $set: set }, { session, upsert: !this.held });
      return matchedCount + upsertedCount === 1;
    } catch (error) {
      // A live lease of another runner: the upsert's insert collides with it.
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** A write of ours holds the lease from now on: renew it until released. */
  taken(): void {
    this.#held = true;
    this.resume();
  }

  /** Stops renewing (a transaction is about to write the lease) once a renewal in flight has landed. */
  async pause(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#renewing;
  }

  /** Renews every leaseMS / 3 again, while held. */
  resume(): void {
    if (!this.held || this.#timer !== undefined) return;
    this.#timer = setInterval(
      () => {
        this.#renewing ??= this.#renew().finally(() => {
          this.#renewing = undefined;
        });
      },
      Math.max(10, Math.floor(this.leaseMS / 3)),
    );
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    try {
      const { matchedCount } = await this.records.updateOne(this.ownFilter, { $set: { expiresAt: this.nextExpiry } });
      if (matchedCount === 0 && this.#held) this.#lost = true;
    } catch {
      // A failed renewal is retried by the next tick; expiry protects the other runners meanwhile.
    }
  }

  /** The last step removed the lease: stop renewing, nothing to send. */
  released(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#held = false;
  }

  /** Releases the lease (after a failure, or when no step released it). */
  async release(): Promise<void> {
    await this.pause();
    if (!this.#held) return;
    this.#held = false;
    await this.records.deleteOne(this.ownFilter).catch(() => undefined);
  }
}

const DUPLICATE_KEY = 11000;
