import type { AdapterHost, OperationStart, Route } from '@polymongo/core';
import { CrossTenantWriteError } from '@polymongo/core';
import type {
  AggregateOptions,
  AnyBulkWriteOperation,
  BulkWriteOptions,
  BulkWriteResult,
  ClientSession,
  Collection,
  CountDocumentsOptions,
  Db,
  DeleteOptions,
  DeleteResult,
  Document,
  Filter,
  FindOneAndDeleteOptions,
  FindOneAndReplaceOptions,
  FindOneAndUpdateOptions,
  FindOptions,
  InsertManyResult,
  InsertOneOptions,
  InsertOneResult,
  OptionalId,
  OptionalUnlessRequiredId,
  ReplaceOptions,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
  WithoutId,
} from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import { joinTransaction } from '../transactions/transactionSessions.js';
import type { RepositoryDefinition } from './defineRepository.js';
import type { SchemaInput, SchemaOutput, StandardSchemaV1 } from './StandardSchema.js';
import { WriteValidator } from './WriteValidator.js';

/** The document type of a definition: the schema's output, or any document without a schema. */
export type DocumentOf<Def extends RepositoryDefinition> = Def['schema'] extends StandardSchemaV1
  ? SchemaOutput<Def['schema']> extends Document
    ? SchemaOutput<Def['schema']>
    : Document
  : Document;

/** The input type of writes: the schema's input, or any document without a schema. */
export type InputOf<Def extends RepositoryDefinition> = Def['schema'] extends StandardSchemaV1 ? SchemaInput<Def['schema']> : Document;

/** Per-call option of every write: `validate: false` skips schema validation for this call, deliberately. */
export interface ValidateOption {
  validate?: boolean;
}

type FindOneAndUpdateCallOptions = Omit<FindOneAndUpdateOptions, 'includeResultMetadata'> & ValidateOption;
type FindOneAndReplaceCallOptions = Omit<FindOneAndReplaceOptions, 'includeResultMetadata'> & ValidateOption;

/**
 * One tenant's typed view of a collection. It is bound to that tenant's database and cannot reach another.
 * Every write is validated against the definition's schema — inserts and replacements whole, updates operator by
 * operator, upserts as the document they would insert — and operators that cannot be validated (pipeline updates,
 * `$rename`) are refused; a failure throws ValidationError (VALIDATION_FAILED) and writes nothing.
 */
export class Repository<Def extends RepositoryDefinition, T extends Document = DocumentOf<Def>> {
  /** The driver collection, for anything the repository does not wrap (and does not validate). */
  readonly collection: Collection<T>;
  private readonly validator: WriteValidator | undefined;

  constructor(
    private readonly host: AdapterHost<NativePool, Db>,
    private readonly route: Route,
    db: Db,
    readonly definition: Def,
  ) {
    this.collection = db.collection<T>(definition.collection);
    this.validator = definition.schema && definition.validate ? new WriteValidator(definition.schema, definition.collection) : undefined;
  }

  private op(command: string): OperationStart {
    return { tenantId: this.route.tenantId, dbName: this.route.dbName, command: `repo.${command}`, poolKey: this.route.poolKey };
  }

