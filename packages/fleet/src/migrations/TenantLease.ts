import type { ClientSession, Collection, Document } from 'mongodb';

/**
 * The `_id` of the one document in `_polymongo_migrations` that holds a tenant's migration state: `applied` (one
 * `{ id, appliedAt }` record per applied migration) and, while a runner works, `lease: { owner, expiresAt }`.
 * Migration ids may not start with "__", so no id can collide with it.
 */
export const STATE_ID = '__migrations__';

export interface AppliedRecord {
  id: string;
  appliedAt: Date;
}

export interface StateDocument {
  _id: typeof STATE_ID;
  applied?: AppliedRecord[];
  lease?: { owner: string; expiresAt: Date };
}

const DUPLICATE_KEY = 11000;

/** The applied migration ids of a state document (none when it does not exist). */
export function appliedOf(state: Pick<StateDocument, 'applied'> | null | undefined): Set<string> {
  return new Set((state?.applied ?? []).map((r) => r.id));
}

/** Reads a tenant's state (one findOne): the first command of every tenant, and all a dry run or status sends. */
export async function readState(records: Collection<Document>): Promise<StateDocument | null> {
  return (await records.findOne({ _id: STATE_ID as never })) as StateDocument | null;
}

/**
 * A per-tenant lock with an expiry inside the tenant's state document, so two runners never work on one tenant.
 *
 * With transactions it is taken by the first step's record write (the first statement of its transaction, filtered
 * on "free, expired or ours") and released by the last step's: a one-step tenant never shows a lease outside its
 * transaction, and the transaction's write lock on the state document keeps other runners out meanwhile (mongod
 * makes their writes to it wait for the transaction to end). Between steps it is renewed every leaseMS / 3, and it is
 * taken over once expired (its holder crashed). During a step's transaction the timer is paused: a renewal committed
 * after the transaction's snapshot would make the step's state write fail with WriteConflict.
 *
 * Without transactions (a standalone server) it is taken by its own command before the first step and renewed while
 * the steps run.
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

  /** Filter of the state document as long as this runner holds the lease (for writes that must not outlive it). */
  get ownFilter(): Document {
    return { _id: STATE_ID, 'lease.owner': this.owner };
  }

  /** Filter of the state document when this runner may take the lease: none, expired, or already ours. */
  get freeFilter(): Document {
    return {
      _id: STATE_ID,
      $or: [{ lease: { $exists: false } }, { 'lease.expiresAt': { $lte: new Date() } }, { 'lease.owner': this.owner }],
    };
  }

  /** The lease this runner writes now (taking or extending it). */
  get fresh(): { owner: string; expiresAt: Date } {
    return { owner: this.owner, expiresAt: new Date(Date.now() + this.leaseMS) };
  }

  /** Another runner's lease that has not expired: wait for it. */
  heldByOther(state: StateDocument | null): boolean {
    const lease = state?.lease;
    return lease !== undefined && lease !== null && lease.owner !== this.owner && lease.expiresAt.getTime() > Date.now();
  }

  /**
   * Without transactions: takes the lease with its own command and returns the state as it is now, or null when
   * another runner holds it (or created the state document at the same moment).
   */
  async take(upsert: boolean): Promise<StateDocument | null> {
    try {
      const state = (await this.records.findOneAndUpdate(
        this.freeFilter,
        { $set: { lease: this.fresh } },
        { upsert, returnDocument: 'after' },
      )) as StateDocument | null;
      if (state) this.taken();
      return state;
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return null;
      throw error;
    }
  }

  /** A write of ours (a step's transaction, or `take`) holds the lease from now on: renew it until released. */
  taken(): void {
    this.#held = true;
    this.resume();
  }

  /** Stops renewing (a transaction is about to write the state document) once a renewal in flight has landed. */
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
      const { matchedCount } = await this.records.updateOne(this.ownFilter, { $set: { 'lease.expiresAt': this.fresh.expiresAt } });
      if (matchedCount === 0 && this.#held) this.#lost = true;
    } catch {
      // A failed renewal is retried by the next tick; expiry protects the other runners meanwhile.
    }
  }

  /** The last step's write released the lease with its record: stop renewing, nothing to send. */
  released(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#held = false;
  }

  /** Releases the lease (after a failure, or when no step released it). */
  async release(session?: ClientSession): Promise<void> {
    await this.pause();
    if (!this.#held) return;
    this.#held = false;
    await this.records.updateOne(this.ownFilter, { $unset: { lease: '' } }, { session }).catch(() => undefined);
  }
}
