import type { OperationInfo, PolyMongoEventName, PolyMongoEvents } from './events.js';

/** What an operation looks like before it runs. */
export type OperationStart = Pick<OperationInfo, 'tenantId' | 'dbName' | 'command' | 'poolKey'>;

/**
 * A plugin hooks into a PolyMongo client: it sees every lifecycle event, may wrap the operations PolyMongo runs
 * itself (repositories, transactions, ping), and is told about every finished driver operation.
 *
 * @example
 * poly.use({
 *   name: 'audit',
 *   onOperation: (op) => { if (op.error) audit.warn(op); },
 *   wrapOperation: (op, next) => tracer.startActiveSpan(op.command, () => next()),
 * });
 */
export interface PolyMongoPlugin {
  name: string;
  onEvent?<K extends PolyMongoEventName>(event: K, payload: PolyMongoEvents[K]): void;
  wrapOperation?<T>(operation: OperationStart, next: () => Promise<T>): Promise<T>;
  onOperation?(operation: OperationInfo): void;
}
