import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { enterRequestTenant, type TenantFromRequestOptions, type TenantRequest } from '@polymongo/core';
import type { PolyMongo } from '@polymongo/native';
import { POLYMONGO, POLYMONGO_MODULE_OPTIONS } from './tokens.js';

/**
 * Resolves each request's tenant as configured in `PolyMongoModule.forRoot({ tenant })` (default: the `x-tenant`
 * header), validates it before anything touches the network, sets `req.tenant`, and runs the rest of the request
 * (guards, interceptors, pipes, the handler) inside `runWithTenant`. Works on the Express and Fastify platforms.
 *
 * @example
 * configure(consumer: MiddlewareConsumer) { consumer.apply(TenantMiddleware).forRoutes('*'); }
 */
export class TenantMiddleware implements NestMiddleware {
  constructor(
    private readonly poly: PolyMongo,
    private readonly options: { tenant: TenantFromRequestOptions & { optional?: boolean } },
  ) {}

  use(req: TenantRequest & { tenant?: string }, _res: unknown, next: (error?: unknown) => void): void {
    enterRequestTenant(req, this.options.tenant, (tenant) => this.poly.route(tenant), next);
  }
}
Injectable()(TenantMiddleware);
Inject(POLYMONGO)(TenantMiddleware, undefined, 0);
Inject(POLYMONGO_MODULE_OPTIONS)(TenantMiddleware, undefined, 1);
