import type { ServerResponse } from 'node:http';
import { createMongooseAdapter } from '@polymongo/mongoose';
import {
  createPolyMongo,
  currentTenant,
  defineRepository,
  PolyMongoError,
  redactText,
  runWithTenant,
  ValidationError,
} from '@polymongo/native';
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

  /** Validates the tenant and runs the rest of the request inside runWithTenant. */
  function withTenant(tenant: string | undefined, next: NextFunction): void {
    if (tenant === undefined || tenant === '')
      throw new PolyMongoError('TENANT_REQUIRED', 'Send the tenant in an x-tenant header, or use /t/:tenant/.');
    poly.route(tenant);
    if (!known.has(tenant)) throw new HttpError(400, 'UNKNOWN_TENANT', `Tenant "${tenant}" is not registered; POST /tenants first.`);
    runWithTenant(tenant, () => next());
  }

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
  tenantApi.get('/changes', (req, res) => {
    const stream = poly.watch(undefined, { fullDocument: 'updateLookup' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': watching\n\n');
    streams.add(res);
    stream.on('change', (change) => {
      const c = change as { operationType: string; ns?: { coll?: string }; documentKey?: unknown; fullDocument?: unknown };
      res.write(
        `event: change\ndata: ${JSON.stringify({ operationType: c.operationType, collection: c.ns?.coll, documentKey: c.documentKey, fullDocument: c.fullDocument })}\n\n`,
      );
    });
    stream.on('error', () => res.end());
    const done = () => {
      streams.delete(res);
      void stream.close();
    };
    req.on('close', done);
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
  const dashboard = dashboardHandler(poly, { title: 'PolyMongo SaaS demo' });
  app.get(['/dashboard', '/dashboard/events'], (req, res) => dashboard(req, res));
  app.get('/tenants', async (_req, res) => {
    res.json(await registry.find().sort({ _id: 1 }).toArray());
  });
  app.post('/tenants', async (req, res) => {
    const id = req.body?.id;
    if (typeof id !== 'string') throw new HttpError(400, 'INVALID_TENANT', 'Send { "id": "<tenant id>" }.');
    await registerTenant(id, typeof req.body?.name === 'string' ? req.body.name : id);
    res.status(201).json({ id, dbName: poly.route(id).dbName });
  });
  app.use('/t/:tenant', (req: Request<{ tenant: string }>, _res, next) => withTenant(req.params.tenant, next), tenantApi);
  app.use('/api', (req, _res, next) => withTenant(req.header('x-tenant'), next), tenantApi);
  app.use((_req, res) => {
    res.status(404).json({ code: 'NOT_FOUND', message: 'No such endpoint; GET / lists them.' });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const [status, body] = errorResponse(err);
    if (status >= 500) poly.core.logger.error({ path: req.path, err: redactText(String((err as Error)?.stack ?? err)) }, 'request failed');
    if (!res.headersSent) res.status(status).json(body);
  });

  return {
    app,
    poly,
    registerTenant,
    async close() {
      for (const res of streams) res.end();
      streams.clear();
      metrics.stop();
      await poly.close({ timeoutMS: 5000 });
    },
  };
}

/** Bad input is answered, never crashed on: 400 for tenants, 422 for documents, 409 for duplicates. */
function errorResponse(err: unknown): [number, Record<string, unknown>] {
  if (err instanceof HttpError) return [err.status, { code: err.code, message: err.message }];
  if (err instanceof ValidationError) return [422, { code: err.code, message: err.message, issues: err.issues }];
  if (err instanceof PolyMongoError) {
    const status = err.code === 'CLIENT_CLOSED' ? 503 : err.code === 'INVALID_TENANT' || err.code === 'TENANT_REQUIRED' ? 400 : 500;
    return [status, { code: err.code, message: err.message }];
  }
  const e = err as { name?: string; code?: number; errors?: Record<string, { message: string }>; type?: string; status?: number };
  if (e?.name === 'ValidationError' && e.errors) {
    return [
      422,
      { code: 'VALIDATION_FAILED', issues: Object.entries(e.errors).map(([path, v]) => ({ path: [path], message: v.message })) },
    ];
  }
  if (e?.code === 11000) return [409, { code: 'DUPLICATE', message: 'A document with that unique key exists.' }];
  if (e?.type === 'entity.parse.failed' || e?.status === 400)
    return [400, { code: 'BAD_JSON', message: 'The request body is not valid JSON.' }];
  return [500, { code: 'INTERNAL', message: 'Something went wrong; the server logged it.' }];
}
