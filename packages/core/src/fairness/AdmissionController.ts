import { ClientClosedError, type OverloadReason, TenantOverloadedError, TenantQuotaExceededError } from '../errors/errors.js';
import type { ResolvedFairness, ResolvedQuotas } from './options.js';
import { type Ready, ReadyHeap } from './ReadyHeap.js';
import { TokenBucket } from './TokenBucket.js';

/**
 * What a slot is for. `operation`: a command or a cursor's first batch (a tenant slot and a pool slot, one quota
 * token). `resume`: a cursor's next batch after its idle slot was given back (slots, no token). `transaction`: held
 * for a transaction's whole run (a tenant slot only, one token), so transactions never wait on each other for pool
 * slots and, taken in tenant order, never deadlock.
 */
export type SlotKind = 'operation' | 'resume' | 'transaction';

/** Emitted when a tenant's operation is refused: over its queue or queue timeout, or over its quota. */
export interface TenantThrottledEvent {
  tenantId: string;
  code: 'TENANT_OVERLOADED' | 'TENANT_QUOTA_EXCEEDED';
  reason: OverloadReason | 'quota';
  /** For quota refusals: when one more operation would be allowed. */
  retryAfterMS?: number;
}

/** Live and cumulative admission numbers of one tenant. */
export interface TenantAdmissionNumbers {
  /** Operations holding a slot now (open cursors and running transactions included). */
  inFlight: number;
  /** Operations waiting for a slot now. */
  queued: number;
  /** Operations refused with TENANT_OVERLOADED (queue full or queue timeout). */
  rejected: number;
  /** Operations refused with TENANT_QUOTA_EXCEEDED. */
  throttled: number;
}

/** The admission part of `stats()`: totals, the busiest tenants by name, every other tenant summed as `other`. */
export interface AdmissionStats extends TenantAdmissionNumbers {
  tenants: Array<{ tenant: string } & TenantAdmissionNumbers>;
  other: TenantAdmissionNumbers;
}

export interface AdmissionControllerOptions {
  fairness: ResolvedFairness | undefined;
  quotas: ResolvedQuotas | undefined;
  onThrottled?: (event: TenantThrottledEvent) => void;
  /** Milliseconds on a monotonic clock; tests pass a fake one. */
  now?: () => number;
}

interface Waiter {
  readonly gate: TenantGate;
  readonly kind: SlotKind;
  readonly charged: boolean;
  resolve(): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The operations of one pool: at most `capacity` hold a pool slot; ready tenants wait in weighted turns. */
class PoolLane {
  active = 0;
  /** The pass of the tenant served last: a tenant that becomes ready starts here, with no credit for idle time. */
  vtime = 0;
  readonly ready = new ReadyHeap<TenantGate>();

  constructor(
    readonly key: string,
    readonly capacity: number,
  ) {}
}

/** One tenant's admission state. Dropped when idle; everything it counts is also in the controller's totals. */
export class TenantGate implements Ready, TenantAdmissionNumbers {
  pass = 0;
  seq = 0;
  inHeap = false;
  inFlight = 0;
  rejected = 0;
  throttled = 0;
  /** Set once the controller no longer uses this gate (dropped when idle, or replaced): callers caching it ask again. */
  retired = false;
  readonly queue: Waiter[] = [];
  /** Releases one `operation` slot of this gate: made once per gate, so releasing allocates nothing per operation. */
  readonly releaseOperation: () => void;

  constructor(
    readonly tenantId: string,
    public lane: PoolLane,
    readonly weight: number,
    readonly bucket: TokenBucket | undefined,
    release: (gate: TenantGate) => void,
  ) {
    this.releaseOperation = () => release(this);
  }

  get queued(): number {
    return this.queue.length;
  }
}

const UNLIMITED = Number.POSITIVE_INFINITY;
const SWEEP_FLOOR = 1024;

/**
 * Per-tenant admission over shared pools: in-flight limits, bounded per-tenant queues served in weighted fair turns
 * (stride scheduling: each dispatch advances a tenant's pass by 1/weight; the lowest pass goes next), queue
 * timeouts and token-bucket quotas. Driver-agnostic: adapters call `acquire` before an operation and `release`
 * after it.
 */
export class AdmissionController {
  private readonly gates = new Map<string, TenantGate>();
  private readonly lanes = new Map<string, PoolLane>();
  private readonly limit: number;
  private readonly maxQueued: number;
  private readonly queueTimeoutMS: number;
  private readonly now: () => number;
  private totalRejected = 0;
  private totalThrottled = 0;
  private seq = 0;
  private sweepAt = SWEEP_FLOOR;
  private closed = false;

