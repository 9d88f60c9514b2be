import type { OperationInfo, PolyMongoErrorCode } from '@polymongo/core';
import { OperationWindow } from '../metrics/OperationWindow.js';

/** What the dashboard needs of a client: its events and stats. */
export interface DashboardSource {
  on(event: 'operation', listener: (op: OperationInfo) => void): () => void;
  on(event: 'tenantThrottled', listener: (e: { tenantId: string; code: string }) => void): () => void;
  stats(): {
    state: string;
    operations: { total: number; errors: number };
    pools: Array<{
      key: string;
      kind: string;
      tenant?: string;
      state: string;
      connections: { open: number; inUse: number; available: number; waiting: number };
      maxPoolSize: number;
    }>;
    tenants: { cached: number; maxCached: number; evictions: number };
    dedicatedPools: number;
    openStreams: number;
    /** Present when fairness or quotas are configured. */
    admission?: AdmissionNumbers & { tenants: Array<{ tenant: string } & AdmissionNumbers>; other: AdmissionNumbers };
  };
}

/** In flight and queued now; rejected (TENANT_OVERLOADED) and throttled (TENANT_QUOTA_EXCEEDED) since the client started. */
export interface AdmissionNumbers {
  inFlight: number;
  queued: number;
  rejected: number;
  throttled: number;
}

/** The dashboard's admission panel: totals, the hottest tenants first (at most MAX_ADMISSION_TENANTS), the rest summed. */
export interface AdmissionPanel extends AdmissionNumbers {
  tenants: Array<{ tenant: string } & AdmissionNumbers>;
  /** Every tenant not listed, summed. */
  other: AdmissionNumbers;
}

/** One point of the dashboard's history (one sampling interval). */
export interface HistoryPoint {
  ts: number;
  opsPerSec: number;
  /** Operations the server failed (driver and server errors). */
  serverErrors: number;
  /** Operations PolyMongo refused before they reached the server (validation, invalid tenant, overload, quota). */
  refusals: number;
  /** Latency percentiles of the interval in ms, overall and by command; `null` when nothing finished. */
  p50: number | null;
  p99: number | null;
  byCommand: Record<string, { p50: number; p99: number; count: number }>;
}

/** Counts of one tenant since the dashboard started, for the drill-down. */
export interface TenantDetail {
  tenant: string;
  ops: number;
  serverErrors: number;
  refusals: number;
  errorsByCode: Record<string, number>;
  p50: number | null;
  p99: number | null;
  lastSeen: number;
}

interface TenantEntry {
  ops: number;
  serverErrors: number;
  refusals: number;
  errorsByCode: Map<string, number>;
  latency: OperationWindow;
  lastSeen: number;
}

const MAX_COMMANDS = 8;
/** Rows of the admission panel: enough to see who is hot, bounded however many tenants are. */
export const MAX_ADMISSION_TENANTS = 10;

/**
 * The dashboard's server-side state: everything is bounded (a latency ring, `maxTenants` tenants kept by recency,
 * `historySize` points), so an unwatched dashboard costs O(1) per operation and a fixed amount of memory, and a
 * page opened later (or reloaded) gets the history it missed.
 */
export class DashboardModel {
  readonly #window: OperationWindow;
  readonly #tenants = new Map<string, TenantEntry>();
  readonly #history: HistoryPoint[] = [];
  readonly #interval: { ops: number; serverErrors: number; refusals: number; ms: number[]; byCommand: Map<string, number[]> };
  readonly #unsubscribe: Array<() => void>;
  readonly #timer: NodeJS.Timeout;
  #refusalsTotal = 0;
  #serverErrorsTotal = 0;

