import { AsyncResource } from 'node:async_hooks';
import { enterRequestTenant, httpErrorOf, type TenantSource } from '@polymongo/core';
import type { FastifyError, FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant this request was resolved to by the PolyMongo plugin, if any. */
    tenant: string | undefined;
  }
}

/** Options of the PolyMongo Fastify plugin. */
export interface PolyMongoFastifyOptions {
  /** The client whose tenant rules validate ids (any object with `route(tenant)`, e.g. a `@polymongo/native` client). */
  poly: { route(tenant: string): unknown };
  /**
   * Where the tenant comes from: `'header'` (default), `'path'` (first URL path segment), `'subdomain'` (first
   * label of a host with at least three labels) or a function of the request.
   * @example app.register(polymongo, { poly, from: 'subdomain' })
   */
  from?: TenantSource<FastifyRequest>;
  /** The header read when `from` is `'header'` (default `'x-tenant'`). @example { header: 'x-org' } */
  header?: string;
  /** When true, a request naming no tenant goes on without one instead of failing with TENANT_REQUIRED (400). */
  optional?: boolean;
  /** When false, the plugin sets no error handler (default true: PolyMongo errors mapped to HTTP answers). */
  errorHandler?: boolean;
}

const scope = Symbol('polymongo.tenantScope');
type ScopedRequest = FastifyRequest & { [scope]?: AsyncResource };

const plugin: FastifyPluginCallback<PolyMongoFastifyOptions> = (app, options, done) => {
  const { poly } = options;
  app.decorateRequest('tenant', undefined);
  app.addHook('onRequest', (req, _reply, next) => {
    enterRequestTenant(
      req,
      options,
      (tenant) => poly.route(tenant),
      (error) => {
        if (error !== undefined) {
          next(error as Error);
          return;
        }
        // Body parsing runs in the socket's callbacks, outside any context: an async resource created inside the
        // tenant's context carries it into the hooks and the handler that come after (the @fastify/request-context way).
        if (req.tenant !== undefined) (req as ScopedRequest)[scope] = new AsyncResource('polymongo-tenant');
        next();
      },
    );
  });
  const reenter = (req: FastifyRequest, _reply: unknown, next: () => void) => {
    const resource = (req as ScopedRequest)[scope];
    if (resource) resource.runInAsyncScope(next, req.raw);
    else next();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
  if (options.errorHandler !== false) {
    app.setErrorHandler((error: FastifyError, _req, reply) => {
      // Fastify's own client errors (bad JSON, schema validation, 404) keep their status and message.
      if (typeof error.code === 'string' && error.code.startsWith('FST_') && (error.statusCode ?? 500) < 500) {
        return reply.status(error.statusCode as number).send({ code: error.code, message: error.message });
      }
      const { status, body, headers } = httpErrorOf(error);
      return reply.status(status).headers(headers).send(body);
    });
  }
  done();
};

/**
 * The PolyMongo Fastify plugin: resolves each request's tenant (validated before anything touches the network),
 * decorates `request.tenant`, and runs the request's hooks and handler inside `runWithTenant`, across `await`
 * and body parsing. Errors are answered as JSON `{ code, message }` with the status of `httpErrorOf` (400, 422,
 * 429 with Retry-After, 503, else 500 without the message), never a stack trace.
 *
 * @example
 * import polymongo from '@polymongo/fastify';
 * await app.register(polymongo, { poly, from: 'header', header: 'x-tenant' });
 * app.get('/orders', async () => poly.db().collection('orders').find().toArray());
 */
const polymongoFastify = fp(plugin, { fastify: '5.x', name: '@polymongo/fastify' });
export default polymongoFastify;
export { polymongoFastify };
