import { BSON, type Document } from 'mongodb';

const { EJSON } = BSON;

import { type IndexShape, toShape } from './indexSpec.js';

export interface IndexDifference {
  name: string;
  /** The options that differ: key, unique, sparse, partialFilterExpression, collation, expireAfterSeconds. */
  fields: string[];
  expected: IndexShape;
  actual: IndexShape;
}

/** One collection of one tenant whose indexes differ from the spec. */
export interface IndexDrift {
  tenant: string;
  collection: string;
  missing: IndexShape[];
  extra: IndexShape[];
  different: IndexDifference[];
}

const sameJSON = (a: unknown, b: unknown) =>
  EJSON.stringify(a ?? null, { relaxed: true }) === EJSON.stringify(b ?? null, { relaxed: true });

/** Two normalised keys (`toShape`: numbers and strings only) in the same field order. */
function sameKey(a: IndexShape['key'], b: IndexShape['key']): boolean {
  const fields = Object.keys(a);
  const other = Object.keys(b);
  if (fields.length !== other.length) return false;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (field !== other[i] || a[field] !== b[field]) return false;
  }
  return true;
}

/** Options that are documents: compared as relaxed Extended JSON, and only when one side has them. */
const sameOption = (a: unknown, b: unknown) => (a === undefined && b === undefined) || sameJSON(a, b);

function sameCollation(expected: Document | undefined, actual: Document | undefined): boolean {
  if (!expected) return !actual;
  if (!actual) return false;
  // The server fills in defaults (strength, caseLevel...): compare what the spec states.
  return Object.entries(expected).every(([k, v]) => sameJSON(v, actual[k]));
}

function differingFields(expected: IndexShape, actual: IndexShape): string[] {
  const fields: string[] = [];
  if (!sameKey(expected.key, actual.key)) fields.push('key');
  if ((expected.unique ?? false) !== (actual.unique ?? false)) fields.push('unique');
  if ((expected.sparse ?? false) !== (actual.sparse ?? false)) fields.push('sparse');
  if (!sameOption(expected.partialFilterExpression, actual.partialFilterExpression)) fields.push('partialFilterExpression');
  if (!sameCollation(expected.collation, actual.collation)) fields.push('collation');
  if (expected.expireAfterSeconds !== actual.expireAfterSeconds) fields.push('expireAfterSeconds');
  return fields;
}

/** Compares a collection's wanted indexes with its listIndexes output. `_id_` is never extra. */
export function compareIndexes(expected: IndexShape[], listed: Document[]): Omit<IndexDrift, 'tenant' | 'collection'> {
  const actual = listed.filter((ix) => ix.name !== '_id_').map((ix) => toShape(ix, 'listIndexes'));
  const matched = new Set<IndexShape>();
  const missing: IndexShape[] = [];
  const different: IndexDifference[] = [];
  for (const want of expected) {
    const found =
      actual.find((a) => !matched.has(a) && sameKey(a.key, want.key)) ?? actual.find((a) => !matched.has(a) && a.name === want.name);
    if (!found) {
      missing.push(want);
      continue;
    }
    matched.add(found);
    const fields = differingFields(want, found);
    if (fields.length > 0) different.push({ name: found.name, fields, expected: want, actual: found });
  }
  return { missing, extra: actual.filter((a) => !matched.has(a)), different };
}
