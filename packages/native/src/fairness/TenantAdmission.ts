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
/** Transactions running now: while there are none, no operation's options need looking at. */
let runningTransactions = 0;

export function markTransactionSession(session: ClientSession): () => void {
  transactionSessions.add(session);
  runningTransactions += 1;
  let marked = true;
  return () => {
    if (!marked) return;
    marked = false;
    runningTransactions -= 1;
    transactionSessions.delete(session);
  };
}

/** Whether the last argument is options naming a session of a PolyMongo transaction. */
export function inTransaction(args: unknown[]): boolean {
  if (runningTransactions === 0) return false;
  const options = args[args.length - 1] as { session?: unknown } | null | undefined;
  return typeof options === 'object' && options !== null && transactionSessions.has(options.session as ClientSession);
}

/** One tenant's admission on one pool, as the native handle applies it to every operation. */
export class TenantAdmission {
  private cached: TenantGate | undefined;

  constructor(
    readonly controller: AdmissionController,
    readonly tenantId: string,
    private readonly poolKey: string,
    private readonly capacity: number,
  ) {}

  /** The tenant's gate, kept between operations until the controller retires it (no map lookup per operation). */
  gate(): TenantGate {
    const cached = this.cached;
    if (cached !== undefined && !cached.retired && cached.lane.key === this.poolKey) return cached;
    const gate = this.controller.gate(this.tenantId, this.poolKey, this.capacity);
    this.cached = gate;
    return gate;
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
   * asked for a batch for CURSOR_IDLE_RELEASE_MS (its next batch then waits for a slot again). Only the cursor's
   * public API is used: its read methods, `rewind`, `clone`, `explain`/`count`, and its `close` event.
   */
  cursor<C extends AbstractCursor>(cursor: C): C {
    const admitted = cursor as unknown as AdmittedCursor;
    if (admitted[SLOT] !== undefined) return cursor;
    const slot = new CursorSlot(this, cursor);
    admitted[SLOT] = slot;
    // Every way of reading a driver cursor (toArray, for await, forEach, stream) reads through next, tryNext or hasNext.
    admitted.next = admittedNext;
    admitted.tryNext = admittedTryNext;
    admitted.hasNext = admittedHasNext;
    admitted.rewind = admittedRewind;
    admitted.clone = admittedClone;
    if (typeof slot.explain === 'function') admitted.explain = admittedExplain;
    if (typeof slot.count === 'function') admitted.count = admittedCount;
    cursor.on('close', releaseOnClose);
    return cursor;
  }
}

const SLOT = Symbol('polymongo.cursorSlot');

type Read = () => Promise<unknown>;
type Command = (...args: unknown[]) => Promise<unknown>;

interface AdmittedCursor {
  [SLOT]: CursorSlot | undefined;
  next: Read;
  tryNext: Read;
  hasNext: Read;
  rewind: () => void;
  clone: () => AbstractCursor;
  explain?: Command;
  count?: Command;
}

/**
 * The slot of one cursor, and the cursor's own methods (from its prototype) that its admitted ones call. The admitted
 * methods are shared functions reading this through `this`, so wrapping a cursor makes one object, not a closure per
 * method.
 */
class CursorSlot {
  gate: TenantGate | undefined;
  waiting: Promise<void> | undefined;
  started = false;
  reading = 0;
  idle: ReturnType<typeof setTimeout> | undefined;
  readonly next: Read;
  readonly tryNext: Read;
  readonly hasNext: Read;
  readonly rewind: () => void;
  readonly clone: () => AbstractCursor;
  readonly explain: Command | undefined;
  readonly count: Command | undefined;

  constructor(
    readonly admission: TenantAdmission,
    readonly cursor: AbstractCursor,
  ) {
    const own = cursor as unknown as AdmittedCursor;
    this.next = own.next;
    this.tryNext = own.tryNext;
    this.hasNext = own.hasNext;
    this.rewind = own.rewind;
    this.clone = own.clone;
    this.explain = own.explain;
    this.count = own.count;
  }

