import type { Document } from 'bson';
import { find as mingoFind, Query } from 'mingo';
import { type Collation, collationKey, keyStrings } from './collation.js';
import { CommandError, ErrorCodes, WriteError } from './errors.js';
import { type StringKey, sortBySpec, typeRank } from './storage/bsonOrder.js';
import { promote, promoted } from './storage/bsonValues.js';
import type { CollectionView } from './storage/catalog.js';
import { getPath, idKey } from './storage/documents.js';

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

/** Whether a filter condition matches with a regular expression, which compares code points under any collation. */
function usesRegex(condition: unknown): boolean {
  if (condition instanceof RegExp || (condition as { _bsontype?: string } | null)?._bsontype === 'BSONRegExp') return true;
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) return false;
  const c = condition as Document;
  return (
    '$regex' in c ||
    usesRegex(c.$not) ||
    (Array.isArray(c.$in) && c.$in.some(usesRegex)) ||
    (Array.isArray(c.$nin) && c.$nin.some(usesRegex))
  );
}

/**
 * A predicate for `filter` over stored documents; `variables` are a command's `let` values (`$$name` in `$expr`).
 * Under a collation, strings compare through their collation keys, except in regular expressions.
 */
export function matcher(filter: Document, variables?: Document, collation?: Collation): (doc: Document) => boolean {
  const bounds = boundsAgainstExtremes(filter);
  if (bounds) {
    const rest = matcher(bounds.rest, variables, collation);
    return (doc) => bounds.tests.every((test) => test(doc)) && rest(doc);
  }
  if (!collation) {
    const options = variables ? { variables: promote(variables) as Document } : undefined;
    const query = withMingo(() => new Query(promote(filter) as Document, options));
    return (doc) => withMingo(() => query.test(promoted(doc)));
  }
  const binary: Document = {};
  const collated: Document = {};
  for (const [field, condition] of Object.entries(filter)) (usesRegex(condition) ? binary : collated)[field] = condition;
  const options = variables ? { variables: keyStrings(promote(variables), collation) as Document } : undefined;
  const binaryQuery = withMingo(() => new Query(promote(binary) as Document));
  const collatedQuery = withMingo(() => new Query(keyStrings(promote(collated), collation) as Document, options));
  return (doc) => {
    const plain = promoted(doc);
    return withMingo(() => binaryQuery.test(plain) && collatedQuery.test(keyStrings(plain, collation) as Document));
  };
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);

function extremeKind(value: unknown): 'MinKey' | 'MaxKey' | undefined {
  const t = (value as { _bsontype?: string } | null)?._bsontype;
  return t === 'MinKey' || t === 'MaxKey' ? t : undefined;
}

/** Whether one value satisfies `op` against MinKey or MaxKey: they compare with values of every BSON type. */
function satisfiesBound(value: unknown, op: string, kind: 'MinKey' | 'MaxKey'): boolean {
  const rank = typeRank(value);
  const equal = rank === (kind === 'MinKey' ? 0 : 100);
  if (op === '$gte' || op === '$lte') return equal || (kind === 'MinKey') === (op === '$gte');
  return !equal && (kind === 'MinKey') === (op === '$gt');
}

/**
 * Range conditions against MinKey or MaxKey (`{ v: { $gt: MinKey() } }`): mongod compares them across BSON types
 * (everything is above MinKey and below MaxKey), where other ranges only compare values of one type. They are tested
 * here; the rest of the filter goes to mingo. Undefined when the filter has none.
 */
function boundsAgainstExtremes(filter: Document): { tests: Array<(doc: Document) => boolean>; rest: Document } | undefined {
  let tests: Array<(doc: Document) => boolean> | undefined;
  const rest: Document = {};
  for (const [path, condition] of Object.entries(filter)) {
    const ops = condition !== null && typeof condition === 'object' && !Array.isArray(condition) ? Object.keys(condition) : [];
    const extremes = ops.filter((op) => RANGE_OPERATORS.has(op) && extremeKind((condition as Document)[op]) !== undefined);
    if (extremes.length === 0) {
      rest[path] = condition;
      continue;
    }
    tests ??= [];
    for (const op of extremes) {
      const kind = extremeKind((condition as Document)[op]) as 'MinKey' | 'MaxKey';
      tests.push((doc) => {
        const value = getPath(doc, path);
        if (value === undefined) return false;
        return satisfiesBound(value, op, kind) || (Array.isArray(value) && value.some((v) => satisfiesBound(v, op, kind)));
      });
    }
    const others = Object.fromEntries(ops.filter((op) => !extremes.includes(op)).map((op) => [op, (condition as Document)[op]]));
    if (Object.keys(others).length > 0) rest[path] = others;
  }
  return tests ? { tests, rest } : undefined;
}

/** Documents matching `filter`, in natural order; `_id` equality is a direct lookup. */
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
  const matches = matcher(f, variables, collation);
  const matched: Array<[string, Document]> = [];
  for (const entry of view.entries()) if (matches(entry[1])) matched.push(entry);
  return matched;
}

/** A collation's string comparison key, for sorts and groupings (memoized per use); undefined compares code points. */
export function stringKey(collation: Collation | undefined): StringKey | undefined {
  if (!collation) return undefined;
  const keys = new Map<string, string>();
  return (s) => {
    let key = keys.get(s);
    if (key === undefined) {
      key = collationKey(s, collation);
      keys.set(s, key);
    }
    return key;
  };
}

/** Sorts stored documents as MongoDB does: BSON type order, numbers by value across types, strings by collation. */
export function sortDocuments(docs: Document[], sort: Document, collation?: Collation): Document[] {
  if (docs.length < 2) return docs;
  return sortBySpec(docs, sort, stringKey(collation));
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
