import { TypedEmitter } from '@polymongo/core';
import type { ChangeStream, ResumeToken } from 'mongodb';
import { asError, type Change, CommitLedger, closedOnPurpose, Signal } from './ChangePump.js';

/** Events of a `watchAll` fan-out. */
export interface FanOutEvents {
  /** A change of a watched tenant (after its `onTenant` listeners ran). */
  change: { tenantId: string; change: Change };
  /** A change whose database maps to no tenant (e.g. function naming without an inverse): not delivered. */
  unrouted: { dbName: string; change: Change };
  /** The stream failed for good, or a handler threw; the fan-out has stopped. Also a PolyMongo `error` event. */
  error: Error;
}

/** How a fan-out pulls and where it reports; set by the watch manager. */
export interface FanOutFlow {
  handler: ((tenantId: string, change: Change) => unknown) | undefined;
  maxInFlight: number;
  tenantOfDb(dbName: string): string | undefined;
  /** Called in event order once a change and every earlier one are handled (or skipped as unrouted). */
  commit?(streamIndex: number, token: ResumeToken): void;
  unrouted(dbName: string, change: Change): void;
}

interface TenantLane {
  running: number;
  waiting: Array<{ change: Change; settle: () => void }>;
}

/**
 * One change stream per cluster, fanned out by tenant: N watched tenants cost one cursor per cluster, not N.
 * With a `handler`, each tenant has at most `maxInFlight` unresolved calls and as many changes waiting; when a tenant's
 * waiting list is full the cluster stream stops pulling (it is one cursor, so the lagging tenant holds back the
 * others) and resumes as soon as that tenant catches up. Nothing is buffered without bound.
 *
 * @example
 * const fan = poly.watchAll({ tenants: ['acme', 'globex'], collection: 'orders' });
 * fan.onTenant('acme', (change) => console.log(change.operationType));
 * fan.on('change', ({ tenantId }) => metrics.inc(tenantId));
 * await fan.close();
 */
export class TenantFanOut {
  /**
   * Resolves once every cluster's stream is open on the server: a change made after `await fan.ready` is delivered.
   * Rejects if starting failed (also an `error` event).
   */
  readonly ready: Promise<void>;
  readonly #events: TypedEmitter<FanOutEvents>;
  readonly #streams: ChangeStream[] = [];
  readonly #perTenant = new Map<string, Set<(change: Change) => void>>();
  readonly #lanes = new Map<string, TenantLane>();
  readonly #freed = new Signal();
  readonly #report: (error: Error) => void;
  #closed = false;
  #failed = false;

