import type { ServerResponse } from 'node:http';
import { httpErrorOf } from '@polymongo/core';
import { errorHandler, tenantMiddleware } from '@polymongo/express';
import { createMongooseAdapter } from '@polymongo/mongoose';
import { createPolyMongo, currentTenant, defineRepository, type NativeOptions, redactText } from '@polymongo/native';
import { createMetrics, dashboardHandler, healthHandler, readyHandler } from '@polymongo/observability';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Mongoose } from 'mongoose';
import { z } from 'zod';

/** Where the demo keeps its tenant registry: one control database beside the tenants'. */
const CONTROL_TENANT = 'saas_control';

/** Events: the hot path, a native repository validated with zod. */
export const Events = defineRepository({
  collection: 'events',
  schema: z.object({
    type: z.string().min(1).max(100),
    payload: z.record(z.string(), z.unknown()).default({}),
    at: z.coerce.date().default(() => new Date()),
  }),
  indexes: [{ key: { at: -1 }, name: 'recent_first' }],
});

export interface DemoOptions {
  uri: string;
  /** pino level for the library's logs (default warn). */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Per-tenant admission (see the README's "Fairness and quotas"); off unless given. */
  fairness?: NativeOptions['fairness'];
  quotas?: NativeOptions['quotas'];
}

export interface Demo {
  app: express.Express;
  poly: ReturnType<typeof createPolyMongo>;
  /** Registers a tenant (validating its id), as POST /tenants does. */
  registerTenant(id: string, name?: string): Promise<void>;
  /** Ends open SSE responses, then closes the pools, letting in-flight operations finish. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The demo API: tenants from an `x-tenant` header (under /api) or a `/t/:tenant/` prefix, both through
 * runWithTenant; events through a native repository, users through an existing-style Mongoose model, a
 * per-tenant change stream over SSE, and /metrics, /health, /ready, /dashboard.
 */
export async function createDemo(options: DemoOptions): Promise<Demo> {
  const poly = createPolyMongo({
    uri: options.uri,
    strictTenancy: true,
    monitorOperations: true,
    logger: { level: options.logLevel ?? 'warn' },
    ...(options.fairness ? { fairness: options.fairness } : {}),
    ...(options.quotas ? { quotas: options.quotas } : {}),
  });
  const mongoose = new Mongoose();
  const m = createMongooseAdapter({ poly, mongoose });
  const User = m.wrapModel(
    mongoose.model(
      'User',
      new mongoose.Schema(
        {
          name: { type: String, required: true, trim: true, maxlength: 200 },
          email: { type: String, required: true, lowercase: true, match: /^[^@\s]+@[^@\s]+\.[^@\s]+$/ },
          role: { type: String, enum: ['admin', 'member'], default: 'member' },
        },
        { timestamps: true },
      ),
    ),
  );

  const registry = poly.tenant(CONTROL_TENANT).collection<{ _id: string; name: string; createdAt: Date }>('tenants');
  const known = new Set((await registry.find({}, { projection: { _id: 1 } }).toArray()).map((t) => t._id));
  const streams = new Set<ServerResponse>();

  async function registerTenant(id: string, name = id): Promise<void> {
    const route = poly.route(id);
    if (route.tenantId === CONTROL_TENANT) throw new HttpError(400, 'RESERVED_TENANT', `"${CONTROL_TENANT}" is the demo's own database.`);
    await registry.updateOne({ _id: id }, { $setOnInsert: { name, createdAt: new Date() } }, { upsert: true });
    await poly.tenant(id).repo(Events).ensureIndexes();
    known.add(id);
  }

  /** After tenantMiddleware: only registered tenants get an API (the id itself is validated by then). */
  const registeredOnly = (req: Request, _res: Response, next: NextFunction) =>
    known.has(req.tenant as string)
      ? next()
      : next(new HttpError(400, 'UNKNOWN_TENANT', `Tenant "${req.tenant}" is not registered; POST /tenants first.`));

  const tenantApi = express.Router({ mergeParams: true });
  tenantApi.get('/events', async (req, res) => {
    const limit = Math.min(Number(req.query.limit ?? 50) || 50, 500);
    res.json(
      await poly
        .tenant()
        .repo(Events)
        .find({}, { sort: { at: -1 }, limit }),
    );
  });
  tenantApi.post('/events', async (req, res) => {
    const { insertedId } = await poly
      .tenant()
      .repo(Events)
      .insertOne(req.body ?? {});
    res.status(201).json({ id: insertedId, tenant: currentTenant() });
  });
  tenantApi.get('/users', async (_req, res) => {
    // No .db(): the wrapped Mongoose model reads the runWithTenant tenant.
    res.json(await User.find().sort({ createdAt: -1 }).limit(100).lean());
  });
  tenantApi.post('/users', async (req, res) => {
    const user = await User.create(req.body ?? {});
    res.status(201).json(user.toObject());
  });
  tenantApi.get('/changes', async (req, res) => {
    const stream = poly.watch(undefined, { fullDocument: 'updateLookup' });
    streams.add(res);
    req.on('close', () => {
      streams.delete(res);
      void stream.close();
    });
    const send = (change: unknown) => {
      const c = change as { operationType: string; ns?: { coll?: string }; documentKey?: unknown; fullDocument?: unknown };
      res.write(
        `event: change\ndata: ${JSON.stringify({ operationType: c.operationType, collection: c.ns?.coll, documentKey: c.documentKey, fullDocument: c.fullDocument })}\n\n`,
      );
    };
    try {
      // tryNext opens the stream on the server: every change after this point is delivered. Only then do the
      // headers and the first line go out, so a client that has read them knows it is watching.
      const first = await stream.tryNext();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': watching\n\n');
      if (first) send(first);
      for await (const change of stream) send(change);
    } catch {
      // The stream failed or was closed (the client left, or the app is shutting down).
      if (!res.headersSent) res.status(503).json({ code: 'STREAM_FAILED', message: 'The change stream could not be opened; retry.' });
    }
    res.end();
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  app.get('/', (_req, res) => {
    res.json({
      tenants: [...known],
      endpoints: [
        '/t/:tenant/events',
        '/t/:tenant/users',
        '/t/:tenant/changes',
        '/api/events (x-tenant header)',
        '/tenants',
        '/metrics',
        '/health',
        '/ready',
        '/dashboard',
      ],
    });
  });
  const metrics = createMetrics(poly);
  app.get('/metrics', metrics.handler);
  app.get('/health', healthHandler(poly));
  app.get('/ready', readyHandler(poly));
  // The dashboard names tenants: only callers on this machine may see it (a real app would check a session or token).
  const dashboard = dashboardHandler(poly, {
    title: 'PolyMongo SaaS demo',
    authorize: (req) => ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? ''),
  });
  app.get(['/dashboard', '/dashboard/events', '/dashboard/tenant/:id'], (req, res, next) => dashboard(req, res, next));
  app.get('/tenants', async (_req, res) => {
    res.json(await registry.find().sort({ _id: 1 }).toArray());
  });
  app.post('/tenants', async (req, res) => {
    const id = req.body?.id;
    if (typeof id !== 'string') throw new HttpError(400, 'INVALID_TENANT', 'Send { "id": "<tenant id>" }.');
    await registerTenant(id, typeof req.body?.name === 'string' ? req.body.name : id);
    res.status(201).json({ id, dbName: poly.route(id).dbName });
  });
  app.use('/t/:tenant', tenantMiddleware(poly, { from: (req) => req.params.tenant as string | undefined }), registeredOnly, tenantApi);
  app.use('/api', tenantMiddleware(poly, { from: 'header', header: 'x-tenant' }), registeredOnly, tenantApi);
  app.use((_req, res) => {
    res.status(404).json({ code: 'NOT_FOUND', message: 'No such endpoint; GET / lists them.' });
  });
  app.use(
    errorHandler({
      map: demoError,
      onError: (err, req) => {
        if (httpErrorOf(err).status >= 500 && demoError(err) === undefined && (err as { expose?: unknown })?.expose !== true)
          console.error(`request ${req.method} ${req.path} failed: ${redactText(String((err as Error)?.stack ?? err))}`);
      },
    }),
  );

  return {
    app,
    poly,
    registerTenant,
    async close() {
      for (const res of streams) res.end();
      streams.clear();
      metrics.stop();
      dashboard.stop();
      await poly.close({ timeoutMS: 5000 });
    },
  };
}

/** The demo's own errors; PolyMongo's (400 tenants, 422 documents, 429, 503) are mapped by errorHandler. */
function demoError(err: unknown): { status: number; body: Record<string, unknown> } | undefined {
  if (err instanceof HttpError) return { status: err.status, body: { code: err.code, message: err.message } };
  if ((err as { code?: unknown })?.code === 11000)
    return { status: 409, body: { code: 'DUPLICATE', message: 'A document with that unique key exists.' } };
  return undefined;
}
