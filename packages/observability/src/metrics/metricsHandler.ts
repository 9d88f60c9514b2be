import { CONNECTION_STATES } from '@polymongo/core';
import type { PolyMongo } from '@polymongo/native';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Handler } from '../http.js';

export interface MetricsOptions {
  /** Register into this prom-client registry (default: a new one). */
  registry?: Registry;
  /** Per-tenant series: the busiest N tenants by name, the rest as `other` (default 20). */
  topTenants?: number;
  /** Histogram buckets for operation durations, in seconds. */
  buckets?: number[];
}

export interface PolyMongoMetrics {
  registry: Registry;
  /** Serves the Prometheus text format. */
  handler: Handler;
  /** Stops listening to the client's events. */
  stop(): void;
}

/**
 * Prometheus metrics for a PolyMongo client, all named `polymongo_*`. Operation metrics need driver command
 * monitoring: create the client with `monitorOperations: true` (repository operations are counted either way).
 *
 * @example
 * const metrics = createMetrics(poly);
 * app.get('/metrics', metrics.handler);
 */
export function createMetrics(poly: PolyMongo, options: MetricsOptions = {}): PolyMongoMetrics {
  const registry = options.registry ?? new Registry();
  const topN = options.topTenants ?? 20;
  const connections = new Gauge({
    name: 'polymongo_pool_connections',
    help: 'Connections of each pool by state, from the driver CMAP events',
    labelNames: ['pool', 'state'],
    registers: [registry],
  });
  const waiting = new Gauge({
    name: 'polymongo_pool_wait_queue',
    help: 'Operations waiting for a connection, per pool',
    labelNames: ['pool'],
    registers: [registry],
  });
  const operations = new Counter({
    name: 'polymongo_operations_total',
    help: 'Operations finished, by command',
    labelNames: ['command'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'polymongo_operation_errors_total',
    help: 'Operations that failed, by command',
    labelNames: ['command'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'polymongo_operation_duration_seconds',
    help: 'Operation duration, by command',
    labelNames: ['command'],
    buckets: options.buckets ?? [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const tenantOps = new Gauge({
    name: 'polymongo_tenant_operations',
    help: `Operations per tenant since start: the ${topN} busiest by name, the rest as "other"`,
    labelNames: ['tenant'],
    registers: [registry],
  });
  const admission = new Gauge({
    name: 'polymongo_tenant_admission',
    help: `Fairness and quotas per tenant (in_flight, queued now; rejected, throttled since start): the ${topN} busiest by name, the rest as "other"`,
    labelNames: ['tenant', 'state'],
    registers: [registry],
  });
  const cached = new Gauge({ name: 'polymongo_cached_tenants', help: 'Tenants whose handles are cached', registers: [registry] });
  const evictions = new Gauge({ name: 'polymongo_tenant_evictions', help: 'Tenant handles evicted since start', registers: [registry] });
  const streams = new Gauge({ name: 'polymongo_open_change_streams', help: 'Change streams open', registers: [registry] });
  const streamErrors = new Gauge({
    name: 'polymongo_change_stream_errors',
    help: 'Change stream errors since start',
    registers: [registry],
  });
  const unrouted = new Gauge({
    name: 'polymongo_change_stream_unrouted_changes',
    help: 'watchAll changes from databases that map to no tenant (not delivered) since start',
    registers: [registry],
  });
  const state = new Gauge({
    name: 'polymongo_client_state',
    help: 'Client state: 1 for the current one',
    labelNames: ['state'],
    registers: [registry],
  });

  const off = poly.on('operation', (op) => {
    operations.inc({ command: op.command });
    duration.observe({ command: op.command }, op.durationMS / 1000);
    if (op.error) errors.inc({ command: op.command });
  });

  const refresh = () => {
    const stats = poly.stats();
    connections.reset();
    waiting.reset();
    for (const p of stats.pools) {
      connections.set({ pool: p.key, state: 'open' }, p.connections.open);
      connections.set({ pool: p.key, state: 'in_use' }, p.connections.inUse);
      connections.set({ pool: p.key, state: 'available' }, p.connections.available);
      waiting.set({ pool: p.key }, p.connections.waiting);
    }
    tenantOps.reset();
    const top = stats.operations.topTenants.slice(0, topN);
    for (const t of top) tenantOps.set({ tenant: t.tenant }, t.ops);
    const shown = top.reduce((n, t) => n + t.ops, 0);
    tenantOps.set({ tenant: 'other' }, stats.operations.total - shown);
    admission.reset();
    if (stats.admission) {
      const { tenants, other } = stats.admission;
      const rows = tenants.map((t, i) => (i < topN ? t : { ...t, tenant: 'other' }));
      for (const t of [...rows, { tenant: 'other', ...other }]) {
        admission.inc({ tenant: t.tenant, state: 'in_flight' }, t.inFlight);
        admission.inc({ tenant: t.tenant, state: 'queued' }, t.queued);
        admission.inc({ tenant: t.tenant, state: 'rejected' }, t.rejected);
        admission.inc({ tenant: t.tenant, state: 'throttled' }, t.throttled);
      }
    }
    cached.set(stats.tenants.cached);
    evictions.set(stats.tenants.evictions);
    streams.set(stats.openStreams);
    streamErrors.set(stats.streams.errors);
    unrouted.set(stats.streams.unrouted);
    for (const s of CONNECTION_STATES) state.set({ state: s }, s === stats.state ? 1 : 0);
  };

  const handler: Handler = (_req, res) => {
    refresh();
    registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        res.end(text);
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics failed: ${String(error)}`);
      });
  };
  return { registry, handler, stop: off };
}

/** Shorthand for `createMetrics(poly, options).handler`. */
export function metricsHandler(poly: PolyMongo, options?: MetricsOptions): Handler {
  return createMetrics(poly, options).handler;
}