  /** `report` makes an error visible (PolyMongo `error` event, log line, counter) without stopping anything. */
  constructor(start: (fan: TenantFanOut) => Promise<void>, report: (error: Error) => void) {
    this.#report = report;
    this.#events = new TypedEmitter((_event, error) => report(asError(error)));
    this.ready = start(this);
    this.ready.catch((error) => this.#fail(asError(error)));
  }

  /** Calls `listener` with the changes of one tenant; returns an unsubscribe function. */
  onTenant(tenantId: string, listener: (change: Change) => void): () => void {
    let set = this.#perTenant.get(tenantId);
    if (!set) {
      set = new Set();
      this.#perTenant.set(tenantId, set);
    }
    set.add(listener);
    return () => set?.delete(listener);
  }

  /** Subscribes to `change`, `unrouted` or `error`; returns an unsubscribe function. */
  on<K extends keyof FanOutEvents>(event: K, listener: (payload: FanOutEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Number of server cursors behind this fan-out (one per cluster). */
  get cursorCount(): number {
    return this.#streams.length;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Changes waiting for a tenant's handler, summed over tenants (bounded by `maxInFlight` per tenant). */
  get waiting(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.waiting.length;
    return n;
  }

  /**
   * @internal Starts pulling one cluster stream. Resolves once the server has opened it (its first batch came back),
   * so a change made after that is delivered; `ready` waits for every cluster's stream this way.
   */
  attach(stream: ChangeStream, flow: FanOutFlow): Promise<void> {
    if (this.#closed) {
      void stream.close();
      return Promise.resolve();
    }
    const index = this.#streams.push(stream) - 1;
    return new Promise((opened) => void this.#pump(stream, index, flow, opened));
  }

  async #pump(stream: ChangeStream, index: number, flow: FanOutFlow, opened: () => void): Promise<void> {
    try {
      await this.#pull(stream, index, flow, opened);
    } finally {
      opened();
    }
  }

  async #pull(stream: ChangeStream, index: number, flow: FanOutFlow, opened: () => void): Promise<void> {
    const ledger = new CommitLedger();
    const settle = (entry: ReturnType<CommitLedger['add']>) => {
      const token = ledger.settle(entry);
      if (token !== undefined && !this.#failed) flow.commit?.(index, token);
    };
    let opening = true;
    while (!this.#closed && !this.#failed && !stream.closed) {
      while (this.#full(flow) && !this.#closed && !this.#failed) await this.#freed.wait();
      if (this.#closed || this.#failed) return;
      let change: Change;
      try {
        // The first pull is tryNext: it opens the cursor and returns at once (null when nothing has happened yet).
        const next = opening ? await stream.tryNext() : await stream.next();
        if (opening) {
          opening = false;
          opened();
        }
        if (next === null) continue;
        change = next;
      } catch (error) {
        if (!this.#closed && !closedOnPurpose(stream, error)) this.#fail(asError(error));
        return;
      }
      const entry = ledger.add(change._id);
      const dbName = (change as { ns?: { db?: string } }).ns?.db;
      const tenantId = dbName === undefined ? undefined : flow.tenantOfDb(dbName);
      if (tenantId === undefined) {
        if (dbName !== undefined) {
          flow.unrouted(dbName, change);
          this.#events.emit('unrouted', { dbName, change });
        }
        settle(entry);
        continue;
      }
      for (const listener of this.#perTenant.get(tenantId) ?? []) {
        try {
          listener(change);
        } catch (error) {
          this.#report(asError(error));
        }
      }
      this.#events.emit('change', { tenantId, change });
      if (!flow.handler) {
        settle(entry);
        continue;
      }
      this.#lane(tenantId).waiting.push({ change, settle: () => settle(entry) });
      this.#drain(tenantId, flow);
    }
  }

  #lane(tenantId: string): TenantLane {
    let lane = this.#lanes.get(tenantId);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      this.#lanes.set(tenantId, lane);
    }
    return lane;
  }

  /** A tenant has as many changes waiting as it may run: stop pulling until it catches up. */
  #full(flow: FanOutFlow): boolean {
    for (const lane of this.#lanes.values()) if (lane.waiting.length >= flow.maxInFlight) return true;
    return false;
  }

  #drain(tenantId: string, flow: FanOutFlow): void {
    const lane = this.#lane(tenantId);
    const handler = flow.handler;
    if (!handler) return;
    while (lane.running < flow.maxInFlight && lane.waiting.length > 0 && !this.#failed) {
      const next = lane.waiting.shift() as TenantLane['waiting'][number];
      lane.running += 1;
      Promise.resolve()
        .then(() => handler(tenantId, next.change))
        .then(
          () => {
            lane.running -= 1;
            next.settle();
            if (lane.running === 0 && lane.waiting.length === 0) this.#lanes.delete(tenantId);
            else this.#drain(tenantId, flow);
            this.#freed.notify();
          },
          (error) => this.#fail(asError(error)),
        );
    }
  }

  #fail(error: Error): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    this.#freed.notify();
    this.#report(error);
    this.#events.emit('error', error);
    void this.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#freed.notify();
    // Streams attached while starting are closed by attach() once #closed is set.
    await Promise.all(this.#streams.splice(0).map((s) => s.close().catch(() => undefined)));
    await this.ready.catch(() => undefined);
  }
}
