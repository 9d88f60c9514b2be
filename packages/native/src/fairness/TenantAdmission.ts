import type { AdmissionController, TenantGate } from '@polymongo/core';
import type { AbstractCursor, ClientSession } from 'mongodb';

/**
 * How long a cursor may go without asking for a batch before its slot is given back, in ms. The cursor stays open
 * and usable; its next batch waits for a slot again (without taking a quota token). So a cursor left open and
 * forgotten holds its tenant's slot for at most this long.
 */
export const CURSOR_IDLE_RELEASE_MS = 1_000;

/** Sessions of PolyMongo transactions, which already hold their tenants' slots: their operations are not admitted twice. */
const transactionSessions = new WeakSet<ClientSession>();

export function markTransactionSession(session: ClientSession): () => void {
  transactionSessions.add(session);
  return () => transactionSessions.delete(session);
}

/** Whether the last argument is options naming a session of a PolyMongo transaction. */
export function inTransaction(args: unknown[]): boolean {
  const options = args[args.length - 1] as { session?: unknown } | null | undefined;
  return typeof options === 'object' && options !== null && transactionSessions.has(options.session as ClientSession);
}

interface BatchingCursor {
  fetchBatch?: () => Promise<void>;
}

/** One tenant's admission on one pool, as the native handle applies it to every operation. */
export class TenantAdmission {
  constructor(
    private readonly controller: AdmissionController,
    readonly tenantId: string,
    private readonly poolKey: string,
    private readonly capacity: number,
  ) {}

  gate(): TenantGate {
    return this.controller.gate(this.tenantId, this.poolKey, this.capacity);
  }

  /**
   * Calls `method` on `target` in a slot of the tenant (waiting in its queue if needed) and gives the slot back when
   * its promise settles. The caller gets the driver's own promise; nothing is allocated per call beyond the wait.
   */
  run<T>(target: object, method: (...args: unknown[]) => Promise<T>, args: unknown[]): Promise<T> {
    const gate = this.gate();
    let wait: Promise<void> | undefined;
    try {
      wait = this.controller.acquire(gate);
    } catch (error) {
      return Promise.reject(error);
    }
    return wait === undefined ? inSlot(gate, target, method, args) : wait.then(() => inSlot(gate, target, method, args));
  }

  /**
   * Makes a cursor take a slot for its first batch and hold it until it is exhausted or closed, or until it has not
   * asked for a batch for CURSOR_IDLE_RELEASE_MS (its next batch then waits for a slot again).
   */
  cursor<C extends AbstractCursor>(cursor: C): C {
    const batching = cursor as unknown as BatchingCursor;
    const fetchBatch = batching.fetchBatch;
    // Every way of reading a driver cursor (next, toArray, for await, stream) goes through fetchBatch.
    if (typeof fetchBatch !== 'function') return cursor;
    const controller = this.controller;
    let held: TenantGate | undefined;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let started = false;
    const release = () => {
      clearTimeout(idle);
      if (held === undefined) return;
      const gate = held;
      held = undefined;
      controller.release(gate);
    };
    batching.fetchBatch = async () => {
      clearTimeout(idle);
      if (held === undefined && !cursor.closed) {
        const gate = this.gate();
        const wait = controller.acquire(gate, started ? 'resume' : 'operation');
        started = true;
        if (wait) await wait;
        held = gate;
      }
      try {
        await fetchBatch.call(cursor);
      } finally {
        if (cursor.closed) release();
        else if (held !== undefined) {
          idle = setTimeout(release, CURSOR_IDLE_RELEASE_MS);
          idle.unref?.();
        }
      }
    };
    cursor.on('close', release);
    return cursor;
  }
}

function inSlot<T>(gate: TenantGate, target: object, method: (...args: unknown[]) => Promise<T>, args: unknown[]): Promise<T> {
  let result: Promise<T>;
  try {
    result = method.apply(target, args);
  } catch (error) {
    gate.releaseOperation();
    return Promise.reject(error);
  }
  result.then(gate.releaseOperation, gate.releaseOperation);
  return result;
}
