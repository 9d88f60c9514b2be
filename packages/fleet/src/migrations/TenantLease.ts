import type { Collection, Document } from 'mongodb';
import { MigrationLockedError } from '../errors.js';

/** The lease document's _id in `_polymongo_migrations` (migration ids may not start with "__"). */
export const LEASE_ID = '__lease__';
const DUPLICATE_KEY = 11000;

/**
 * A per-tenant lock with an expiry, kept in the tenant's own `_polymongo_migrations`: renewed every leaseMS / 3 while
 * held, taken over by another runner once expired (its holder crashed).
 */
export class TenantLease {
  #timer: NodeJS.Timeout | undefined;
  #lost = false;

  constructor(
    private readonly records: Collection<Document>,
    private readonly owner: string,
    private readonly leaseMS: number,
  ) {}

  /** False once a renewal found the lease taken over: stop working on the tenant. */
  get held(): boolean {
    return !this.#lost;
  }

  async #tryAcquire(): Promise<boolean> {
    const now = Date.now();
    try {
      await this.records.updateOne(
        { _id: LEASE_ID as never, $or: [{ owner: this.owner }, { expiresAt: { $lte: new Date(now) } }] },
        { $set: { owner: this.owner, expiresAt: new Date(now + this.leaseMS) } },
        { upsert: true },
      );
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  /** Waits up to `waitMS` for the lease; MIGRATION_LOCKED when another runner keeps it. */
  async acquire(tenant: string, waitMS: number, signal?: AbortSignal): Promise<void> {
    const started = Date.now();
    const pause = Math.max(10, Math.min(500, Math.floor(this.leaseMS / 10)));
    while (!(await this.#tryAcquire())) {
      if (Date.now() - started >= waitMS || signal?.aborted) throw new MigrationLockedError(tenant, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.leaseMS / 3)));
    this.#timer.unref();
  }

  async #renew(): Promise<void> {
    try {
      const { matchedCount } = await this.records.updateOne(
        { _id: LEASE_ID as never, owner: this.owner },
        { $set: { expiresAt: new Date(Date.now() + this.leaseMS) } },
      );
      if (matchedCount === 0) this.#lost = true;
    } catch {
      // A failed renewal is retried by the next tick; expiry protects the other runners meanwhile.
    }
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    await this.records.deleteOne({ _id: LEASE_ID as never, owner: this.owner }).catch(() => undefined);
  }
}
