import { enterRequestTenant, type TenantFromRequestOptions } from '@polymongo/core';
import type { NextFunction, Request, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** The tenant this request was resolved to by `tenantMiddleware`, if any. */
      tenant?: string;
    }
  }
}

/** What `tenantMiddleware` needs of a PolyMongo client: tenant validation without touching the network. */
interface TenantValidator {
  route(tenant: string): unknown;
}

/** Options of `tenantMiddleware`. */
export interface TenantMiddlewareOptions extends TenantFromRequestOptions<Request> {
  /**
   * When true, a request that names no tenant goes on without one (the client's default tenant or
   * strictTenancy then applies); default false: such a request fails with TENANT_REQUIRED (HTTP 400).
   * @example app.use(tenantMiddleware(poly, { optional: true }))
   */
  optional?: boolean;
}

/**
 * Resolves the request's tenant (header, first path segment, subdomain or your function), validates it with
 * the client's tenant rules (INVALID_TENANT before anything touches the network), sets `req.tenant`, and runs the
 * rest of the request inside `runWithTenant`, so `poly.db()`, repositories and wrapped Mongoose models use that
 * tenant without passing it around. Errors go to `next(err)`: mount `errorHandler()` last.
 *
 * Mount body parsers (`express.json()`) before this middleware: they call `next` from the request stream's
 * callbacks, outside the tenant context.
 *
 * @example
 * app.use(express.json());
 * app.use('/api', tenantMiddleware(poly, { from: 'header', header: 'x-tenant' }));
 * app.get('/api/orders', async (req, res) => res.json(await poly.db().collection('orders').find().toArray()));
 * app.use(errorHandler());
 */
export function tenantMiddleware(poly: TenantValidator, options: TenantMiddlewareOptions = {}) {
  return function polymongoTenant(req: Request, _res: Response, next: NextFunction): void {
    enterRequestTenant(req, options, (tenant) => poly.route(tenant), next);
  };
}
