import { type Document, EJSON } from 'bson';
import { promote } from './bsonValues.js';

/** A stable map key for an `_id` value: equal ids give equal keys. */
export function idKey(id: unknown): string {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${id}`;
  if (id !== null && typeof id === 'object') {
    const t = (id as { _bsontype?: string })._bsontype;
    if (t === 'ObjectId') return `o${(id as { toHexString(): string }).toHexString()}`;
    // Numbers of different BSON types are the same _id when equal, as in mongod's _id index.
    if (t === 'Int32' || t === 'Double') return `n${(id as { value: number }).value}`;
    if (t === 'Long' || t === 'Decimal128') return `n${String(promote(id))}`;
    if (t === undefined && !Array.isArray(id) && !(id instanceof Date))
      return `x${EJSON.stringify(promote(id) as Document, { relaxed: false })}`;
  }
  return `x${EJSON.stringify(id as Document, { relaxed: false })}`;
}

/** Deep copy of plain objects and arrays; BSON value classes are immutable and shared. */
export function cloneDocument<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneDocument) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value as Document)) out[k] = cloneDocument(v);
    return out as T;
  }
  return value;
}

export function getPath(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Document)[part];
  }
  return current;
}
