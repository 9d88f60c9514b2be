import { type Document, EJSON, ObjectId } from 'bson';
import { Aggregator, update as mingoUpdate, ProcessingMode } from 'mingo';
import type { Collation } from './collation.js';
import { ErrorCodes, WriteError } from './errors.js';
import { isOperatorObject, select, sortDocuments, withMingo } from './query.js';
import { compareValues } from './storage/bsonOrder.js';
import { arithmetic, isNumeric, keepStoredTypes, promote, promoted } from './storage/bsonValues.js';
import type { CollectionView } from './storage/catalog.js';
import { cloneDocument, getPath, idKey } from './storage/documents.js';
import { validateWrite } from './validation.js';

/** The stored form of a new document: mongod adds a missing _id and always stores _id as the first field. */
export function withId(doc: Document): Document {
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  checkIdValue(doc._id);
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

/** An `_id` that is an object may not have `$`-prefixed fields (MongoDB 5.0+ allows them elsewhere). */
function checkIdValue(id: unknown): void {
  if (id === null || typeof id !== 'object' || Array.isArray(id) || id instanceof Date) return;
  if ((id as { _bsontype?: string })._bsontype !== undefined) return;
  const dollar = Object.keys(id).find((k) => k.startsWith('$'));
  if (dollar !== undefined) {
    throw new WriteError(
      ErrorCodes.DollarPrefixedFieldName,
      `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`,
    );
  }
}

/** Applies an update document, a replacement or a pipeline to a copy of `before`. */
function applyUpdate(
  before: Document,
  spec: Document | Document[],
  arrayFilters: Document[] | undefined,
  inserting: boolean,
  variables?: Document,
): { after: Document; replace: boolean; changed: boolean } {
  if (Array.isArray(spec)) {
    const out = withMingo(() =>
      new Aggregator(promote(spec) as Document[], {
        processingMode: ProcessingMode.CLONE_INPUT,
        ...(variables ? { variables: promote(variables) as Document } : {}),
      }).run([promoted(before)]),
    );
    // The pipeline ran on numbers; fields it left as they were keep their stored BSON types.
    const after = keepStoredTypes({ _id: before._id, ...(out[0] as Document) }, before) as Document;
    return { after, replace: false, changed: !sameDocument(before, after) };
  }
  const keys = Object.keys(spec);
  if (keys.length > 0 && keys.every((k) => !k.startsWith('$'))) {
    if ('_id' in spec && idKey(spec._id) !== idKey(before._id) && !inserting) {
      throw new WriteError(66, "After applying the update, the (immutable) field '_id' was found to have been altered");
    }
    const after = { _id: before._id, ...spec };
    return { after, replace: true, changed: !sameDocument(before, after) };
  }
  const ops: Document = { ...spec };
  if (ops.$setOnInsert) {
    if (inserting) ops.$set = { ...(ops.$set ?? {}), ...ops.$setOnInsert };
    delete ops.$setOnInsert;
  }
  for (const op of Object.keys(ops)) {
    if (!KNOWN_UPDATE_OPERATORS.has(op))
      throw new WriteError(
        ErrorCodes.FailedToParse,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
  }
  const after = cloneDocument(before);
  const typedChanges = applyNumericOperators(after, ops);
  const modified = Object.keys(ops).length > 0 ? withMingo(() => mingoUpdate(after, promoteControls(ops), arrayFilters)) : [];
  return checkId(before, after, inserting, modified.length > 0 || typedChanges > 0);
}

function checkId(before: Document, after: Document, inserting: boolean, changed: boolean) {
  if (!inserting && idKey(after._id) !== idKey(before._id)) {
    throw new WriteError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return { after, replace: false, changed };
}

/**
 * mingo reads operator arguments as plain numbers ($pop: 1, $slice: -2); values that end up stored ($set, $push,
 * $addToSet elements) keep their BSON types.
 */
function promoteControls(ops: Document): Document {
  const out: Document = {};
  for (const [op, fields] of Object.entries(ops)) {
    if (op === '$set' || op === '$setOnInsert') out[op] = fields;
    else if (op === '$push' || op === '$addToSet') {
      const each: Document = {};
      for (const [path, value] of Object.entries(fields as Document)) {
        const modifiers = value !== null && typeof value === 'object' && '$each' in (value as Document);
        each[path] = modifiers ? { ...(promote(value) as Document), $each: (value as Document).$each } : value;
      }
      out[op] = each;
    } else out[op] = promote(fields);
  }
  return out;
}

const NUMERIC_OPERATORS = ['$inc', '$mul', '$min', '$max'] as const;

/**
 * Applies `$inc`, `$mul`, `$min` and `$max` to plain (non-positional) paths with MongoDB's BSON result types, and
 * removes them from `ops`; positional paths are left to mingo. Returns how many fields changed.
 */
function applyNumericOperators(doc: Document, ops: Document): number {
  let changed = 0;
  for (const op of NUMERIC_OPERATORS) {
    const fields = ops[op] as Document | undefined;
    if (!fields || typeof fields !== 'object') continue;
    const rest: Document = {};
    for (const [path, operand] of Object.entries(fields)) {
      if (path.includes('$')) {
        rest[path] = operand;
        continue;
      }
      const current = getPath(doc, path);
      let next: unknown;
      if (op === '$inc' || op === '$mul') {
        if (!isNumeric(operand))
          throw new WriteError(
            ErrorCodes.TypeMismatch,
            `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${String(operand)}}`,
          );
        if (current === undefined) next = op === '$inc' ? operand : arithmetic('$mul', operand, 0);
        else if (!isNumeric(current)) {
          throw new WriteError(
            ErrorCodes.TypeMismatch,
            `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(doc._id)}} has the field '${path}' of non-numeric type`,
          );
        } else next = arithmetic(op, current, operand);
      } else {
        const cmp = current === undefined ? 0 : compareValues(operand, current);
        next = current === undefined || (op === '$min' ? cmp < 0 : cmp > 0) ? operand : current;
      }
      if (current === next) continue;
      setPath(doc, path, next);
      changed += 1;
    }
    if (Object.keys(rest).length > 0) ops[op] = rest;
    else delete ops[op];
  }
  return changed;
}

const KNOWN_UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$rename',
  '$min',
  '$max',
  '$currentDate',
  '$push',
  '$pull',
  '$pullAll',
  '$pop',
  '$addToSet',
  '$bit',
]);

function sameDocument(a: Document, b: Document): boolean {
  return EJSON.stringify(a, { relaxed: false }) === EJSON.stringify(b, { relaxed: false });
}

/** The document an upsert starts from: the equality fields of its query. */
function upsertSeed(query: Document): Document {
  const seed: Document = {};
  const sets: Document = {};
  for (const [k, v] of Object.entries(query)) {
    if (k.startsWith('$')) continue;
    if (isOperatorObject(v)) {
      if ('$eq' in (v as Document)) sets[k] = (v as Document).$eq;
      continue;
    }
    sets[k] = v;
  }
  for (const [path, value] of Object.entries(sets)) setPath(seed, path, cloneDocument(value));
  return seed;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target = doc;
  for (const part of parts.slice(0, -1)) {
    if (target[part] === null || typeof target[part] !== 'object') target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1] as string] = value;
}

