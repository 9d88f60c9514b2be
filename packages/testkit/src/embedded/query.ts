import type { Document } from 'bson';
import { find as mingoFind, Query } from 'mingo';
import { type Collation, foldStrings, mingoCollation } from './collation.js';
import { CommandError, ErrorCodes, WriteError } from './errors.js';
import { promote, promoted, restoreStored } from './storage/bsonValues.js';
import type { CollectionView } from './storage/catalog.js';
import { idKey } from './storage/documents.js';

export function isOperatorObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if ((value as { _bsontype?: string })._bsontype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** Runs mingo, turning its exceptions into MongoDB-style BadValue errors. */
export function withMingo<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CommandError || err instanceof WriteError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

/** Documents matching `filter`, in natural order; `_id` equality is a direct lookup. */
/** `variables` are a command's `let` values, visible as `$$name` in `$expr`. */
export function select(
  view: CollectionView,
  filter: Document | undefined,
  variables?: Document,
  collation?: Collation,
): Array<[string, Document]> {
  const f = filter ?? {};
  const keys = Object.keys(f);
  if (keys.length === 1 && keys[0] === '_id' && !isOperatorObject(f._id) && (collation === undefined || typeof f._id !== 'string')) {
    const key = idKey(f._id);
    const doc = view.get(key);
    return doc ? [[key, doc]] : [];
  }
  if (keys.length === 0) return [...view.entries()];
  const plainFilter = collation ? foldStrings(promote(f), collation) : promote(f);
  const query = withMingo(() => new Query(plainFilter as Document, variables ? { variables: promote(variables) as Document } : undefined));
  const matched: Array<[string, Document]> = [];
  for (const entry of view.entries()) {
    const doc = collation ? (foldStrings(promoted(entry[1]), collation) as Document) : promoted(entry[1]);
    if (withMingo(() => query.test(doc))) matched.push(entry);
  }
  return matched;
}

/** Sorts stored documents as MongoDB does, comparing numbers across BSON types by value. */
export function sortDocuments(docs: Document[], sort: Document, collation?: Collation): Document[] {
  if (docs.length < 2) return docs;
  const sorted = withMingo(() => mingoFind(docs.map(promoted), {}, undefined, mingoCollation(collation)).sort(sort).all());
  return restoreStored(sorted, docs);
}

interface FindOptions {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
  variables?: Document;
  collation?: Collation;
}

export function runQuery(view: CollectionView | undefined, options: FindOptions): Document[] {
  if (!view) return [];
  const hasSort = options.sort && Object.keys(options.sort).length > 0;
  const hasProjection = options.projection && Object.keys(options.projection).length > 0;
  let docs = select(view, options.filter, options.variables, options.collation).map(([, d]) => d);
  if (hasSort) docs = sortDocuments(docs, options.sort as Document, options.collation);
  if (hasProjection) docs = withMingo(() => mingoFind(docs, {}, options.projection).all());
  const skip = options.skip ?? 0;
  const limit = options.limit ? Math.abs(options.limit) : 0;
  if (skip > 0 || limit > 0) docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return docs;
}
