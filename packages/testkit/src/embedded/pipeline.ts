import { type Document, Int32, Long } from 'bson';
import { Aggregator, ProcessingMode } from 'mingo';
import type { Collation } from './collation.js';
import { viewOf } from './commands/namespace.js';
import type { CommandContext } from './context.js';
import { isTypedGroup, typedGroup } from './group.js';
import { matcher, sortDocuments, stringKey, withMingo } from './query.js';
import { keepStoredTypes, promote, promoted } from './storage/bsonValues.js';
import { cloneDocument, getPath } from './storage/documents.js';

/** Stages whose output document i is input document i reshaped: fields they leave as they were keep their types. */
const ONE_TO_ONE = new Set(['$addFields', '$set', '$project', '$unset', '$lookup']);

const STAGES_RUN_HERE = new Set(['$match', '$sort', '$skip', '$limit', '$group', '$sortByCount', '$count', '$unwind', '$lookup']);

/** Whether a stage runs here on stored documents rather than on mingo. */
function runsHere(name: string, arg: Document): boolean {
  if (name === '$group') return isTypedGroup(arg);
  if (name === '$lookup') return isEqualityLookup(arg);
  return STAGES_RUN_HERE.has(name);
}

/**
 * Runs a pipeline over stored documents. Stages that compare or group (`$match`, `$sort`, `$group`, `$sortByCount`,
 * equality `$lookup`) and `$unwind`, `$skip`, `$limit`, `$count` run here on the documents as stored, so values keep
 * their BSON types, the collation applies and BSON types order as in mongod; other stages run on mingo, which computes
 * on numbers. `$lookup` and `$unionWith` read other collections of the same database.
 */
export function runPipeline(
  ctx: CommandContext,
  source: Document[],
  pipeline: Document[],
  variables?: Document,
  collation?: Collation,
): Document[] {
  let docs = source;
  let pending: Document[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    docs = runOnMingo(ctx, docs, pending, variables);
    pending = [];
  };
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0] as string;
    const arg = stage[name];
    if (!runsHere(name, arg)) {
      pending.push(stage);
      continue;
    }
    flush();
    switch (name) {
      case '$match':
        docs = docs.filter(matcher(arg, variables, collation));
        break;
      case '$sort':
        docs = sortDocuments(docs, arg, collation);
        break;
      case '$skip':
        docs = docs.slice(Number(arg));
        break;
      case '$limit':
        docs = docs.slice(0, Number(arg));
        break;
      case '$group':
        docs = typedGroup(docs, arg, variables, collation, stringKey(collation));
        break;
      case '$sortByCount':
        docs = typedGroup(docs, { _id: arg, count: { $sum: 1 } }, variables, collation, stringKey(collation));
        docs = sortDocuments(docs, { count: -1 });
        break;
      case '$lookup':
        docs = lookup(ctx, docs, arg, collation);
        break;
      case '$count':
        docs = docs.length > 0 ? [{ [arg]: new Int32(docs.length) }] : [];
        break;
      case '$unwind':
        docs = unwind(docs, arg);
        break;
    }
  }
  flush();
  return docs;
}

/** A `$lookup` by `localField`/`foreignField` alone (no `pipeline`, `let`, or dotted `as`). */
function isEqualityLookup(spec: Document): boolean {
  return (
    typeof spec.from === 'string' &&
    typeof spec.localField === 'string' &&
    typeof spec.foreignField === 'string' &&
    typeof spec.as === 'string' &&
    !spec.as.includes('.') &&
    spec.pipeline === undefined &&
    spec.let === undefined
  );
}

/**
 * An equality `$lookup`: each document gets the documents of `from` (stored, with their types) whose `foreignField`
 * equals its `localField` (any element of an array; a missing value matches null or missing), under the collation.
 */
function lookup(ctx: CommandContext, docs: Document[], spec: Document, collation: Collation | undefined): Document[] {
  const foreign = [...(viewOf(ctx, spec.from, false)?.values() ?? [])];
  return docs.map((doc) => {
    const local = getPath(doc, spec.localField);
    const condition = Array.isArray(local) ? { $in: local } : (local ?? null);
    const matches = matcher({ [spec.foreignField]: condition }, undefined, collation);
    return { ...doc, [spec.as]: foreign.filter(matches) };
  });
}

function runOnMingo(ctx: CommandContext, docs: Document[], stages: Document[], variables: Document | undefined): Document[] {
  const resolver = (name: string) => {
    const other = viewOf(ctx, name, false);
    return other ? [...other.values()].map(promoted) : [];
  };
  const out = withMingo(() =>
    new Aggregator(stages, {
      collectionResolver: resolver,
      processingMode: ProcessingMode.CLONE_INPUT,
      ...(variables ? { variables: promote(variables) as Document } : {}),
    }).run(docs.map(promoted)),
  );
  const oneToOne = out.length === docs.length && stages.every((s) => ONE_TO_ONE.has(Object.keys(s)[0] as string));
  return oneToOne ? out.map((doc, i) => keepStoredTypes(doc, docs[i]) as Document) : out;
}

/** `$unwind` (a path, or `{ path, includeArrayIndex, preserveNullAndEmptyArrays }`); array indexes are Long. */
function unwind(docs: Document[], spec: string | Document): Document[] {
  const options: Document = typeof spec === 'string' ? { path: spec } : spec;
  const path = String(options.path).slice(1);
  const indexField = typeof options.includeArrayIndex === 'string' ? options.includeArrayIndex : undefined;
  const preserve = options.preserveNullAndEmptyArrays === true;
  const out: Document[] = [];
  for (const doc of docs) {
    const value = getPath(doc, path);
    if (Array.isArray(value) && value.length > 0) {
      value.forEach((element, i) => {
        out.push(withPath(doc, path, element, indexField, Long.fromNumber(i)));
      });
    } else if (Array.isArray(value) || value === undefined || value === null) {
      if (!preserve) continue;
      const kept = Array.isArray(value) ? withPath(doc, path, undefined, undefined, null) : doc;
      out.push(indexField ? { ...kept, [indexField]: null } : kept);
    } else {
      out.push(withPath(doc, path, value, indexField, null));
    }
  }
  return out;
}

/** A copy of `doc` with `path` set to `value` (removed when undefined) and the array index field set. */
function withPath(doc: Document, path: string, value: unknown, indexField: string | undefined, index: Long | null): Document {
  const copy = cloneDocument(doc);
  const parts = path.split('.');
  let target: Document = copy;
  for (const part of parts.slice(0, -1)) target = target[part] as Document;
  const last = parts[parts.length - 1] as string;
  if (value === undefined) delete target[last];
  else target[last] = value;
  if (indexField) copy[indexField] = index;
  return copy;
}
