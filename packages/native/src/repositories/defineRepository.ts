import { ConfigError } from '@polymongo/core';
import type { IndexDescription } from 'mongodb';
import { isStandardSchema, type StandardSchemaV1 } from './StandardSchema.js';

/**
 * A repository definition: one collection, optionally a schema and indexes. Bind it to a tenant with
 * `scope.repo(def)`. The schema is any Standard Schema validator: zod 3.24+ or 4, valibot, arktype...
 */
export interface RepositoryDefinition<Schema extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined> {
  readonly collection: string;
  readonly schema: Schema;
  readonly indexes: readonly IndexDescription[];
  /** Validate writes against the schema (default true when a schema is given). */
  readonly validate: boolean;
}

export interface RepositoryOptions<Schema extends StandardSchemaV1 | undefined> {
  /** The collection's name in every tenant's database. */
  collection: string;
  /** Validates every write: any Standard Schema validator (zod 3.24+/4, valibot, arktype). Default: none. */
  schema?: Schema;
  /** Indexes `repo.ensureIndexes()` creates. Default: none. */
  indexes?: IndexDescription[];
  /** Set false to write without validation, deliberately. Default: true when a schema is given. */
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
export function defineRepository<Schema extends StandardSchemaV1 | undefined = undefined>(
  options: RepositoryOptions<Schema>,
): RepositoryDefinition<Schema> {
  if (typeof options?.collection !== 'string' || options.collection.length === 0 || options.collection.includes('$')) {
    throw new ConfigError([{ path: 'collection', message: 'defineRepository needs a collection name: a non-empty string without "$"' }]);
  }
  if (options.schema !== undefined && !isStandardSchema(options.schema)) {
    throw new ConfigError([
      { path: 'schema', message: 'must be a Standard Schema validator (zod 3.24+ or 4, valibot, arktype...), with a "~standard" property' },
    ]);
  }
  return Object.freeze({
    collection: options.collection,
    schema: options.schema as Schema,
    indexes: Object.freeze([...(options.indexes ?? [])]),
    validate: options.validate ?? options.schema !== undefined,
  });
}
