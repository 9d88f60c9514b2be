import { PolyMongoError } from './errors.js';

/** How an error is answered over HTTP: status, a JSON body without stack traces, and headers. */
export interface HttpErrorResponse {
  status: number;
  body: { code: string; message: string; issues?: unknown[] };
  headers: Record<string, string>;
}

const STATUS_BY_CODE: Record<string, number> = {
  INVALID_TENANT: 400,
  TENANT_REQUIRED: 400,
  CONFIG_INVALID: 500,
  VALIDATION_FAILED: 422,
  TENANT_OVERLOADED: 429,
  TENANT_QUOTA_EXCEEDED: 429,
  CONNECTION_FAILED: 503,
  CLIENT_CLOSED: 503,
  AUTH_FAILED: 503,
  CLOSE_TIMEOUT: 503,
};

/**
 * Maps any error to an HTTP answer, the one mapping every PolyMongo framework package uses: 400 for
 * INVALID_TENANT / TENANT_REQUIRED, 422 for VALIDATION_FAILED (with the validator's issues, and for Mongoose
 * validation errors), 429 with `Retry-After` for TENANT_OVERLOADED / TENANT_QUOTA_EXCEEDED, 503 for
 * CONNECTION_FAILED / CLIENT_CLOSED / AUTH_FAILED, 500 otherwise. Errors that are not PolyMongo's answer
 * `{ code: 'INTERNAL_ERROR', message: 'Internal server error' }`: their message may hold data and is never sent.
 *
 * @example
 * const { status, body, headers } = httpErrorOf(err);
 * res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
 */
export function httpErrorOf(error: unknown): HttpErrorResponse {
  if (error instanceof PolyMongoError) {
    const status = STATUS_BY_CODE[error.code] ?? 500;
    const body: HttpErrorResponse['body'] = { code: error.code, message: status === 500 ? 'Internal server error' : error.message };
    const issues = (error as { issues?: unknown }).issues;
    if (error.code === 'VALIDATION_FAILED' && Array.isArray(issues)) body.issues = issues;
    const headers: Record<string, string> = {};
    const retryAfterMS = (error as { retryAfterMS?: unknown }).retryAfterMS;
    if (status === 429) headers['retry-after'] = String(typeof retryAfterMS === 'number' ? Math.max(1, Math.ceil(retryAfterMS / 1000)) : 1);
    return { status, body, headers };
  }
  if (isMongooseValidationError(error)) {
    const issues = Object.entries(error.errors).map(([path, e]) => ({ path: path.split('.'), message: String(e?.message ?? 'invalid') }));
    return {
      status: 422,
      body: { code: 'VALIDATION_FAILED', message: 'The document failed validation; nothing was written.', issues },
      headers: {},
    };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'Internal server error' }, headers: {} };
}

function isMongooseValidationError(error: unknown): error is { errors: Record<string, { message?: unknown } | undefined> } {
  return (
    error instanceof Error &&
    error.name === 'ValidationError' &&
    typeof (error as { errors?: unknown }).errors === 'object' &&
    (error as { errors?: unknown }).errors !== null
  );
}
