import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import { httpErrorOf, PolyMongoError } from '@polymongo/core';

interface ExpressLikeResponse {
  status(code: number): this;
  set(headers: Record<string, string>): this;
  json(body: unknown): void;
}
interface FastifyLikeReply {
  code(code: number): this;
  headers(headers: Record<string, string>): this;
  send(body: unknown): void;
}

/**
 * Answers PolyMongo errors (including those thrown by TenantMiddleware) as JSON `{ code, message }` with the status
 * of `httpErrorOf`: 400 INVALID_TENANT / TENANT_REQUIRED, 422 VALIDATION_FAILED, 429 with Retry-After, 503
 * CONNECTION_FAILED / CLIENT_CLOSED. Other errors are left to Nest. Registered app-wide by `PolyMongoModule`
 * unless `exceptionFilter: false`.
 *
 * @example
 * app.useGlobalFilters(new PolyMongoExceptionFilter());
 */
export class PolyMongoExceptionFilter implements ExceptionFilter {
  catch(error: PolyMongoError, host: ArgumentsHost): void {
    const { status, body, headers } = httpErrorOf(error);
    const res = host.switchToHttp().getResponse<ExpressLikeResponse | FastifyLikeReply>();
    if ('json' in res && typeof res.json === 'function') res.status(status).set(headers).json(body);
    else (res as FastifyLikeReply).code(status).headers(headers).send(body);
  }
}
Catch(PolyMongoError)(PolyMongoExceptionFilter);