  private run<R>(command: string, session: ClientSession | undefined, fn: () => Promise<R>): Promise<R> {
    try {
      joinTransaction(session, this.route);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.host.runOperation(this.op(command), fn);
  }

  private validating(options: ValidateOption | undefined): WriteValidator | undefined {
    return options?.validate === false ? undefined : this.validator;
  }

  private async document(doc: unknown, operation: string, options: ValidateOption | undefined): Promise<T> {
    const v = this.validating(options);
    return (v ? await v.document(doc, operation) : doc) as T;
  }

  private async update(
    filter: Filter<T>,
    update: UpdateFilter<T> | Document[],
    options: (ValidateOption & { upsert?: boolean }) | undefined,
    operation: string,
  ): Promise<UpdateFilter<T> | Document[]> {
    const v = this.validating(options);
    return (v ? await v.update(filter as Document, update as Document, options?.upsert === true, operation) : update) as UpdateFilter<T>;
  }

  insertOne(doc: InputOf<Def>, options?: InsertOneOptions & ValidateOption): Promise<InsertOneResult<T>> {
    const { validate, ...driver } = options ?? {};
    return this.run('insertOne', driver.session, async () =>
      this.collection.insertOne((await this.document(doc, 'insertOne', { validate })) as OptionalUnlessRequiredId<T>, driver),
    );
  }

  insertMany(docs: InputOf<Def>[], options?: BulkWriteOptions & ValidateOption): Promise<InsertManyResult<T>> {
    const { validate, ...driver } = options ?? {};
    return this.run('insertMany', driver.session, async () => {
      const parsed: T[] = [];
      for (const [i, d] of docs.entries()) parsed.push(await this.document(d, `insertMany (document ${i})`, { validate }));
      return this.collection.insertMany(parsed as OptionalUnlessRequiredId<T>[], driver);
    });
  }

  replaceOne(filter: Filter<T>, doc: InputOf<Def>, options?: ReplaceOptions & ValidateOption): Promise<UpdateResult<T> | Document> {
    const { validate, ...driver } = options ?? {};
    return this.run('replaceOne', driver.session, async () =>
      this.collection.replaceOne(filter, (await this.document(doc, 'replaceOne', { validate })) as WithoutId<T>, driver),
    );
  }

  updateOne(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions & ValidateOption): Promise<UpdateResult<T>> {
    const { validate, ...driver } = options ?? {};
    return this.run('updateOne', driver.session, async () =>
      this.collection.updateOne(filter, await this.update(filter, update, options, 'updateOne'), driver),
    );
  }

  updateMany(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions & ValidateOption): Promise<UpdateResult<T>> {
    const { validate, ...driver } = options ?? {};
    return this.run('updateMany', driver.session, async () =>
      this.collection.updateMany(filter, await this.update(filter, update, options, 'updateMany'), driver),
    );
  }

  /** Updates one document and returns it (as it was before, or after with `returnDocument: 'after'`), validated as `updateOne`. */
  findOneAndUpdate(
    filter: Filter<T>,
    update: UpdateFilter<T> | Document[],
    options?: FindOneAndUpdateCallOptions,
  ): Promise<WithId<T> | null> {
    const { validate, ...driver } = options ?? {};
    return this.run('findOneAndUpdate', driver.session, async () =>
      this.collection.findOneAndUpdate(filter, await this.update(filter, update, options, 'findOneAndUpdate'), {
        ...driver,
        includeResultMetadata: false,
      }),
    );
  }

  /** Replaces one document and returns it, the replacement validated whole. */
  findOneAndReplace(filter: Filter<T>, doc: InputOf<Def>, options?: FindOneAndReplaceCallOptions): Promise<WithId<T> | null> {
    const { validate, ...driver } = options ?? {};
    return this.run('findOneAndReplace', driver.session, async () =>
      this.collection.findOneAndReplace(filter, (await this.document(doc, 'findOneAndReplace', { validate })) as WithoutId<T>, {
        ...driver,
        includeResultMetadata: false,
      }),
    );
  }

  findOneAndDelete(filter: Filter<T>, options?: Omit<FindOneAndDeleteOptions, 'includeResultMetadata'>): Promise<WithId<T> | null> {
    return this.run('findOneAndDelete', options?.session, () =>
      this.collection.findOneAndDelete(filter, { ...options, includeResultMetadata: false }),
    );
  }

  /**
   * Several writes in one round trip. Every operation is validated as its single form is, all of them before
   * anything is sent: one invalid operation means none is written, ordered or not.
   */
  bulkWrite(operations: AnyBulkWriteOperation<T>[], options?: BulkWriteOptions & ValidateOption): Promise<BulkWriteResult> {
    const { validate, ...driver } = options ?? {};
    return this.run('bulkWrite', driver.session, async () => {
      const checked: AnyBulkWriteOperation<T>[] = [];
      for (const [i, operation] of operations.entries()) checked.push(await this.bulkOperation(operation, i, { validate }));
      return this.collection.bulkWrite(checked, driver);
    });
  }

  private async bulkOperation(operation: AnyBulkWriteOperation<T>, i: number, options: ValidateOption): Promise<AnyBulkWriteOperation<T>> {
    const name = `bulkWrite (operation ${i})`;
    if ('insertOne' in operation) {
      return { insertOne: { document: (await this.document(operation.insertOne.document, name, options)) as OptionalId<T> } };
    }
    if ('replaceOne' in operation) {
      const r = operation.replaceOne;
      return { replaceOne: { ...r, replacement: (await this.document(r.replacement, name, options)) as WithoutId<T> } };
    }
    if ('updateOne' in operation) {
      const u = operation.updateOne;
      return { updateOne: { ...u, update: await this.update(u.filter, u.update, { ...options, upsert: u.upsert }, name) } };
    }
    if ('updateMany' in operation) {
      const u = operation.updateMany;
      return { updateMany: { ...u, update: await this.update(u.filter, u.update, { ...options, upsert: u.upsert }, name) } };
    }
    return operation;
  }

  findOne(filter: Filter<T> = {}, options?: FindOptions): Promise<WithId<T> | null> {
    return this.run('findOne', options?.session, () => this.collection.findOne(filter, options));
  }

  find(filter: Filter<T> = {}, options?: FindOptions): Promise<WithId<T>[]> {
    return this.run('find', options?.session, () => this.collection.find(filter, options).toArray());
  }

  countDocuments(filter: Filter<T> = {}, options?: CountDocumentsOptions): Promise<number> {
    return this.run('countDocuments', options?.session, () => this.collection.countDocuments(filter, options));
  }

  deleteOne(filter: Filter<T>, options?: DeleteOptions): Promise<DeleteResult> {
    return this.run('deleteOne', options?.session, () => this.collection.deleteOne(filter, options));
  }

  deleteMany(filter: Filter<T>, options?: DeleteOptions): Promise<DeleteResult> {
    return this.run('deleteMany', options?.session, () => this.collection.deleteMany(filter, options));
  }

  /** Runs a pipeline in this tenant's database; `$out` and `$merge` into another database are refused. */
  async aggregate<R extends Document = Document>(pipeline: Document[], options?: AggregateOptions): Promise<R[]> {
    for (const stage of pipeline) {
      const target = stage.$out ?? stage.$merge?.into ?? stage.$merge;
      const db = typeof target === 'object' && target !== null ? (target as { db?: unknown }).db : undefined;
      if (db !== undefined && db !== this.route.dbName) {
        throw new CrossTenantWriteError(this.route.tenantId, String(db));
      }
    }
    return this.run('aggregate', options?.session, () => this.collection.aggregate<R>(pipeline, options).toArray());
  }

  /** Creates the definition's indexes in this tenant's database. */
  async ensureIndexes(): Promise<string[]> {
    if (this.definition.indexes.length === 0) return [];
    return this.run('ensureIndexes', undefined, () => this.collection.createIndexes([...this.definition.indexes]));
  }
}
