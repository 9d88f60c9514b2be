import type { LoggerLike } from '../config/schema.js';
import { redactText } from '../config/uri.js';
import type { OperationInfo, PolyMongoEventName, PolyMongoEvents } from '../events/events.js';
import type { OperationStart, PolyMongoPlugin } from '../events/plugins.js';
import type { TypedEmitter } from '../events/TypedEmitter.js';
import { OperationCounter } from '../observability/OperationCounter.js';

const EVENT_NAMES: Record<PolyMongoEventName, true> = {
  stateChange: true,
  connect: true,
  disconnect: true,
  reconnect: true,
  error: true,
  poolCreated: true,
  poolClosed: true,
  tenantEvicted: true,
  operation: true,
  slowOperation: true,
  tenantThrottled: true,
};

interface OperationRunnerOptions {
  events: TypedEmitter<PolyMongoEvents>;
  logger: LoggerLike;
  slowOperationMS: number | undefined;
  topTenantsTracked: number;
  /** The cluster of a pool, for the slow-operation log line. */
  clusterOf(poolKey: string): string | undefined;
}

/**
 * Operations: plugins (wrapOperation, onOperation, onEvent), the operations PolyMongo runs itself (counted while
 * in flight, so close() can wait for them), and the record of every finished operation (counters, slow log).
 */
export class OperationRunner {
  private readonly plugins: PolyMongoPlugin[] = [];
  readonly counter: OperationCounter;
  /** PolyMongo's own operations started and not yet settled, wherever they are (server selection included). */
  inFlight = 0;

  constructor(private readonly o: OperationRunnerOptions) {
    this.counter = new OperationCounter(o.topTenantsTracked);
  }

  /** Adds a plugin; it receives every event from now on. Returns the function that removes it. */
  use(plugin: PolyMongoPlugin): () => void {
    this.plugins.push(plugin);
    const offs = plugin.onEvent
      ? (Object.keys(EVENT_NAMES) as PolyMongoEventName[]).map((name) =>
          this.o.events.on(name, (payload) => plugin.onEvent?.(name, payload as never)),
        )
      : [];
    return () => {
      const i = this.plugins.indexOf(plugin);
      if (i >= 0) this.plugins.splice(i, 1);
      for (const off of offs) off();
    };
  }

  async run<T>(start: OperationStart, fn: () => Promise<T>): Promise<T> {
    let next = fn;
    for (const plugin of this.plugins) {
      if (!plugin.wrapOperation) continue;
      const inner = next;
      next = () => (plugin.wrapOperation as NonNullable<PolyMongoPlugin['wrapOperation']>)(start, inner);
    }
    const started = performance.now();
    this.inFlight += 1;
    try {
      const result = await next();
      this.record({ ...start, durationMS: performance.now() - started });
      return result;
    } catch (error) {
      this.record({ ...start, durationMS: performance.now() - started, error: describeError(error) });
      throw error;
    } finally {
      this.inFlight -= 1;
    }
  }

  record(info: OperationInfo): void {
    this.counter.record(info.tenantId, info.error !== undefined);
    for (const plugin of this.plugins) {
      try {
        plugin.onOperation?.(info);
      } catch (error) {
        this.o.logger.error({ plugin: plugin.name, err: redactText(String(error)) }, 'plugin onOperation threw');
      }
    }
    this.o.events.emit('operation', info);
    const threshold = this.o.slowOperationMS;
    if (threshold !== undefined && info.durationMS >= threshold) {
      this.o.logger
        .child({ tenant: info.tenantId, cluster: this.o.clusterOf(info.poolKey ?? '') })
        .warn(
          { tenant: info.tenantId, db: info.dbName, command: info.command, durationMS: Math.round(info.durationMS * 100) / 100 },
          'slow operation',
        );
      this.o.events.emit('slowOperation', info);
    }
  }
}

/**
 * An error as plain data that is safe to log, store or send: its name, its code when it has one, and its message
 * with credentials redacted. Used for operation records, fleet failures and audit events.
 *
 * @example
 * logger.warn({ err: describeError(error) }, 'tenant failed');
 */
export function describeError(error: unknown): NonNullable<OperationInfo['error']> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      message: redactText(error.message),
    };
  }
  return { name: 'Error', message: redactText(String(error)) };
}