  /** A read: admitted when it will fetch a batch (nothing buffered, cursor open); others pass straight through. */
  read(original: Read): Promise<unknown> {
    const cursor = this.cursor;
    if (cursor.bufferedCount() > 0 || cursor.closed) return original.call(cursor);
    clearTimeout(this.idle);
    if (this.gate !== undefined) return this.fetch(original);
    let wait: Promise<void> | undefined;
    try {
      wait = this.take();
    } catch (error) {
      return Promise.reject(error);
    }
    return wait === undefined ? this.fetch(original) : wait.then(() => this.fetch(original));
  }

  /** Gives the slot back (idempotent): on close, on exhaustion, after idling, on rewind. */
  release(): void {
    clearTimeout(this.idle);
    const gate = this.gate;
    if (gate === undefined) return;
    this.gate = undefined;
    this.admission.controller.release(gate);
  }

  /** Takes the slot: the first batch as an operation (one quota token), later ones, after an idle release, as a resume. */
  private take(): Promise<void> | undefined {
    if (this.waiting !== undefined) return this.waiting;
    const gate = this.admission.gate();
    const wait = this.admission.controller.acquire(gate, this.started ? 'resume' : 'operation');
    this.started = true;
    if (wait === undefined) {
      this.gate = gate;
      return undefined;
    }
    this.waiting = wait.then(
      () => {
        this.waiting = undefined;
        this.gate = gate;
      },
      (error: unknown) => {
        // Refused after waiting: its token was given back, so the next try is a first batch again.
        this.waiting = undefined;
        this.started = false;
        throw error;
      },
    );
    return this.waiting;
  }

  private fetch(original: Read): Promise<unknown> {
    this.reading += 1;
    let result: Promise<unknown>;
    try {
      result = original.call(this.cursor);
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.finally(() => this.fetched());
  }

  private fetched(): void {
    this.reading -= 1;
    if (this.cursor.closed || this.cursor.killed) this.release();
    else if (this.gate !== undefined && this.reading === 0) {
      clearTimeout(this.idle);
      this.idle = setTimeout(releaseIdle, CURSOR_IDLE_RELEASE_MS, this);
      this.idle.unref?.();
    }
  }
}

function releaseIdle(slot: CursorSlot): void {
  slot.release();
}

function slotOf(cursor: unknown): CursorSlot {
  return (cursor as AdmittedCursor)[SLOT] as CursorSlot;
}

function admittedNext(this: AbstractCursor): Promise<unknown> {
  const slot = slotOf(this);
  return slot.read(slot.next);
}

function admittedTryNext(this: AbstractCursor): Promise<unknown> {
  const slot = slotOf(this);
  return slot.read(slot.tryNext);
}

function admittedHasNext(this: AbstractCursor): Promise<unknown> {
  const slot = slotOf(this);
  return slot.read(slot.hasNext);
}

/** A rewound cursor runs its query again: it gives its slot back, and its next first batch takes a token again. */
function admittedRewind(this: AbstractCursor): void {
  const slot = slotOf(this);
  slot.release();
  slot.started = false;
  slot.rewind.call(this);
}

/** A clone is a new cursor over the same query: admitted like the original. */
function admittedClone(this: AbstractCursor): AbstractCursor {
  const slot = slotOf(this);
  return slot.admission.cursor(slot.clone.call(this));
}

/** `explain()` and `count()` run a command of their own, outside the cursor's batches: one slot each. */
function admittedExplain(this: AbstractCursor, ...args: unknown[]): Promise<unknown> {
  const slot = slotOf(this);
  return slot.admission.run(this, slot.explain as Command, args);
}

function admittedCount(this: AbstractCursor, ...args: unknown[]): Promise<unknown> {
  const slot = slotOf(this);
  return slot.admission.run(this, slot.count as Command, args);
}

function releaseOnClose(this: AbstractCursor): void {
  slotOf(this).release();
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