  constructor(private readonly options: AdmissionControllerOptions) {
    this.limit = options.fairness?.maxConcurrentPerTenant ?? UNLIMITED;
    this.maxQueued = options.fairness?.maxQueuedPerTenant ?? UNLIMITED;
    this.queueTimeoutMS = options.fairness?.queueTimeoutMS ?? 0;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * The admission state of a tenant on a pool of `capacity` connections; cheap to call per operation. A caller may
   * keep the gate and use it again for as long as it is not `retired`.
   */
  gate(tenantId: string, poolKey: string, capacity: number): TenantGate {
    const existing = this.gates.get(tenantId);
    if (existing !== undefined && (existing.lane.key === poolKey || !this.isIdle(existing))) return existing;
    if (this.gates.size >= this.sweepAt) this.sweep();
    const fairness = this.options.fairness;
    const created = new TenantGate(
      tenantId,
      this.lane(poolKey, fairness ? capacity : UNLIMITED),
      fairness?.weight ? sanitizeWeight(fairness.weight(tenantId)) : 1,
      existing?.bucket ?? this.bucketFor(tenantId),
      this.releaseOne,
    );
    if (existing) {
      existing.retired = true;
      created.rejected = existing.rejected;
      created.throttled = existing.throttled;
    }
    this.gates.set(tenantId, created);
    return created;
  }

  /**
   * Takes a slot for `gate`: returns `undefined` when it was taken at once, else a promise that resolves once it is
   * taken. Throws TenantQuotaExceededError (over quota) or TenantOverloadedError (queue full) at once; the promise
   * rejects with TenantOverloadedError when the wait exceeds `queueTimeoutMS`. Every slot taken must be released.
   */
  acquire(gate: TenantGate, kind: SlotKind = 'operation'): Promise<void> | undefined {
    if (this.closed) throw new ClientClosedError();
    const charged = kind !== 'resume' && gate.bucket !== undefined;
    if (charged) {
      const retryAfterMS = (gate.bucket as TokenBucket).take(this.now());
      if (retryAfterMS > 0) {
        gate.throttled += 1;
        this.totalThrottled += 1;
        this.options.onThrottled?.({ tenantId: gate.tenantId, code: 'TENANT_QUOTA_EXCEEDED', reason: 'quota', retryAfterMS });
        throw new TenantQuotaExceededError(gate.tenantId, retryAfterMS);
      }
    }
    const usesPool = kind !== 'transaction';
    if (gate.queue.length === 0 && gate.inFlight < this.limit && (!usesPool || gate.lane.active < gate.lane.capacity)) {
      gate.inFlight += 1;
      if (usesPool) gate.lane.active += 1;
      return undefined;
    }
    if (gate.queue.length >= this.maxQueued) {
      if (charged) gate.bucket?.refund();
      throw this.overloaded(gate, 'queue_full', this.maxQueued);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { gate, kind, charged, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => this.timeOut(waiter), this.queueTimeoutMS);
      waiter.timer.unref?.();
      gate.queue.push(waiter);
      this.serve(gate);
      this.pump(gate.lane);
    });
  }

  private readonly releaseOne = (gate: TenantGate): void => this.release(gate);

  /** Gives back a slot taken with the same `kind`, and hands freed slots to waiting tenants in fair order. */
  release(gate: TenantGate, kind: SlotKind = 'operation'): void {
    gate.inFlight -= 1;
    if (kind !== 'transaction') gate.lane.active -= 1;
    this.serve(gate);
    this.pump(gate.lane);
  }

  /**
   * Takes transaction slots for several tenants, one after another in tenant-id order (a fixed order, so two
   * transactions over the same tenants cannot each hold one and wait for the other). Returns the release function.
   */
  async acquireAll(gates: TenantGate[]): Promise<() => void> {
    const ordered = [...new Set(gates)].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
    const held: TenantGate[] = [];
    const releaseAll = () => {
      for (const gate of held.splice(0)) this.release(gate, 'transaction');
    };
    try {
      for (const gate of ordered) {
        const wait = this.acquire(gate, 'transaction');
        if (wait) await wait;
        held.push(gate);
      }
    } catch (error) {
      releaseAll();
      throw error;
    }
    return releaseAll;
  }

  /** Refuses new operations and rejects every waiting one with CLIENT_CLOSED; running ones finish as they will. */
  close(): void {
    this.closed = true;
    for (const gate of this.gates.values()) {
      for (const waiter of gate.queue.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new ClientClosedError());
      }
    }
  }

