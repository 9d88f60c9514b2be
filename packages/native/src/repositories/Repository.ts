import type { OperationStart, PolyMongoCore, Route } from '@polymongo/core';
import { PolyMongoError } from '@polymongo/core';
import type {
  AggregateOptions,
  BulkWriteOptions,
  Collection,
  CountDocumentsOptions,
  Db,
  DeleteOptions,
  DeleteResult,
  Document,
  Filter,
  FindOptions,
  InsertManyResult,
  InsertOneOptions,
  InsertOneResult,
  OptionalUnlessRequiredId,
  ReplaceOptions,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
} from 'mongodb';
import type { z } from 'zod';
import type { NativePool } from '../driver/MongoDriverPort.js';
import type { RepositoryDefinition } from './defineRepository.js';
import { ValidationError } from './ValidationError.js';

/** The document type of a definition: the schema's output, or any document without a schema. */
export type DocumentOf<Def extends RepositoryDefinition> = Def['schema'] extends z.ZodObject
  ? z.output<Def['schema']> & Document
  : Document;

/** The input type of writes: the schema's input, or any document without a schema. */
export type InputOf<Def extends RepositoryDefinition> = Def['schema'] extends z.ZodObject ? z.input<Def['schema']> : Document;

const VALIDATED_UPDATE_OPERATORS = ['$set', '$setOnInsert'] as const;

/**
 * One tenant's typed view of a collection. It is bound to that tenant's database and cannot reach another.
 * Writes are validated against the definition's zod schema; a failure throws ValidationError and writes nothing.
 */
export class Repository<Def extends RepositoryDefinition, T extends Document = DocumentOf<Def>> {
  /** The driver collection, for anything the repository does not wrap. */
  readonly collection: Collection<T>;

  constructor(
    private readonly core: PolyMongoCore<NativePool, Db>,
    private readonly route: Route,
    db: Db,
    readonly definition: Def,
  ) {
    this.collection = db.collection<T>(definition.collection);
  }

  private op(command: string): OperationStart {
    return { tenantId: this.route.tenantId, dbName: this.route.dbName, command: `repo.${command}`, poolKey: this.route.poolKey };
  }

  private run<R>(command: string, fn: () => Promise<R>): Promise<R> {
    return this.core.runOperation(this.op(command), fn);
  }

  private parse(doc: unknown, operation: string): T {
    const schema = this.definition.schema;
    if (!schema || !this.definition.validate) return doc as T;
    const result = schema.safeParse(doc);
    if (!result.success) throw new ValidationError(this.definition.collection, operation, result.error.issues);
    const id = (doc as Document | null)?._id;
    return (id !== undefined && !('_id' in result.data) ? { _id: id, ...result.data } : result.data) as T;
  }

  private parseUpdate(update: UpdateFilter<T> | Document[], operation: string): UpdateFilter<T> | Document[] {
    const schema = this.definition.schema;
    if (!schema || !this.definition.validate || Array.isArray(update)) return update;
    const partial = schema.partial();
    const out: Document = { ...update };
    for (const operator of VALIDATED_UPDATE_OPERATORS) {
      const fields = (update as Document)[operator];
      if (!fields || typeof fields !== 'object') continue;
      // Dotted paths (a.b) address inside a field; they are passed through unvalidated.
      const topLevel = Object.fromEntries(Object.entries(fields).filter(([k]) => !k.includes('.')));
      const result = partial.safeParse(topLevel);
      if (!result.success) throw new ValidationError(this.definition.collection, `${operation} (${operator})`, result.error.issues);
      const dotted = Object.fromEntries(Object.entries(fields).filter(([k]) => k.includes('.')));
      out[operator] = { ...result.data, ...dotted };
    }
    return out as UpdateFilter<T>;
  }

  insertOne(doc: InputOf<Def>, options?: InsertOneOptions): Promise<InsertOneResult<T>> {
    return this.run('insertOne', async () =>
      this.collection.insertOne(this.parse(doc, 'insertOne') as OptionalUnlessRequiredId<T>, options),
    );
  }

  insertMany(docs: InputOf<Def>[], options?: BulkWriteOptions): Promise<InsertManyResult<T>> {
    return this.run('insertMany', async () => {
      const parsed = docs.map((d, i) => this.parse(d, `insertMany (document ${i})`));
      return this.collection.insertMany(parsed as OptionalUnlessRequiredId<T>[], options);
    });
  }

  replaceOne(filter: Filter<T>, doc: InputOf<Def>, options?: ReplaceOptions): Promise<UpdateResult<T> | Document> {
    return this.run('replaceOne', async () => this.collection.replaceOne(filter, this.parse(doc, 'replaceOne'), options));
  }

  updateOne(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions): Promise<UpdateResult<T>> {
    return this.run('updateOne', async () => this.collection.updateOne(filter, this.parseUpdate(update, 'updateOne'), options));
  }

  updateMany(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions): Promise<UpdateResult<T>> {
    return this.run('updateMany', async () => this.collection.updateMany(filter, this.parseUpdate(update, 'updateMany'), options));
  }

  findOne(filter: Filter<T> = {}, options?: FindOptions): Promise<WithId<T> | null> {
    return this.run('findOne', () => this.collection.findOne(filter, options));
  }

  find(filter: Filter<T> = {}, options?: FindOptions): Promise<WithId<T>[]> {
    return this.run('find', () => this.collection.find(filter, options).toArray());
  }

  countDocuments(filter: Filter<T> = {}, options?: CountDocumentsOptions): Promise<number> {
    return this.run('countDocuments', () => this.collection.countDocuments(filter, options));
  }

  deleteOne(filter: Filter<T>, options?: DeleteOptions): Promise<DeleteResult> {
    return this.run('deleteOne', () => this.collection.deleteOne(filter, options));
  }

  deleteMany(filter: Filter<T>, options?: DeleteOptions): Promise<DeleteResult> {
    return this.run('deleteMany', () => this.collection.deleteMany(filter, options));
  }

  /** Runs a pipeline in this tenant's database; `$out` and `$merge` into another database are refused. */
  async aggregate<R extends Document = Document>(pipeline: Document[], options?: AggregateOptions): Promise<R[]> {
    for (const stage of pipeline) {
      const target = stage.$out ?? stage.$merge?.into ?? stage.$merge;
      const db = typeof target === 'object' && target !== null ? (target as { db?: unknown }).db : undefined;
      if (db !== undefined && db !== this.route.dbName) {
        throw new PolyMongoError(
          'INVALID_TENANT',
          `A pipeline of tenant "${this.route.tenantId}" may not write into database "${String(db)}"; repositories stay inside their tenant.`,
        );
      }
    }
    return this.run('aggregate', () => this.collection.aggregate<R>(pipeline, options).toArray());
  }

  /** Creates the definition's indexes in this tenant's database. */
  async ensureIndexes(): Promise<string[]> {
    if (this.definition.indexes.length === 0) return [];
    return this.run('ensureIndexes', () => this.collection.createIndexes([...this.definition.indexes]));
  }
}
