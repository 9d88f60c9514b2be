import { pino } from 'pino';
import type { LoggerLike } from '../config/schema.js';

// Even if a caller logs an options object, these paths never reach the output.
const REDACT_PATHS = ['password', '*.password', 'auth.password', 'options.auth.password'];

/** The user's pino logger as a `polymongo` child, or a new pino logger at `{ level }` (default `warn`). */
export function createLogger(option: LoggerLike | { level: string } | undefined): LoggerLike {
  if (option && typeof (option as LoggerLike).child === 'function') return (option as LoggerLike).child({ lib: 'polymongo' });
  const level = (option as { level?: string } | undefined)?.level ?? 'warn';
  return pino({ level, name: 'polymongo', redact: { paths: REDACT_PATHS, censor: '***' } });
}
