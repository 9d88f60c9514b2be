import { httpErrorOf } from '@polymongo/core';
import type { NextFunction, Request, Response } from 'express';

/**
 * An Express error handler answering every error as JSON `{ code, message }` (plus `issues` for validation
 * failures) with the status `httpErrorOf` gives: 400 INVALID_TENANT / TENANT_REQUIRED, 422 VALIDATION_FAILED,
 * 429 TENANT_OVERLOADED / TENANT_QUOTA_EXCEEDED with Retry-After, 503 CONNECTION_FAILED / CLIENT_CLOSED, 500
 * otherwise. Never a stack trace; errors that are not PolyMongo's are answered without their message. Mount it
 * after your routes. `onError` sees every error first (for logging).
 *
 * @example
 * app.use(errorHandler({ onError: (err, req) => logger.error({ err, url: req.url }) }));
 */
export function errorHandler(options: { onError?: (error: unknown, req: Request) => void } = {}) {
  return function polymongoErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
    options.onError?.(error, req);
    if (res.headersSent) {
      next(error);
      return;
    }
    const { status, body, headers } = httpErrorOf(error);
    res.status(status).set(headers).json(body);
  };
}
