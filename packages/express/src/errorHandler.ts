import { type HttpErrorResponse, httpErrorOf } from '@polymongo/core';
import type { NextFunction, Request, Response } from 'express';

/** Options of `errorHandler`. */
export interface ErrorHandlerOptions {
  /**
   * Sees every error first, e.g. to log it (the error is yours to redact; PolyMongo's messages hold no secrets).
   * @example errorHandler({ onError: (err, req) => logger.error({ err, path: req.path }) })
   */
  onError?: (error: unknown, req: Request) => void;
  /**
   * Answers your own errors before the PolyMongo mapping: return `{ status, body }` to use it, `undefined` to
   * fall through to `httpErrorOf`.
   * @example errorHandler({ map: (err) => (isDuplicateKey(err) ? { status: 409, body: { code: 'DUPLICATE', message: 'Exists.' } } : undefined) })
   */
  map?: (error: unknown, req: Request) => { status: number; body: unknown; headers?: Record<string, string> } | undefined;
}

/**
 * An Express error handler answering every error as JSON `{ code, message }` (plus `issues` for validation
 * failures) with the status `httpErrorOf` gives: 400 INVALID_TENANT / TENANT_REQUIRED, 422 VALIDATION_FAILED,
 * 429 TENANT_OVERLOADED / TENANT_QUOTA_EXCEEDED with Retry-After, 503 CONNECTION_FAILED / CLIENT_CLOSED, 500
 * otherwise. Never a stack trace; errors that are not PolyMongo's are answered without their message, except
 * Express's own 4xx errors (a body that is not JSON), which keep their status. Mount it after your routes.
 *
 * @example
 * app.use(errorHandler({ onError: (err, req) => logger.error({ err, url: req.url }) }));
 */
export function errorHandler(options: ErrorHandlerOptions = {}) {
  return function polymongoErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
    options.onError?.(error, req);
    if (res.headersSent) {
      next(error);
      return;
    }
    const answer = options.map?.(error, req) ?? clientError(error) ?? httpErrorOf(error);
    res
      .status(answer.status)
      .set(answer.headers ?? {})
      .json(answer.body);
  };
}

/** body-parser's errors carry `expose: true` and a 4xx status: the client's fault, safe to name. */
function clientError(error: unknown): HttpErrorResponse | undefined {
  const e = error as { expose?: unknown; status?: unknown; type?: unknown; message?: unknown };
  if (e?.expose !== true || typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  const code = e.type === 'entity.parse.failed' ? 'BAD_JSON' : 'BAD_REQUEST';
  return { status: e.status, body: { code, message: String(e.message ?? 'Bad request') }, headers: {} };
}
