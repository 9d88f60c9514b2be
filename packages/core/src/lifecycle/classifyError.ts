import { PolyMongoError } from '../errors/errors.js';

export type ErrorClass = 'retryable' | 'auth' | 'fatal';

// Codes MongoDB and the drivers' retryability specs treat as transient.
const RETRYABLE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133]);
const AUTH_CODES = new Set([18]);
const RETRYABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
]);
const FATAL_NAMES = new Set([
  'MongoParseError',
  'MongoInvalidArgumentError',
  'MongoAPIError',
  'MongoMissingCredentialsError',
  'MongoCompatibilityError',
]);
const RETRYABLE_LABELS = ['RetryableError', 'ResetPool', 'RetryableWriteError', 'TransientTransactionError'];
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  codeName?: unknown;
  errorLabels?: unknown;
  hasErrorLabel?: unknown;
  cause?: unknown;
  reason?: unknown;
}

/** Whether a driver error carries an error label (`TransientTransactionError`, `RetryableWriteError`, ...). */
export function hasErrorLabel(error: unknown, label: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  if (typeof e.hasErrorLabel === 'function') return Boolean((e.hasErrorLabel as (l: string) => boolean).call(e, label));
  return Array.isArray(e.errorLabels) && e.errorLabels.includes(label);
}

/**
 * Decides whether connecting again may help. Works on driver errors by name, code and label, never by message.
 * Authentication failures (code 18) and bad URIs or options are not retried.
 */
export function classifyError(error: unknown): ErrorClass {
  const seen = new Set<unknown>();
  let verdict: ErrorClass | undefined;
  let current: unknown = error;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as ErrorShape;
    if ((typeof e.code === 'number' && AUTH_CODES.has(e.code)) || e.codeName === 'AuthenticationFailed' || e.name === 'MongoAuthError')
      return 'auth';
    if (current instanceof PolyMongoError) return current.code === 'AUTH_FAILED' ? 'auth' : 'fatal';
    if (typeof e.name === 'string' && FATAL_NAMES.has(e.name)) return 'fatal';
    if (verdict === undefined) {
      if (typeof e.name === 'string' && RETRYABLE_NAMES.has(e.name)) verdict = 'retryable';
      else if (typeof e.code === 'number' && RETRYABLE_CODES.has(e.code)) verdict = 'retryable';
      else if (typeof e.code === 'string' && NETWORK_ERRNOS.has(e.code)) verdict = 'retryable';
      else if (e.codeName === 'NotWritablePrimary' || RETRYABLE_LABELS.some((l) => hasErrorLabel(e, l))) verdict = 'retryable';
    }
    // Server selection errors wrap the real cause (e.g. an authentication failure) in `reason` or `cause`.
    const reason = e.reason as { error?: unknown; servers?: Map<string, { error?: unknown }> } | undefined;
    const fromServers = reason?.servers instanceof Map ? [...reason.servers.values()].find((s) => s?.error)?.error : undefined;
    current = e.cause ?? reason?.error ?? fromServers;
  }
  return verdict ?? 'fatal';
}
