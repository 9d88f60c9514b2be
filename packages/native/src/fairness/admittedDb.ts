import type { AbstractCursor, Collection, Db } from 'mongodb';
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

const TARGET = Symbol('polymongo.admitted.target');
const ADMISSION = Symbol('polymongo.admitted.admission');
const COLLECTIONS = Symbol('polymongo.admitted.collections');

/** A twin of a driver Db or Collection: same state (shared by reference), admitted methods first in its prototype chain. */
interface Admitted {
  [TARGET]: Record<string, AnyMethod>;
  [ADMISSION]: TenantAdmission;
}

interface AdmittedDbTwin extends Admitted {
  [COLLECTIONS]: Map<string, Collection>;
}

/**
 * A tenant's Db whose operations are admitted by its fairness limits and quotas, made once per cached tenant handle.
 * It is a twin of the driver's Db, not a Proxy: an object with the Db's own state (`s`, `client`, shared by
 * reference, so both see every change) whose prototype is the Db's class prototype with the admitted methods laid
 * over it, made once per driver class. So `instanceof Db` holds, every method the driver has works, and an admitted
 * call costs a plain method call: no trap runs on any property access. Collections it hands out are twins too, cached
 * by name. Operations in a PolyMongo transaction's session pass straight through: the transaction holds the slots.
 */
export function admittedDb(db: Db, admission: TenantAdmission): Db {
  const admitted = twin(db, admission, DB_METHODS) as unknown as AdmittedDbTwin;
  admitted[COLLECTIONS] = new Map();
  return admitted as unknown as Db;
}

function admittedCollection(collection: Collection, admission: TenantAdmission): Collection {
  return twin(collection, admission, COLLECTION_METHODS);
}

function twin<T extends object>(target: T, admission: TenantAdmission, methods: Record<string, Admit>): T {
  const admitted = Object.create(admittedPrototype(Object.getPrototypeOf(target) as object, methods)) as Admitted;
  // The driver object's own fields (its state object, client, db): Db and Collection only ever change what is inside `s`.
  Object.assign(admitted, target);
  admitted[TARGET] = target as unknown as Record<string, AnyMethod>;
  admitted[ADMISSION] = admission;
  return admitted as unknown as T;
}

/** Admitted prototypes, one per driver class prototype, each made once. */
const prototypes = new WeakMap<object, object>();

function admittedPrototype(driverPrototype: object, methods: Record<string, Admit>): object {
  let prototype = prototypes.get(driverPrototype);
  if (prototype === undefined) {
    prototype = Object.create(driverPrototype) as object;
    const own = (name: string, value: AnyMethod) =>
      Object.defineProperty(prototype, name, { value, writable: true, configurable: true, enumerable: false });
    for (const [name, admit] of Object.entries(methods)) {
      if (typeof (driverPrototype as Record<string, unknown>)[name] === 'function') own(name, admittedMethod(name, admit));
    }
    if (methods === DB_METHODS) own('collection', admittedDbCollection as AnyMethod);
    prototypes.set(driverPrototype, prototype);
  }
  return prototype;
}

/** `db.collection(name)`: the tenant's admitted Collection, cached by name (not with options: those are made each time). */
function admittedDbCollection(this: AdmittedDbTwin, name: string, options?: unknown): Collection {
  const db = this[TARGET] as unknown as Db;
  if (options !== undefined) return admittedCollection(db.collection(name, options as never), this[ADMISSION]);
  const collections = this[COLLECTIONS];
  let cached = collections.get(name);
  if (cached === undefined) {
    if (collections.size >= MAX_CACHED_COLLECTIONS) collections.clear();
    cached = admittedCollection(db.collection(name), this[ADMISSION]);
    collections.set(name, cached);
  }
  return cached;
}

/** One admitted method, shared by every twin of a class: it finds its driver object and admission through `this`. */
function admittedMethod(name: string, admit: Admit): AnyMethod {
  switch (admit) {
    case 'run':
      return function run(this: Admitted, ...args: unknown[]) {
        const target = this[TARGET];
        const method = target[name] as Run;
        return inTransaction(args) ? method.apply(target, args) : this[ADMISSION].run(target, method, args);
      };
    case 'cursor':
      return function cursor(this: Admitted, ...args: unknown[]) {
        const target = this[TARGET];
        const result = (target[name] as AnyMethod).apply(target, args) as AbstractCursor;
        return inTransaction(args) ? result : this[ADMISSION].cursor(result);
      };
    case 'collection':
      return function collection(this: Admitted, ...args: unknown[]) {
        const target = this[TARGET];
        const method = target[name] as Run;
        if (inTransaction(args)) return method.apply(target, args);
        const admission = this[ADMISSION];
        return admission.run(target, method, args).then((c) => admittedCollection(c as Collection, admission));
      };
    case 'bulk':
      return function bulk(this: Admitted, ...args: unknown[]) {
        const target = this[TARGET];
        const admission = this[ADMISSION];
        const builder = (target[name] as AnyMethod).apply(target, args) as { execute: AnyMethod };
        const execute = builder.execute;
        builder.execute = (...executeArgs) =>
          inTransaction(executeArgs) || inTransaction(args)
            ? execute.apply(builder, executeArgs)
            : admission.run(builder, execute as Run, executeArgs);
        return builder;
      };
  }
}
