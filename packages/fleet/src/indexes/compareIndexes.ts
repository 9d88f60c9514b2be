import { BSON, type Document } from 'mongodb';

const { EJSON } = BSON;

import { type IndexShape, toShape } from './indexSpec.js';

export interface IndexDifference {
  name: string;
  /**
   * The options that differ: key, unique, sparse, partialFilterExpression, collation, expireAfterSeconds, and for a text
   * index weights, default_language, language_override.
   */
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

/**
 * A text index's key as mongod lists it: its 'text' fields become `_fts: 'text', _ftsx: 1` at the first one's place,
 * the other fields keep their order (the text fields are in `weights`). Other keys are returned as they are.
 */
function listedKey(key: IndexShape['key']): IndexShape['key'] {
  const fields = Object.keys(key);
  if (!fields.some((f) => key[f] === 'text') || '_fts' in key) return key;
  const out: IndexShape['key'] = {};
  for (const field of fields) {
    if (key[field] !== 'text') out[field] = key[field] as number | string;
    else if (!('_fts' in out)) Object.assign(out, { _fts: 'text', _ftsx: 1 });
  }
  return out;
}

/** A text index's fields and weights: its 'text' key fields at weight 1, then the `weights` option (mongod's listing). */
function textWeights(shape: IndexShape): Map<string, number> {
  const weights = new Map<string, number>();
  for (const [field, direction] of Object.entries(shape.key)) if (direction === 'text' && field !== '_fts') weights.set(field, 1);
  for (const [field, weight] of Object.entries(shape.weights ?? {})) weights.set(field, weight);
  return weights;
}

function sameWeights(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([field, weight]) => b.get(field) === weight);
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
  const key = listedKey(expected.key);
  if (!sameKey(key, listedKey(actual.key))) fields.push('key');
  if ('_fts' in key) {
    if (!sameWeights(textWeights(expected), textWeights(actual))) fields.push('weights');
    if ((expected.default_language ?? 'english') !== (actual.default_language ?? 'english')) fields.push('default_language');
    if ((expected.language_override ?? 'language') !== (actual.language_override ?? 'language')) fields.push('language_override');
  }
  if ((expected.unique ?? false) !== (actual.unique ?? false)) fields.push('unique');
  if ((expected.sparse ?? false) !== (actual.sparse ?? false)) fields.push('sparse');
  if (!sameOption(expected.partialFilterExpression, actual.partialFilterExpression)) fields.push('partialFilterExpression');
  if (!sameCollation(expected.collation, actual.collation)) fields.push('collation');
  if (expected.expireAfterSeconds !== actual.expireAfterSeconds) fields.push('expireAfterSeconds');
  return fields;
}

const isText = (shape: IndexShape) => '_fts' in listedKey(shape.key);

/**
 * Compares a collection's wanted indexes with its listIndexes output. `_id_` is never extra. An index is paired with
 * the listed one of the same key (as mongod lists it), else of the same name; a wanted text index left unpaired is
 * paired with the collection's text index, whatever its key: a collection has at most one text index (a second
 * createIndexes fails with 85 IndexOptionsConflict), so a changed text index is `different` (replaced only with
 * `replaceDifferent`), never `extra` + `missing`.
 */
export function compareIndexes(expected: IndexShape[], listed: Document[]): Omit<IndexDrift, 'tenant' | 'collection'> {
  // A rollout's usual case, a collection with only `_id_` (or none): every wanted index is missing, nothing to pair.
  if (listed.every((ix) => ix.name === '_id_')) return { missing: [...expected], extra: [], different: [] };
  const actual = listed.filter((ix) => ix.name !== '_id_').map((ix) => toShape(ix, 'listIndexes'));
  const pairs = new Map<IndexShape, IndexShape>();
  const matched = new Set<IndexShape>();
  for (const want of expected) {
    const key = listedKey(want.key);
    const found =
      actual.find((a) => !matched.has(a) && sameKey(listedKey(a.key), key)) ?? actual.find((a) => !matched.has(a) && a.name === want.name);
    if (found) {
      pairs.set(want, found);
      matched.add(found);
    }
  }
  const text = expected.find((want) => !pairs.has(want) && isText(want));
  const listedText = text && actual.find((a) => !matched.has(a) && isText(a));
  if (text && listedText) {
    pairs.set(text, listedText);
    matched.add(listedText);
  }
  const missing: IndexShape[] = [];
  const different: IndexDifference[] = [];
  for (const want of expected) {
    const found = pairs.get(want);
    if (!found) {
      missing.push(want);
      continue;
    }
    const fields = differingFields(want, found);
    if (fields.length > 0) different.push({ name: found.name, fields, expected: want, actual: found });
  }
  return { missing, extra: actual.filter((a) => !matched.has(a)), different };
}
