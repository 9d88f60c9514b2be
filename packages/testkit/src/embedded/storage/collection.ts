import { type Document, EJSON, type Timestamp, UUID } from 'bson';
import { Query } from 'mingo';
import { type Collation, keyStrings, parseCollation } from '../collation.js';
import { CommandError, ErrorCodes, WriteError } from '../errors.js';
import { promote, promoted } from './bsonValues.js';
import { getPath } from './documents.js';
import { WriteHistory } from './history.js';

export interface IndexSpec {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
  [option: string]: unknown;
}

interface UniqueIndex {
  spec: IndexSpec;
  fields: string[];
  filter?: Query;
  /** An index with a collation compares strings by collation key: strength 2 makes 'a' and 'A' one key. */
  collation?: Collation;
  entries: Map<string, string>;
}

/** One collection's documents, indexes and per-document write versions. */
export class Collection {
  readonly uuid = new UUID();
  readonly docs = new Map<string, Document>();
  readonly versions = new Map<string, number>();
  readonly indexes: IndexSpec[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
  /** Documents written by an open transaction, keyed by document key, holding the transaction id. */
  readonly locks = new Map<string, number>();
  /** Recent writes, for snapshot reads at a past cluster time. */
  readonly history = new WriteHistory();
  /** When the collection came to exist; a snapshot read at an earlier time sees no documents. */
  createdAt: Timestamp | undefined;
  options: Document = {};
  private uniques: UniqueIndex[] = [];

  constructor(
    readonly db: string,
    public name: string,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Index keys of `doc` for one unique index; none when a sparse or partial index skips it. */
  private uniqueKeysOf(index: UniqueIndex, doc: Document): string[] {
    const plain = promoted(doc);
    if (index.filter && !index.filter.test(plain)) return [];
    // Keys compare numbers by value across BSON types, as mongod's index keys do.
    const values = index.fields.map((f) => (index.collation ? keyStrings(getPath(plain, f), index.collation) : getPath(plain, f)));
    if (index.spec.sparse && values.every((v) => v === undefined)) return [];
    const first = values[0];
    if (values.length === 1 && Array.isArray(first)) {
      return [...new Set(first.map((v) => EJSON.stringify([v ?? null], { relaxed: false })))];
    }
    return [EJSON.stringify(values.map((v) => v ?? null) as unknown as Document, { relaxed: false })];
  }

  /** Throws E11000 when `doc` (stored under `key`) would collide in a unique index. */
  checkUnique(doc: Document, key: string, ignore?: (otherKey: string) => boolean): void {
    for (const index of this.uniques) {
      for (const k of this.uniqueKeysOf(index, doc)) {
        const owner = index.entries.get(k);
        if (owner !== undefined && owner !== key && !ignore?.(owner)) throw duplicateKey(this, index, doc);
      }
    }
  }

  /** E11000 check against an arbitrary set of documents (used inside transactions). */
  checkUniqueAmong(doc: Document, key: string, others: Iterable<[string, Document]>): void {
    if (this.uniques.length === 0) return;
    for (const index of this.uniques) {
      const mine = new Set(this.uniqueKeysOf(index, doc));
      if (mine.size === 0) continue;
      for (const [otherKey, other] of others) {
        if (otherKey === key) continue;
        if (this.uniqueKeysOf(index, other).some((k) => mine.has(k))) throw duplicateKey(this, index, doc);
      }
    }
  }

  private indexDoc(key: string, doc: Document): void {
    for (const index of this.uniques) for (const k of this.uniqueKeysOf(index, doc)) index.entries.set(k, key);
  }

  private unindexDoc(key: string, doc: Document): void {
    for (const index of this.uniques) {
      for (const k of this.uniqueKeysOf(index, doc)) if (index.entries.get(k) === key) index.entries.delete(k);
    }
  }

  /** Writes or removes one document at cluster time `at`, keeping unique indexes, versions and history in step. */
  put(key: string, doc: Document | null, version: number, at?: Timestamp): void {
    const before = this.docs.get(key);
    if (at) this.history.record(at, key, before);
    if (before) this.unindexDoc(key, before);
    if (doc) {
      this.docs.set(key, doc);
      this.indexDoc(key, doc);
    } else {
      this.docs.delete(key);
    }
    this.versions.set(key, version);
  }

  addIndex(spec: IndexSpec): void {
    if (spec.unique && spec.name !== '_id_') {
      const collation = parseCollation(spec.collation);
      const index: UniqueIndex = {
        spec,
        fields: Object.keys(spec.key),
        entries: new Map(),
        ...(collation ? { collation } : {}),
        ...(spec.partialFilterExpression ? { filter: new Query(promote(spec.partialFilterExpression) as Document) } : {}),
      };
      for (const [key, doc] of this.docs) {
        for (const k of this.uniqueKeysOf(index, doc)) {
          if (index.entries.has(k)) {
            throw new CommandError(ErrorCodes.DuplicateKey, duplicateKey(this, index, doc).message);
          }
          index.entries.set(k, key);
        }
      }
      this.uniques.push(index);
    }
    this.indexes.push(spec);
  }

  /**
   * A collection created with a default collation gives it to its `_id` index too, as mongod does: `_id` strings
   * equal under the collation are duplicates.
   */
  collateIdIndex(): void {
    const collation = parseCollation(this.options.collation);
    if (!collation) return;
    const idIndex = this.indexes[0] as IndexSpec;
    idIndex.collation = this.options.collation;
    const index: UniqueIndex = { spec: idIndex, fields: ['_id'], entries: new Map(), collation };
    for (const [key, doc] of this.docs) for (const k of this.uniqueKeysOf(index, doc)) index.entries.set(k, key);
    this.uniques.push(index);
  }

  dropIndex(name: string): void {
    const i = this.indexes.findIndex((ix) => ix.name === name);
    if (i >= 0) this.indexes.splice(i, 1);
    this.uniques = this.uniques.filter((u) => u.spec.name !== name);
  }

  dataSize(): number {
    let size = 0;
    for (const doc of this.docs.values()) size += EJSON.stringify(doc).length;
    return size;
  }
}

function duplicateKey(coll: Collection, index: UniqueIndex, doc: Document): WriteError {
  const keyValue: Document = {};
  for (const f of index.fields) keyValue[f] = getPath(doc, f) ?? null;
  const dup = index.fields.map((f) => `${f}: ${EJSON.stringify([keyValue[f]] as unknown as Document).slice(1, -1)}`);
  return new WriteError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${coll.ns} index: ${index.spec.name} dup key: { ${dup.join(', ')} }`,
    { keyPattern: index.spec.key, keyValue },
  );
}

export function duplicateIdError(coll: Collection, id: unknown): WriteError {
  return new WriteError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${coll.ns} index: _id_ dup key: { _id: ${EJSON.stringify([id] as unknown as Document).slice(1, -1)} }`,
    { keyPattern: { _id: 1 }, keyValue: { _id: id } },
  );
}

export class Database {
  readonly collections = new Map<string, Collection>();
  constructor(readonly name: string) {}
}

/** The storage numbers `collStats` and `$collStats` report. */
export function collectionStats(coll: Collection | undefined, ns: string): Document {
  const count = coll?.docs.size ?? 0;
  const size = coll?.dataSize() ?? 0;
  return {
    ns,
    count,
    size,
    avgObjSize: count > 0 ? Math.round(size / count) : 0,
    storageSize: size,
    nindexes: coll?.indexes.length ?? 0,
    totalIndexSize: 0,
    indexSizes: Object.fromEntries((coll?.indexes ?? []).map((ix) => [ix.name, 0])),
  };
}
