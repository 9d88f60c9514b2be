import type { PolyMongo } from '@polymongo/native';
import { type Handler, pathOf } from '../http.js';
import { OperationWindow } from '../metrics/OperationWindow.js';
import { dashboardPage } from './page.js';

export interface DashboardOptions {
  /** Shown in the page header. */
  title?: string;
  /** How often the page gets new numbers (default 1000 ms). */
  intervalMS?: number;
}

/** One dashboard update, as sent over Server-Sent Events. */
export interface DashboardSnapshot {
  ts: number;
  state: string;
  totalOps: number;
  errors: number;
  opsPerSec: number;
  /** Median operation latency over the last 10 s in ms; `null` when no operation finished in that window. */
  p50: number | null;
  /** 99th percentile latency over the last 10 s in ms; `null` when no operation finished in that window. */
  p99: number | null;
  pools: Array<{ key: string; state: string; open: number; inUse: number; available: number; waiting: number; max: number }>;
  topTenants: Array<{ tenant: string; ops: number; errors: number }>;
  cachedTenants: number;
  evictions: number;
  openStreams: number;
}

/**
 * A live dashboard: pool usage, connections, operations per second, top tenants, p50/p99 latency and client
 * state, updated about once a second over Server-Sent Events. Self-contained (no CDN). Mount it under any path:
 * it serves the page, and `<path>/events` for the stream.
 *
 * @example
 * app.use('/dashboard', dashboardHandler(poly));                        // Express
 * if (req.url.startsWith('/dashboard')) return dashboard(req, res);      // node:http
 */
export function dashboardHandler(poly: PolyMongo, options: DashboardOptions = {}): Handler & { stop(): void } {
  const intervalMS = options.intervalMS ?? 1000;
  // A fixed-size ring: recording costs the same whether or not anyone watches the page.
  const window = new OperationWindow(10_000);
  const unsubscribe = poly.on('operation', (op) => window.add(op));
  const page = dashboardPage(options.title ?? 'PolyMongo');

  const handler: Handler = (req, res) => {
    if (!pathOf(req).endsWith('/events')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      });
      res.end(page);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let last = { total: poly.stats().operations.total, at: Date.now() };
    const send = () => {
      const stats = poly.stats();
      const now = Date.now();
      const opsPerSec = ((stats.operations.total - last.total) * 1000) / Math.max(1, now - last.at);
      last = { total: stats.operations.total, at: now };
      const latency = window.summary(now);
      const snapshot: DashboardSnapshot = {
        ts: now,
        state: stats.state,
        totalOps: stats.operations.total,
        errors: stats.operations.errors,
        opsPerSec: Math.round(opsPerSec * 10) / 10,
        p50: latency.p50 === undefined ? null : Math.round(latency.p50 * 100) / 100,
        p99: latency.p99 === undefined ? null : Math.round(latency.p99 * 100) / 100,
        pools: stats.pools.map((p) => ({
          key: p.key,
          state: p.state,
          open: p.connections.open,
          inUse: p.connections.inUse,
          available: p.connections.available,
          waiting: p.connections.waiting,
          max: p.maxPoolSize,
        })),
        topTenants: stats.operations.topTenants,
        cachedTenants: stats.tenants.cached,
        evictions: stats.tenants.evictions,
        openStreams: stats.openStreams,
      };
      res.write(`event: stats\ndata: ${JSON.stringify(snapshot)}\n\n`);
    };
    send();
    const timer = setInterval(send, intervalMS);
    req.on('close', () => clearInterval(timer));
  };
  /** Stops listening to the client's operations (the page then shows no latency). */
  return Object.assign(handler, { stop: unsubscribe });
}