  constructor(
    private readonly source: DashboardSource,
    private readonly options: { intervalMS: number; historySize: number; maxTenants: number },
  ) {
    this.#window = new OperationWindow(10_000);
    this.#interval = { ops: 0, serverErrors: 0, refusals: 0, ms: [], byCommand: new Map() };
    this.#unsubscribe = [
      source.on('operation', (op) => this.#record(op)),
      source.on('tenantThrottled', (e) => this.#refused(e.tenantId, e.code)),
    ];
    this.#timer = setInterval(() => this.#sample(Date.now()), options.intervalMS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const off of this.#unsubscribe) off();
  }

  #tenant(id: string): TenantEntry {
    let entry = this.#tenants.get(id);
    if (entry) {
      this.#tenants.delete(id); // re-insert: the Map's order is recency
    } else {
      entry = { ops: 0, serverErrors: 0, refusals: 0, errorsByCode: new Map(), latency: new OperationWindow(60_000, 512), lastSeen: 0 };
      if (this.#tenants.size >= this.options.maxTenants) this.#tenants.delete(this.#tenants.keys().next().value as string);
    }
    this.#tenants.set(id, entry);
    return entry;
  }

  #record(op: OperationInfo): void {
    const now = Date.now();
    this.#window.add(op, now);
    const interval = this.#interval;
    interval.ops += 1;
    if (interval.ms.length < 4096) interval.ms.push(op.durationMS);
    let cmd = interval.byCommand.get(op.command);
    if (!cmd && interval.byCommand.size < MAX_COMMANDS) {
      cmd = [];
      interval.byCommand.set(op.command, cmd);
    }
    if (cmd && cmd.length < 1024) cmd.push(op.durationMS);
    // An admission refusal also arrives as `tenantThrottled` (for every operation, wrapped or not): counted there only.
    const admission = op.error !== undefined && ADMISSION_CODES.has(op.error.code as string);
    const refused = op.error !== undefined && isRefusal(op.error.code);
    if (op.error && refused) {
      if (!admission) {
        interval.refusals += 1;
        this.#refusalsTotal += 1;
      }
    } else if (op.error) {
      interval.serverErrors += 1;
      this.#serverErrorsTotal += 1;
    }
    if (op.tenantId === undefined) return;
    const entry = this.#tenant(op.tenantId);
    entry.ops += 1;
    entry.lastSeen = now;
    entry.latency.add(op, now);
    if (op.error && !admission) {
      if (refused) entry.refusals += 1;
      else entry.serverErrors += 1;
      const code = String(op.error.code ?? op.error.name);
      entry.errorsByCode.set(code, (entry.errorsByCode.get(code) ?? 0) + 1);
    }
  }

