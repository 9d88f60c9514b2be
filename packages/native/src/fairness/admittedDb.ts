import type { AbstractCursor, Collection, Db, Document } from 'mongodb';
import { inTransaction, type TenantAdmission } from './TenantAdmission.js';

/** How a method of a Db or Collection is admitted: one slot for its run, a slot held by its cursor, or a bulk builder. */
type Admit = 'run' | 'cursor' | 'bulk' | 'collection';

const COLLECTION_METHODS: Record<string, Admit> = {
  insertOne: 'run',
  insertMany: 'run',
  bulkWrite: 'run',
  updateOne: 'run',
  replaceOne: 'run',
  updateMany: 'run',
  deleteOne: 'run',
  deleteMany: 'run',
  rename: 'run',
  drop: 'run',
  findOne: 'run',
  options: 'run',
  isCapped: 'run',
  createIndex: 'run',
  createIndexes: 'run',
  dropIndex: 'run',
  dropIndexes: 'run',
  indexExists: 'run',
  indexInformation: 'run',
  estimatedDocumentCount: 'run',
  countDocuments: 'run',
  count: 'run',
  distinct: 'run',
  indexes: 'run',
  findOneAndDelete: 'run',
  findOneAndReplace: 'run',
  findOneAndUpdate: 'run',
  createSearchIndex: 'run',
  createSearchIndexes: 'run',
  dropSearchIndex: 'run',
  updateSearchIndex: 'run',
  find: 'cursor',
  aggregate: 'cursor',
  listIndexes: 'cursor',
  listSearchIndexes: 'cursor',
  initializeOrderedBulkOp: 'bulk',
  initializeUnorderedBulkOp: 'bulk',
  // watch is not admitted: change streams are long-lived and have their own backpressure.
};

const DB_METHODS: Record<string, Admit> = {
  command: 'run',
  stats: 'run',
  renameCollection: 'run',
  dropCollection: 'run',
  dropDatabase: 'run',
  collections: 'run',
  createIndex: 'run',
  removeUser: 'run',
  setProfilingLevel: 'run',
  profilingLevel: 'run',
  indexInformation: 'run',
  createCollection: 'collection',
  aggregate: 'cursor',
  listCollections: 'cursor',
  runCursorCommand: 'cursor',
};

const MAX_CACHED_COLLECTIONS = 256;

type AnyMethod = (...args: unknown[]) => unknown;
type Run = (...args: unknown[]) => Promise<unknown>;

/**
 * A tenant's Db whose operations are admitted by its fairness limits and quotas: a Proxy made once per cached
 * tenant handle. Collections it hands out are Proxies too (cached by name), their wrapped methods made once each.
 * Operations in a PolyMongo transaction's session pass straight through: the transaction holds the slots.
 */
export function admittedDb(db: Db, admission: TenantAdmission): Db {
  const collections = new Map<string, Collection>();
  const wrap = wrapper(admission);
  const methods = new Map<PropertyKey, AnyMethod>();
  const collection = (name: string, options?: unknown): Collection => {
    if (options !== undefined) return admittedCollection(db.collection(name, options as never), wrap);
    let cached = collections.get(name);
    if (cached === undefined) {
      if (collections.size >= MAX_CACHED_COLLECTIONS) collections.clear();
      cached = admittedCollection(db.collection(name), wrap);
      collections.set(name, cached);
    }
    return cached;
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'collection') return collection;
      const admit = typeof prop === 'string' ? DB_METHODS[prop] : undefined;
      if (admit === undefined) return Reflect.get(target, prop, receiver);
      let method = methods.get(prop);
      if (method === undefined) {
        method = wrap(target, prop as string, admit);
        methods.set(prop, method);
      }
      return method;
    },
  });
}

type Wrap = (target: object, name: string, admit: Admit) => AnyMethod;

function admittedCollection<T extends Document>(collection: Collection<T>, wrap: Wrap): Collection<T> {
  const methods = new Map<PropertyKey, AnyMethod>();
  return new Proxy(collection, {
    get(target, prop, receiver) {
      const admit = typeof prop === 'string' ? COLLECTION_METHODS[prop] : undefined;
      if (admit === undefined) return Reflect.get(target, prop, receiver);
      let method = methods.get(prop);
      if (method === undefined) {
        method = wrap(target, prop as string, admit);
        methods.set(prop, method);
      }
      return method;
    },
  });
}

function wrapper(admission: TenantAdmission): Wrap {
  return (target, name, admit) => {
    const method = (target as Record<string, AnyMethod>)[name] as AnyMethod;
    switch (admit) {
      case 'run':
        return (...args) => (inTransaction(args) ? method.apply(target, args) : admission.run(target, method as Run, args));
      case 'cursor':
        return (...args) => {
          const cursor = method.apply(target, args) as AbstractCursor;
          return inTransaction(args) ? cursor : admission.cursor(cursor);
        };
      case 'collection':
        return (...args) =>
          inTransaction(args)
            ? method.apply(target, args)
            : admission.run(target, method as Run, args).then((c) => admittedCollection(c as Collection, wrapper(admission)));
      case 'bulk':
        return (...args) => {
          const bulk = method.apply(target, args) as { execute: AnyMethod };
          const execute = bulk.execute;
          const outer = args;
          bulk.execute = (...executeArgs) =>
            inTransaction(executeArgs) || inTransaction(outer)
              ? execute.apply(bulk, executeArgs)
              : admission.run(bulk, execute as Run, executeArgs);
          return bulk;
        };
    }
  };
}