  stats(top = 10): AdmissionStats {
    const rows: Array<{ tenant: string } & TenantAdmissionNumbers> = [];
    let inFlight = 0;
    let queued = 0;
    for (const g of this.gates.values()) {
      inFlight += g.inFlight;
      queued += g.queue.length;
      if (g.inFlight + g.queue.length + g.rejected + g.throttled > 0)
        rows.push({ tenant: g.tenantId, inFlight: g.inFlight, queued: g.queue.length, rejected: g.rejected, throttled: g.throttled });
    }
    rows.sort((a, b) => b.inFlight + b.queued - (a.inFlight + a.queued) || b.rejected + b.throttled - (a.rejected + a.throttled));
    const shown = rows.slice(0, top);
    const other = { inFlight: inFlight, queued: queued, rejected: this.totalRejected, throttled: this.totalThrottled };
    for (const r of shown) {
      other.inFlight -= r.inFlight;
      other.queued -= r.queued;
      other.rejected -= r.rejected;
      other.throttled -= r.throttled;
    }
    return { inFlight, queued, rejected: this.totalRejected, throttled: this.totalThrottled, tenants: shown, other };
  }

  /** Serves a tenant's queue head while it can: transaction slots at once, others by joining the pool's turns. */
  private serve(gate: TenantGate): void {
    while (gate.queue.length > 0 && gate.inFlight < this.limit) {
      const head = gate.queue[0] as Waiter;
      if (head.kind !== 'transaction') {
        if (!gate.inHeap) {
          gate.pass = Math.max(gate.pass, gate.lane.vtime);
          gate.seq = ++this.seq;
          gate.inHeap = true;
          gate.lane.ready.push(gate);
        }
        return;
      }
      gate.queue.shift();
      this.start(head);
    }
  }

  /** Hands free pool slots to ready tenants, lowest pass first. */
  private pump(lane: PoolLane): void {
    while (lane.active < lane.capacity && lane.ready.size > 0) {
      const gate = lane.ready.pop() as TenantGate;
      gate.inHeap = false;
      const head = gate.queue[0];
      // A tenant whose waiters timed out, or that reached its limit meanwhile, has left its turn.
      if (head === undefined || gate.inFlight >= this.limit) continue;
      if (head.kind === 'transaction') {
        this.serve(gate);
        continue;
      }
      lane.vtime = gate.pass;
      gate.queue.shift();
      this.start(head);
      gate.pass += 1 / gate.weight;
      this.serve(gate);
    }
  }

  private start(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.gate.inFlight += 1;
    if (waiter.kind !== 'transaction') waiter.gate.lane.active += 1;
    waiter.resolve();
  }

  private timeOut(waiter: Waiter): void {
    const { gate } = waiter;
    const at = gate.queue.indexOf(waiter);
    if (at === -1) return;
    gate.queue.splice(at, 1);
    if (waiter.charged) gate.bucket?.refund();
    waiter.reject(this.overloaded(gate, 'queue_timeout', this.queueTimeoutMS));
    // The next waiter may be a transaction that can start now.
    this.serve(gate);
    this.pump(gate.lane);
  }

  private overloaded(gate: TenantGate, reason: OverloadReason, limit: number): TenantOverloadedError {
    gate.rejected += 1;
    this.totalRejected += 1;
    this.options.onThrottled?.({ tenantId: gate.tenantId, code: 'TENANT_OVERLOADED', reason });
    return new TenantOverloadedError(gate.tenantId, reason, limit);
  }

  private lane(key: string, capacity: number): PoolLane {
    let lane = this.lanes.get(key);
    // A pool re-created with another size gets a new lane once the old one is idle.
    if (lane === undefined || (lane.capacity !== capacity && lane.active === 0 && lane.ready.size === 0)) {
      lane = new PoolLane(key, capacity);
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private bucketFor(tenantId: string): TokenBucket | undefined {
    const quotas = this.options.quotas;
    if (!quotas) return undefined;
    const own = quotas.perTenant?.(tenantId);
    const opsPerSecond = own?.opsPerSecond ?? quotas.opsPerSecond;
    if (opsPerSecond === undefined || !(opsPerSecond > 0)) return undefined;
    const burst = own?.burst ?? (own?.opsPerSecond === undefined ? quotas.burst : undefined) ?? Math.max(1, Math.ceil(opsPerSecond));
    return new TokenBucket(opsPerSecond, burst, this.now());
  }

  private isIdle(gate: TenantGate): boolean {
    return gate.inFlight === 0 && gate.queue.length === 0;
  }

  /** Drops idle tenants whose bucket is full: they hold nothing, and a fresh state would behave the same. */
  private sweep(): void {
    const now = this.now();
    for (const [tenantId, gate] of this.gates) {
      if (this.isIdle(gate) && !gate.inHeap && (gate.bucket === undefined || gate.bucket.isFull(now))) {
        gate.retired = true;
        this.gates.delete(tenantId);
      }
    }
    this.sweepAt = Math.max(SWEEP_FLOOR, this.gates.size * 2);
  }
}

function sanitizeWeight(weight: unknown): number {
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : 1;
}
