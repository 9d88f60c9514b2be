import type { pino as Pino } from 'pino';
import { requireLazily } from '../config/lazyRequire.js';
import type { LoggerLike } from '../config/schema.js';

// Even if a caller logs an options object, these paths never reach the output.
const REDACT_PATHS = ['password', '*.password', 'auth.password', 'options.auth.password'];

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Number.POSITIVE_INFINITY };

/**
 * A logger built on its first call at an enabled level. Creating pino (and a child per pool) costs milliseconds at
 * start-up, and at the default level (`warn`) most processes never log at all.
 */
class LazyLogger implements LoggerLike {
  #real: LoggerLike | undefined;

  constructor(
    private readonly make: () => LoggerLike,
    /** Calls below this level are dropped without building the logger; 0 passes everything to it. */
    private readonly threshold: () => number,
  ) {}

  private real(): LoggerLike {
    this.#real ??= this.make();
    return this.#real;
  }

  child(bindings: Record<string, unknown>): LoggerLike {
    return new LazyLogger(() => this.real().child(bindings), this.threshold);
  }

  trace(obj: object, msg?: string): void {
    if (this.threshold() <= 10) this.real().trace(obj, msg);
  }

  debug(obj: object, msg?: string): void {
    if (this.threshold() <= 20) this.real().debug(obj, msg);
  }

  info(obj: object, msg?: string): void {
    if (this.threshold() <= 30) this.real().info(obj, msg);
  }

  warn(obj: object, msg?: string): void {
    if (this.threshold() <= 40) this.real().warn(obj, msg);
  }

  error(obj: object, msg?: string): void {
    if (this.threshold() <= 50) this.real().error(obj, msg);
  }
}

/**
 * The user's pino logger as a `polymongo` child, or a new pino logger at `{ level }` (default `warn`); either is
 * created on its first enabled call.
 */
export function createLogger(option: LoggerLike | { level: string } | undefined): LoggerLike {
  if (option && typeof (option as LoggerLike).child === 'function') {
    const user = option as LoggerLike & { level?: unknown };
    // A pino logger's level can change at run time: read it on every call (a logger without one gets everything).
    return new LazyLogger(
      () => user.child({ lib: 'polymongo' }),
      () => (typeof user.level === 'string' ? (LEVELS[user.level] ?? 0) : 0),
    );
  }
  const level = (option as { level?: string } | undefined)?.level ?? 'warn';
  const threshold = LEVELS[level] ?? 0;
  return new LazyLogger(
    // pino itself is loaded here too: a process that never logs never imports it.
    () => requireLazily<{ pino: typeof Pino }>('pino').pino({ level, name: 'polymongo', redact: { paths: REDACT_PATHS, censor: '***' } }),
    () => threshold,
  );
}
