import type { Document } from 'bson';
import { isNumeric, numericValue } from './bsonValues.js';

/**
 * MongoDB's comparison order of BSON values: MinKey < null < numbers < strings < objects < arrays < binary <
 * ObjectId < booleans < dates < timestamps < regular expressions < MaxKey. Numbers compare by value across types.
 * Works on stored documents (exact BSON types) and on promoted copies alike.
 */
export type StringKey = (s: string) => string;

function bsonType(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? (value as { _bsontype?: string })._bsontype : undefined;
}

/** The canonical type rank of a value (mongod's canonicalizeBSONType). */
export function typeRank(value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (isNumeric(value)) return 10;
  switch (typeof value) {
    case 'string':
      return 15;
    case 'boolean':
      return 40;
    case 'bigint':
      return 10;
    default:
  }
  if (value instanceof Date) return 45;
  if (value instanceof RegExp) return 55;
  if (Array.isArray(value)) return 25;
  if (value instanceof Uint8Array) return 30;
  switch (bsonType(value)) {
    case undefined:
      return 20;
    case 'MinKey':
      return 0;
    case 'MaxKey':
      return 100;
    case 'BSONSymbol':
      return 15;
    case 'Binary':
      return 30;
    case 'ObjectId':
      return 35;
    case 'Timestamp':
      return 50;
    case 'BSONRegExp':
      return 55;
    case 'DBRef':
      return 20;
    case 'Code':
      return 60;
    default:
      return 70;
  }
}

const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

function compareNumbers(a: unknown, b: unknown): number {
  if (bsonType(a) === 'Long' && bsonType(b) === 'Long') return (a as { compare(o: unknown): number }).compare(b);
  const x = typeof a === 'bigint' ? Number(a) : numericValue(a as number);
  const y = typeof b === 'bigint' ? Number(b) : numericValue(b as number);
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return sign(x - y);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return (value as { buffer: Uint8Array }).buffer;
}

function compareBinary(a: unknown, b: unknown): number {
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.length !== y.length) return sign(x.length - y.length);
  const subA = (a as { sub_type?: number }).sub_type ?? 0;
  const subB = (b as { sub_type?: number }).sub_type ?? 0;
  if (subA !== subB) return sign(subA - subB);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return sign((x[i] as number) - (y[i] as number));
  return 0;
}

/** Compares two BSON values in MongoDB's order; `key` maps strings to collation keys when a collation applies. */
export function compareValues(a: unknown, b: unknown, key?: StringKey): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return sign(ra - rb);
  switch (ra) {
    case 0:
    case 1:
    case 100:
      return 0;
    case 10:
      return compareNumbers(a, b);
    case 15: {
      const x = String(typeof a === 'string' ? a : (a as { value: string }).value);
      const y = String(typeof b === 'string' ? b : (b as { value: string }).value);
      return key ? compareStrings(key(x), key(y)) : compareStrings(x, y);
    }
    case 20:
      return compareObjects(a as Document, b as Document, key);
    case 25:
      return compareObjects({ ...(a as unknown[]) }, { ...(b as unknown[]) }, key);
    case 30:
      return compareBinary(a, b);
    case 35:
      return compareStrings((a as { toHexString(): string }).toHexString(), (b as { toHexString(): string }).toHexString());
    case 40:
      return sign(Number(a) - Number(b));
    case 45:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 50: {
      const x = a as { t: number; i: number };
      const y = b as { t: number; i: number };
      return x.t !== y.t ? sign(x.t - y.t) : sign(x.i - y.i);
    }
    case 55: {
      const x = a as { source?: string; pattern?: string; flags?: string; options?: string };
      const y = b as { source?: string; pattern?: string; flags?: string; options?: string };
      return (
        compareStrings(x.source ?? x.pattern ?? '', y.source ?? y.pattern ?? '') ||
        compareStrings(x.flags ?? x.options ?? '', y.flags ?? y.options ?? '')
      );
    }
    default:
      return compareStrings(String(a), String(b));
  }
}

/** Objects compare field by field: the value's type, then the field name, then the value; a prefix sorts first. */
function compareObjects(a: Document, b: Document, key?: StringKey): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const fa = ka[i] as string;
    const fb = kb[i] as string;
    const byType = sign(typeRank(a[fa]) - typeRank(b[fb]));
    if (byType !== 0) return byType;
    const byName = compareStrings(fa, fb);
    if (byName !== 0) return byName;
    const byValue = compareValues(a[fa], b[fb], key);
    if (byValue !== 0) return byValue;
  }
  return sign(ka.length - kb.length);
}

/** The values a sort path reaches: arrays on the way are expanded, as mongod's sort key generator does. */
function valuesAt(value: unknown, parts: string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(value)) {
      if (value.length === 0) out.push(undefined);
      else for (const v of value) out.push(v);
    } else {
      out.push(value);
    }
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[i] as string;
    if (/^\d+$/.test(part) && Number(part) < value.length) valuesAt(value[Number(part)], parts, i + 1, out);
    for (const v of value) if (v !== null && typeof v === 'object' && !Array.isArray(v)) valuesAt(v, parts, i, out);
    return;
  }
  if (value === null || typeof value !== 'object' || bsonType(value) !== undefined) {
    out.push(undefined);
    return;
  }
  valuesAt((value as Document)[parts[i] as string], parts, i + 1, out);
}

/** The value a document sorts by on one path: the smallest reached value ascending, the largest descending. */
function sortKey(doc: Document, path: string, direction: number, key?: StringKey): unknown {
  const values: unknown[] = [];
  valuesAt(doc, path.split('.'), 0, values);
  let best = values[0];
  for (let i = 1; i < values.length; i++) {
    const c = compareValues(values[i], best, key);
    if (direction > 0 ? c < 0 : c > 0) best = values[i];
  }
  return best;
}

/** A stable sort of documents by a sort specification (`{ field: 1 | -1 }`), in MongoDB's order. */
export function sortBySpec(docs: Document[], spec: Document, key?: StringKey): Document[] {
  const fields = Object.entries(spec).map(([path, dir]) => ({ path, dir: Number(dir) < 0 ? -1 : 1 }));
  const keyed = docs.map((doc, index) => ({ doc, index, keys: fields.map((f) => sortKey(doc, f.path, f.dir, key)) }));
  keyed.sort((x, y) => {
    for (let i = 0; i < fields.length; i++) {
      const c = compareValues(x.keys[i], y.keys[i], key);
      if (c !== 0) return c * (fields[i] as { dir: number }).dir;
    }
    return x.index - y.index;
  });
  return keyed.map((k) => k.doc);
}
