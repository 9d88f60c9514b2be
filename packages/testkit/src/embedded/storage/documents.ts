import { type Document, EJSON } from 'bson';

/** A stable map key for an `_id` value: equal ids give equal keys. */
export function idKey(id: unknown): string {
  if (typeof id === 'string') return `s${id}`;
  if (typeof id === 'number') return `n${id}`;
  if (id !== null && typeof id === 'object' && (id as { _bsontype?: string })._bsontype === 'ObjectId') {
    return `o${(id as { toHexString(): string }).toHexString()}`;
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
