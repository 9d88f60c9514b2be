import type { IndexDescription } from 'mongodb';
import type { z } from 'zod';

/** A repository definition: one collection, optionally a zod schema and indexes. Bind it to a tenant with `scope.repo(def)`. */
export interface RepositoryDefinition<Schema extends z.ZodObject | undefined = z.ZodObject | undefined> {
  readonly collection: string;
  readonly schema: Schema;
  readonly indexes: readonly IndexDescription[];
  /** Validate writes against the schema (default true when a schema is given). */
  readonly validate: boolean;
}

export interface RepositoryOptions<Schema extends z.ZodObject | undefined> {
  collection: string;
  schema?: Schema;
  indexes?: IndexDescription[];
  validate?: boolean;
}

/**
 * Declares a typed, validated collection that every tenant has.
 *
 * @example
 * const Events = defineRepository({
 *   collection: 'events',
 *   schema: z.object({ type: z.string(), at: z.date() }),
 *   indexes: [{ key: { at: -1 } }],
 * });
 * const events = poly.tenant('acme').repo(Events);
 * await events.insertOne({ type: 'signup', at: new Date() }); // validated, written to acme.events
 */
export function defineRepository<Schema extends z.ZodObject | undefined = undefined>(
  options: RepositoryOptions<Schema>,
): RepositoryDefinition<Schema> {
  if (typeof options?.collection !== 'string' || options.collection.length === 0 || options.collection.includes('$')) {
    throw new TypeError('defineRepository needs a collection name: a non-empty string without "$"');
  }
  return Object.freeze({
    collection: options.collection,
    schema: options.schema as Schema,
    indexes: Object.freeze([...(options.indexes ?? [])]),
    validate: options.validate ?? options.schema !== undefined,
  });
}