  #refused(tenantId: string, code: string): void {
    this.#interval.refusals += 1;
    this.#refusalsTotal += 1;
    const entry = this.#tenant(tenantId);
    entry.refusals += 1;
    entry.lastSeen = Date.now();
    entry.errorsByCode.set(code, (entry.errorsByCode.get(code) ?? 0) + 1);
  }

  #sample(now: number): void {
    const interval = this.#interval;
    const byCommand: HistoryPoint['byCommand'] = {};
    for (const [command, ms] of interval.byCommand) {
      if (ms.length > 0) byCommand[command] = { ...percentiles(ms), count: ms.length };
    }
    const overall = interval.ms.length > 0 ? percentiles(interval.ms) : { p50: null, p99: null };
    this.#history.push({
      ts: now,
      opsPerSec: round((interval.ops * 1000) / this.options.intervalMS),
      serverErrors: interval.serverErrors,
      refusals: interval.refusals,
      ...overall,
      byCommand,
    });
    if (this.#history.length > this.options.historySize) this.#history.shift();
    interval.ops = 0;
    interval.serverErrors = 0;
    interval.refusals = 0;
    interval.ms = [];
    interval.byCommand = new Map();
  }

  /** The newest history points (all of them by default). */
  history(last = this.#history.length): HistoryPoint[] {
    return this.#history.slice(-last);
  }

  /** The current numbers, for one SSE update. */
  snapshot(now = Date.now()) {
    const stats = this.source.stats();
    const latency = this.#window.summary(now);
    const tenants = [...this.#tenants.entries()]
      .map(([tenant, e]) => ({ tenant, ops: e.ops, serverErrors: e.serverErrors, refusals: e.refusals }))
      .sort((a, b) => b.ops + b.refusals - (a.ops + a.refusals))
      .slice(0, 20);
    return {
      ts: now,
      state: stats.state,
      totalOps: stats.operations.total,
      serverErrors: this.#serverErrorsTotal,
      refusals: this.#refusalsTotal,
      opsPerSec: round(latency.opsPerSec),
      p50: latency.p50 === undefined ? null : round(latency.p50),
      p99: latency.p99 === undefined ? null : round(latency.p99),
      pools: stats.pools.map((p) => ({
        key: p.key,
        kind: p.kind,
        state: p.state,
        open: p.connections.open,
        inUse: p.connections.inUse,
        available: p.connections.available,
        waiting: p.connections.waiting,
        max: p.maxPoolSize,
      })),
      topTenants: tenants,
      cachedTenants: stats.tenants.cached,
      maxCachedTenants: stats.tenants.maxCached,
      evictions: stats.tenants.evictions,
      dedicatedPools: stats.dedicatedPools,
      openStreams: stats.openStreams,
      admission: stats.admission ? this.#admission(stats.admission) : null,
      point: this.#history.at(-1) ?? null,
    };
  }

  /**
   * The admission panel from the client's admission stats: tenants ranked by what they hold or wait for now, then by
   * refusals since the dashboard started (so a tenant being refused now ranks above one refused an hour ago), cut
   * to MAX_ADMISSION_TENANTS; the cut ones are added to `other`.
   */
  #admission(a: NonNullable<ReturnType<DashboardSource['stats']>['admission']>): AdmissionPanel {
    const recentRefusals = (tenant: string) => this.#tenants.get(tenant)?.refusals ?? 0;
    const ranked = [...a.tenants].sort(
      (x, y) =>
        y.inFlight + y.queued - (x.inFlight + x.queued) ||
        recentRefusals(y.tenant) - recentRefusals(x.tenant) ||
        y.rejected + y.throttled - (x.rejected + x.throttled),
    );
    const shown = ranked.slice(0, MAX_ADMISSION_TENANTS).map((t) => ({
      tenant: t.tenant,
      inFlight: t.inFlight,
      queued: t.queued,
      rejected: t.rejected,
      throttled: t.throttled,
    }));
    const other = { inFlight: a.other.inFlight, queued: a.other.queued, rejected: a.other.rejected, throttled: a.other.throttled };
    for (const t of ranked.slice(MAX_ADMISSION_TENANTS)) {
      other.inFlight += t.inFlight;
      other.queued += t.queued;
      other.rejected += t.rejected;
      other.throttled += t.throttled;
    }
    return { inFlight: a.inFlight, queued: a.queued, rejected: a.rejected, throttled: a.throttled, tenants: shown, other };
  }

  /** One tenant's counts, or undefined when the dashboard has not seen it (or forgot it: only `maxTenants` are kept). */
  tenant(id: string, now = Date.now()): TenantDetail | undefined {
    const e = this.#tenants.get(id);
    if (!e) return undefined;
    const latency = e.latency.summary(now);
    return {
      tenant: id,
      ops: e.ops,
      serverErrors: e.serverErrors,
      refusals: e.refusals,
      errorsByCode: Object.fromEntries(e.errorsByCode),
      p50: latency.p50 === undefined ? null : round(latency.p50),
      p99: latency.p99 === undefined ? null : round(latency.p99),
      lastSeen: e.lastSeen,
    };
  }
}

/** Refusals of fairness and quotas, which the client also reports as `tenantThrottled`. */
const ADMISSION_CODES: ReadonlySet<string> = new Set<PolyMongoErrorCode>(['TENANT_OVERLOADED', 'TENANT_QUOTA_EXCEEDED']);

/**
 * PolyMongo's codes for what it refuses before the server is asked (bad input, tenant rules, admission). Everything
 * else is a server error, including PolyMongo's connectivity codes (CONNECTION_FAILED, AUTH_FAILED, PING_TIMEOUT)
 * and Node's upper-case system codes (ECONNRESET), which a pattern on the code's spelling would count as refusals.
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set<PolyMongoErrorCode>([
  'CONFIG_INVALID',
  'INVALID_TENANT',
  'TENANT_REQUIRED',
  'UNKNOWN_CLUSTER',
  'CLIENT_CLOSED',
  'DEDICATED_POOL_LIMIT',
  'TRANSACTIONS_UNSUPPORTED',
  'CROSS_CLUSTER_TRANSACTION',
  'CROSS_TENANT_WRITE',
  'VALIDATION_FAILED',
  'TENANT_OVERLOADED',
  'TENANT_QUOTA_EXCEEDED',
]);

function isRefusal(code: string | number | undefined): boolean {
  return typeof code === 'string' && REFUSAL_CODES.has(code);
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
  return { p50: round(at(0.5)), p99: round(at(0.99)) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
