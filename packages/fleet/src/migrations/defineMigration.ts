import type { ClientSession, Db } from 'mongodb';
import { FleetSpecError } from '../errors.js';

/** What a migration's `up` and `down` receive. Pass `session` to every operation so the step is atomic. */
export interface MigrationContext {
  /** The tenant's database. */
  db: Db;
  /** The tenant id. */
  tenant: string;
  /** The transaction's session when the server supports transactions, else undefined. */
  session: ClientSession | undefined;
}

export interface Migration {
  /** Unique, ordered id: migrations run in id order, so start it with a date (`2026-11-23-add-status`). */
  readonly id: string;
  readonly up: (context: MigrationContext) => Promise<unknown>;
  readonly down: ((context: MigrationContext) => Promise<unknown>) | undefined;
}

/**
 * Declares a data migration run on every tenant by `fleet.migrate`.
 *
 * @example
 * export const addStatus = defineMigration({
 *   id: '2026-11-23-add-status',
 *   up: ({ db, session }) => db.collection('orders').updateMany({ status: { $exists: false } }, { $set: { status: 'open' } }, { session }),
 *   down: ({ db, session }) => db.collection('orders').updateMany({}, { $unset: { status: '' } }, { session }),
 * });
 */
export function defineMigration(definition: {
  id: string;
  up: (context: MigrationContext) => Promise<unknown>;
  down?: (context: MigrationContext) => Promise<unknown>;
}): Migration {
  const { id, up, down } = definition ?? ({} as never);
  if (typeof id !== 'string' || id.trim().length === 0 || id.startsWith('__')) {
    throw new FleetSpecError('A migration needs an id: a non-empty string not starting with "__" (for example "2026-11-23-add-status").');
  }
  if (typeof up !== 'function') throw new FleetSpecError(`Migration "${id}" needs an up({ db, tenant, session }) function.`);
  if (down !== undefined && typeof down !== 'function') throw new FleetSpecError(`Migration "${id}": down must be a function when given.`);
  return Object.freeze({ id, up, down });
}
