import { Decimal128, type Document, Double, Int32, Long } from 'bson';

/**
 * Documents are stored exactly as they arrived: Int32, Double, Long and Decimal128 keep their BSON types. mingo
 * compares plain numbers, so queries, sorts and pipelines run on a promoted copy, where every numeric type is a
 * JavaScript number and 5, 5.0 and NumberLong(5) are equal, as MongoDB compares numbers across types.
 */

type BsonNumber = Int32 | Double | Long | Decimal128;

function bsonType(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' ? (value as { _bsontype?: string })._bsontype : undefined;
}

export function isNumeric(value: unknown): value is number | BsonNumber {
  if (typeof value === 'number') return true;
  const t = bsonType(value);
  return t === 'Int32' || t === 'Double' || t === 'Long' || t === 'Decimal128';
}

/** The numeric value of a number of any BSON type (a Long beyond 2^53 and a Decimal128 lose precision). */
export function numericValue(value: number | BsonNumber): number {
  if (typeof value === 'number') return value;
  switch (value._bsontype) {
    case 'Int32':
    case 'Double':
      return value.value;
    case 'Long':
      return value.toNumber();
    default:
      return Number(value.toString());
  }
}

/** A copy of `value` with every BSON number replaced by a JavaScript number; other values are shared. */
export function promote(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(promote);
  const t = bsonType(value);
  if (t !== undefined) {
    if (t === 'Long') {
      const long = value as Long;
      return long.lessThanOrEqual(Long.fromNumber(Number.MAX_SAFE_INTEGER)) &&
        long.greaterThanOrEqual(Long.fromNumber(Number.MIN_SAFE_INTEGER))
        ? long.toNumber()
        : long;
    }
    if (t === 'Int32' || t === 'Double' || t === 'Decimal128') return numericValue(value as BsonNumber);
    return value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Document = {};
  for (const key of Object.keys(value)) out[key] = promote((value as Document)[key]);
  return out;
}

const promotedCache = new WeakMap<Document, Document>();

/** The promoted copy of a stored document; stored documents never change in place, so the copy is cached. */
export function promoted(doc: Document): Document {
  let copy = promotedCache.get(doc);
  if (!copy) {
    copy = promote(doc) as Document;
    promotedCache.set(doc, copy);
  }
  return copy;
}

type Rank = 0 | 1 | 2 | 3; // Int32 < Long < Double < Decimal128, the widening order of MongoDB arithmetic

function rank(value: number | BsonNumber): Rank {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 0 : 2;
  switch (value._bsontype) {
    case 'Int32':
      return 0;
    case 'Long':
      return 1;
    case 'Double':
      return 2;
    default:
      return 3;
  }
}

function typed(result: number, r: Rank): BsonNumber {
  if (r === 3) return Decimal128.fromString(String(result));
  if (r === 2) return new Double(result);
  if (r === 1 || !Number.isInteger(result) || Math.abs(result) > 0x7fffffff) return Long.fromNumber(result);
  return new Int32(result);
}

/** `$inc` / `$mul` arithmetic with MongoDB's result types: the wider operand wins, Int32 overflows into Long. */
export function arithmetic(op: '$inc' | '$mul', current: number | BsonNumber, operand: number | BsonNumber): BsonNumber {
  const r = Math.max(rank(current), rank(operand)) as Rank;
  if (r === 1 || (r === 0 && op === '$mul')) {
    const a = toLong(current);
    const b = toLong(operand);
    const result = op === '$inc' ? a.add(b) : a.multiply(b);
    if (r === 0 && result.lessThanOrEqual(0x7fffffff) && result.greaterThanOrEqual(-0x80000000)) return new Int32(result.toInt());
    return result;
  }
  const a = numericValue(current);
  const b = numericValue(operand);
  return typed(op === '$inc' ? a + b : a * b, r);
}

function toLong(value: number | BsonNumber): Long {
  return bsonType(value) === 'Long' ? (value as Long) : Long.fromNumber(numericValue(value));
}

/** Values of `after` equal (as numbers) to those of `stored` at the same path take the stored value and type. */
export function keepStoredTypes(after: unknown, stored: unknown): unknown {
  if (isNumeric(after) && isNumeric(stored)) return numericValue(after) === numericValue(stored) ? stored : after;
  if (after === null || stored === null || typeof after !== 'object' || typeof stored !== 'object') return after;
  if (Array.isArray(after)) {
    return Array.isArray(stored) ? after.map((v, i) => keepStoredTypes(v, stored[i])) : after;
  }
  if (Object.getPrototypeOf(after) !== Object.prototype || Object.getPrototypeOf(stored) !== Object.prototype) return after;
  const out: Document = {};
  for (const [k, v] of Object.entries(after as Document)) out[k] = keepStoredTypes(v, (stored as Document)[k]);
  return out;
}
