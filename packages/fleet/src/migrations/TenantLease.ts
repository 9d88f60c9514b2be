import type { ClientSession, Collection, Document } from 'mongodb';
import { MigrationLockedError } from '../errors.js';

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

/** Reads a tenant's state (one findOne): for dry runs and `migrationStatus`, which never take the lease. */
export async function readState(records: Collection<Document>): Promise<StateDocument | null> {
  return (await records.findOne({ _id: STATE_ID as never })) as StateDocument | null;
}

/**
 * A per-tenant lock with an expiry inside the tenant's state document. Taking it and reading the state is one
 * command, and only happens when there is work (`hasWork`, an aggregation expression over the stored document), so
 * an up-to-date tenant costs a single round trip. Renewed every leaseMS / 3 while held, taken over by another runner
 * once expired (its holder crashed). The last step's transaction releases it together with its record.
 *
 * While a step runs in a transaction the timer is paused: the step's first statement writes this same document
 * (record and a fresh expiry), and a renewal committed after the transaction's snapshot would make that write fail
 * with WriteConflict, so the whole step retried for as long as it outlasted a renewal period.
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

  /** False once a renewal found the lease taken over: stop working on the tenant. */
  get held(): boolean {
    return this.#held && !this.#lost;
  }

  /** Filter of the state document as long as this runner holds the lease (for writes that must not outlive it). */
  get ownFilter(): Document {
    return { _id: STATE_ID, 'lease.owner': this.owner };
  }

  /**
   * One findOneAndUpdate: takes the lease when `hasWork` holds and the lease is free, expired or ours, and returns the
   * state. `upsert` creates the state document of a tenant that has none (the first `up`).
   */
  async #tryAcquire(hasWork: Document, upsert: boolean): Promise<StateDocument | null> {
    const now = new Date();
    // No lease reads as one that expired in 1970 (a date-to-date comparison, no reliance on null < date).
    const free = { $or: [{ $lte: [{ $ifNull: ['$lease.expiresAt', new Date(0)] }, now] }, { $eq: ['$lease.owner', this.owner] }] };
    const take = { $and: [hasWork, free] };
    const update = [
      { $set: { lease: { $cond: [take, { owner: this.owner, expiresAt: new Date(now.getTime() + this.leaseMS) }, '$lease'] } } },
    ];
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.records.findOneAndUpdate({ _id: STATE_ID as never }, update, {
          upsert,
          returnDocument: 'after',
        })) as StateDocument | null;
      } catch (error) {
        // Two runners upserting a new state document at once: the loser reads the winner's document next time.
        if ((error as { code?: unknown }).code === DUPLICATE_KEY && attempt < 3) continue;
        throw error;
      }
    }
  }

  /**
   * Returns the tenant's state, holding the lease when there is work. Waits (up to `waitMS`) while another runner
   * holds a live lease on a tenant with work; then MIGRATION_LOCKED.
   */
  async acquire(
    tenant: string,
    hasWork: { expression: Document; upsert: boolean; test: (state: StateDocument | null) => boolean },
    waitMS: number,
    signal?: AbortSignal,
  ): Promise<StateDocument | null> {
    const started = Date.now();
    const pause = Math.max(10, Math.min(500, Math.floor(this.leaseMS / 10)));
    for (;;) {
      const state = await this.#tryAcquire(hasWork.expression, hasWork.upsert);
      if (state?.lease?.owner === this.owner) {
        this.#held = true;
        this.resume();
        return state;
      }
      if (!hasWork.test(state)) return state; // nothing to do: no lease taken
      if (Date.now() - started >= waitMS || signal?.aborted) throw new MigrationLockedError(tenant, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** The expiry a write made now gives the lease. */
  get nextExpiry(): Date {
    return new Date(Date.now() + this.leaseMS);
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
      const { matchedCount } = await this.records.updateOne(this.ownFilter, {
        $set: { 'lease.expiresAt': this.nextExpiry },
      });
      if (matchedCount === 0 && this.#held) this.#lost = true;
    } catch {
      // A failed renewal is retried by the next tick; expiry protects the other runners meanwhile.
    }
  }

  /** The last step's transaction released the lease with its record: stop renewing, nothing to send. */
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