export interface UpdateOutcome {
  n: number;
  nModified: number;
  upsertedId?: unknown;
  before?: Document;
  after?: Document;
}

/** Rejects an update document with unknown operators before anything matches, as mongod parses it first. */
function validateUpdateSpec(spec: unknown): void {
  if (Array.isArray(spec) || spec === null || typeof spec !== 'object') return;
  const keys = Object.keys(spec);
  if (!keys.some((k) => k.startsWith('$'))) return;
  for (const op of keys) {
    if (op !== '$setOnInsert' && !KNOWN_UPDATE_OPERATORS.has(op)) {
      throw new WriteError(
        ErrorCodes.FailedToParse,
        `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
      );
    }
  }
}

export function updateMatching(
  view: CollectionView,
  q: Document,
  spec: Document | Document[],
  options: {
    multi: boolean;
    upsert: boolean;
    arrayFilters?: Document[];
    sort?: Document;
    bypassDocumentValidation?: boolean;
    collation?: Collation;
    variables?: Document;
  },
): UpdateOutcome {
  validateUpdateSpec(spec);
  let matches = select(view, q, options.variables, options.collation);
  if (options.sort && matches.length > 1) {
    const sorted = sortDocuments(
      matches.map(([, d]) => d),
      options.sort,
      options.collation,
    );
    const byDoc = new Map(matches.map(([k, d]) => [d, k]));
    matches = sorted.map((d) => [byDoc.get(d) as string, d]);
  }
  if (!options.multi) matches = matches.slice(0, 1);
  if (matches.length === 0) {
    if (!options.upsert) return { n: 0, nModified: 0 };
    const seed = upsertSeed(q);
    const { after } = applyUpdate(seed, spec, options.arrayFilters, true, options.variables);
    const doc = withId(after);
    validateWrite(view.coll, undefined, doc, options.bypassDocumentValidation === true);
    view.insert(idKey(doc._id), doc);
    return { n: 1, nModified: 0, upsertedId: doc._id, after: doc };
  }
  // A multi-document update outside a transaction waits, before writing any, if a transaction holds one of them.
  if (matches.length > 1) view.checkWritable(matches.map(([key]) => key));
  let nModified = 0;
  let last: UpdateOutcome = { n: 0, nModified: 0 };
  for (const [key, before] of matches) {
    const { after, replace, changed } = applyUpdate(before, spec, options.arrayFilters, false, options.variables);
    if (changed) {
      validateWrite(view.coll, before, after, options.bypassDocumentValidation === true);
      view.update(key, before, after, replace);
      nModified += 1;
    }
    last = { n: 0, nModified: 0, before, after: changed ? after : before };
  }
  return { ...last, n: matches.length, nModified };
}
