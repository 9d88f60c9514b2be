import type { IncomingMessage } from 'node:http';
import { ConfigError, type ConfigIssue } from '@polymongo/core';
import type { PolyMongo } from '@polymongo/native';
import { type Handler, pathOf, sendJson } from '../http.js';
import { DashboardModel, type DashboardSource, type HistoryPoint, type TenantDetail } from './DashboardModel.js';
import { dashboardPage } from './page.js';

export type { HistoryPoint, TenantDetail };

export interface DashboardOptions {
  /** Shown in the page header. @example { title: 'Acme production' } */
  title?: string;
  /** How often the page gets new numbers and a history point is taken, in ms (default 1000). */
  intervalMS?: number;
  /** History points kept server-side, so a reload shows the past (default 900: 15 minutes at 1 s). */
  historySize?: number;
  /** Tenants kept for the drill-down, the most recently active first (default 1,000). */
  maxTenants?: number;
  /**
   * Decides who may see the dashboard (its numbers name tenants). Return true to allow. Without it the
   * dashboard answers 403 to everyone, unless `public: true`.
   * @example { authorize: (req) => req.headers.authorization === `Bearer ${process.env.DASHBOARD_TOKEN}` }
   */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /** Serve the dashboard to anyone who can reach it, without `authorize` (local development, demos). Default false. */
  public?: boolean;
}

/** One dashboard update, as sent over Server-Sent Events (`event: stats`). */
export type DashboardSnapshot = ReturnType<DashboardModel['snapshot']>;

/**
 * A live dashboard: state, operations per second, latency percentiles over time by command, server errors apart
 * from PolyMongo's refusals (validation, overload, quota) with their codes, pools (shared and dedicated), cached
 * tenants and evictions, open change streams, admission (with fairness or quotas: per-tenant in flight, queued,
 * rejected and throttled, the busiest tenants first) and a per-tenant drill-down. Its history is kept server-side and
 * bounded, so a reload shows the last minutes. Self-contained (no CDN). Mount it under any path: it serves the
 * page, `<path>/events` (SSE) and `<path>/tenant/<id>` (JSON). Call `stop()` to unsubscribe from the client.
 *
 * @example
 * app.use('/dashboard', dashboardHandler(poly, { authorize: (req) => isAdmin(req) }));   // Express
 * const dashboard = dashboardHandler(poly, { public: true });                             // local only
 */
export function dashboardHandler(poly: PolyMongo, options: DashboardOptions = {}): Handler & { stop(): void } {
  checkDashboardOptions(poly, options);
  const intervalMS = options.intervalMS ?? 1000;
  const model = new DashboardModel(poly as unknown as DashboardSource, {
    intervalMS,
    historySize: options.historySize ?? 900,
    maxTenants: options.maxTenants ?? 1000,
  });
  const page = dashboardPage(options.title ?? 'PolyMongo');

  const serve = (req: IncomingMessage, res: Parameters<Handler>[1]) => {
    const path = pathOf(req);
    const tenantAt = path.lastIndexOf('/tenant/');
    if (tenantAt !== -1) {
      let id: string;
      try {
        id = decodeURIComponent(path.slice(tenantAt + '/tenant/'.length));
      } catch {
        sendJson(res, 400, { code: 'BAD_REQUEST', message: 'The tenant id in the URL is not valid percent-encoding.' });
        return;
      }
      const detail = model.tenant(id);
      if (detail) sendJson(res, 200, detail);
      else
        sendJson(res, 404, {
          code: 'NOT_FOUND',
          message: 'The dashboard has seen no operation of this tenant (it keeps the most recent ones).',
        });
      return;
    }
    if (!path.endsWith('/events')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy':
          "default-src 'self'; img-src data:; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
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
    res.write(`event: history\ndata: ${JSON.stringify(model.history())}\n\n`);
    const send = () => res.write(`event: stats\ndata: ${JSON.stringify(model.snapshot())}\n\n`);
    send();
    const timer = setInterval(send, intervalMS);
    req.on('close', () => clearInterval(timer));
  };

  const handler: Handler = (req, res, next) => {
    if (options.public) {
      serve(req, res);
      return;
    }
    if (!options.authorize) {
      sendJson(res, 403, {
        code: 'DASHBOARD_FORBIDDEN',
        message: 'The dashboard is closed: pass dashboardHandler(poly, { authorize: (req) => ... }), or { public: true } for local use.',
      });
      return;
    }
    Promise.resolve()
      .then(() => options.authorize?.(req))
      .then(
        (allowed) =>
          allowed ? serve(req, res) : sendJson(res, 403, { code: 'DASHBOARD_FORBIDDEN', message: 'Not allowed to see this dashboard.' }),
        (error) => (next ? next(error) : sendJson(res, 500, { code: 'INTERNAL_ERROR', message: 'Internal server error' })),
      );
  };
  return Object.assign(handler, { stop: () => model.stop() });
}

const OPTION_NAMES = new Set<string>(['title', 'intervalMS', 'historySize', 'maxTenants', 'authorize', 'public']);

/** Bad options fail at once with CONFIG_INVALID naming every bad field, before anything subscribes or starts a timer. */
function checkDashboardOptions(poly: unknown, options: unknown): void {
  const issues: ConfigIssue[] = [];
  const source = poly as { on?: unknown; stats?: unknown } | null;
  if (typeof source?.on !== 'function' || typeof source.stats !== 'function') {
    issues.push({
      path: 'poly',
      message: 'must be a PolyMongo client (from createPolyMongo), e.g. dashboardHandler(poly, { public: true })',
    });
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError([
      ...issues,
      { path: 'dashboard', message: 'options must be an object, e.g. { authorize: (req) => isAdmin(req) }' },
    ]);
  }
  const o = options as Record<string, unknown>;
  const whole = (name: string, min: number, example: number) => {
    const v = o[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min)) {
      issues.push({ path: `dashboard.${name}`, message: `must be a whole number of at least ${min}, e.g. ${example} (got ${String(v)})` });
    }
  };
  whole('intervalMS', 10, 1000);
  whole('historySize', 1, 900);
  whole('maxTenants', 1, 1000);
  if (o.title !== undefined && typeof o.title !== 'string') issues.push({ path: 'dashboard.title', message: 'must be a string' });
  if (o.authorize !== undefined && typeof o.authorize !== 'function') {
    issues.push({ path: 'dashboard.authorize', message: 'must be a function (req) => boolean | Promise<boolean>' });
  }
  if (o.public !== undefined && typeof o.public !== 'boolean') issues.push({ path: 'dashboard.public', message: 'must be true or false' });
  for (const name of Object.keys(o)) {
    if (!OPTION_NAMES.has(name)) {
      issues.push({ path: `dashboard.${name}`, message: `is not a dashboard option; known: ${[...OPTION_NAMES].join(', ')}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
