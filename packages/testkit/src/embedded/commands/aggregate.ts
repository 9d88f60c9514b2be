import { type Document, Long } from 'bson';
import { Aggregator } from 'mingo';
import { effectiveCollation } from '../collation.js';
import type { CommandContext, CommandHandler } from '../context.js';
import { firstBatchReply } from '../cursors.js';
import { CommandError, ErrorCodes, MERGE_JOIN_FIELDS_NOT_UNIQUE } from '../errors.js';
import { runPipeline } from '../pipeline.js';
import { select, withMingo } from '../query.js';
import { keepStoredTypes, promoted } from '../storage/bsonValues.js';
import type { CollectionView } from '../storage/catalog.js';
import { type Collection, collectionStats, duplicateIdError } from '../storage/collection.js';
import { getPath, idKey } from '../storage/documents.js';
import { withId } from '../update.js';
import { checkStageNames } from './changeStream.js';
import { viewOf } from './namespace.js';
import { runStatements } from './statements.js';

/** The collection a `$out` or `$merge` writes to: a name in this database, or `{ db, coll }`. */
function target(ctx: CommandContext, spec: unknown): { db: string; coll: string } {
  if (typeof spec === 'string') return { db: ctx.db, coll: spec };
  const { db, coll } = (spec ?? {}) as Document;
  if (typeof coll !== 'string') throw new CommandError(ErrorCodes.FailedToParse, 'the target of $out or $merge must name a collection');
  return { db: typeof db === 'string' ? db : ctx.db, coll };
}

function writableView(ctx: CommandContext, db: string, coll: string): CollectionView {
  const collection = ctx.catalog.collectionIn(db, coll, true, ctx.txn) as Collection;
  return ctx.catalog.view(collection, ctx.txn, ctx.change);
}

/** `$out`: replaces the target collection with the pipeline's output. */
function writeOut(ctx: CommandContext, spec: unknown, results: Document[]): void {
  const { db, coll } = target(ctx, spec);
  ctx.catalog.dropCollection(db, coll);
  const view = writableView(ctx, db, coll);
  for (const doc of results) {
    const d = withId(doc);
    view.insert(idKey(d._id), d);
  }
}

function sameFields(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}

/** mongod requires a unique, non-partial index on exactly the `on` fields of a `$merge`. */
function hasUniqueIndexOn(coll: Collection | undefined, on: string[]): boolean {
  return (coll?.indexes ?? []).some((ix) => ix.unique === true && !ix.partialFilterExpression && sameFields(Object.keys(ix.key), on));
}

/**
 * `whenMatched` as a pipeline: it runs on the existing document, with `$$new` (or the `let` variables, evaluated
 * on the incoming document) naming the incoming one; fields it leaves as they were keep their types.
 */
function mergeByPipeline(existing: Document, incoming: Document, pipeline: Document[], letSpec: Document | undefined): Document {
  const variables = withMingo(() =>
    letSpec ? (new Aggregator([{ $replaceWith: letSpec }]).run([promoted(incoming)])[0] as Document) : { new: promoted(incoming) },
  );
  const [out] = withMingo(() => new Aggregator(pipeline, { variables }).run([promoted(existing)]));
  return keepStoredTypes({ ...(out as Document), _id: existing._id }, existing) as Document;
}

/** `$merge`: matches output documents to the target on `on` fields and merges, replaces, keeps, fails or inserts. */
function writeMerge(ctx: CommandContext, raw: Document | string, results: Document[]): Document | Promise<Document> {
  const spec: Document = typeof raw === 'string' ? { into: raw } : raw;
  const { db, coll } = target(ctx, spec.into);
  const on: string[] = spec.on === undefined ? ['_id'] : Array.isArray(spec.on) ? spec.on : [spec.on];
  const whenMatched = spec.whenMatched ?? 'merge';
  const whenNotMatched = spec.whenNotMatched ?? 'insert';
  if (!sameFields(on, ['_id']) && !hasUniqueIndexOn(ctx.catalog.collectionIn(db, coll, false, ctx.txn), on)) {
    throw new CommandError(MERGE_JOIN_FIELDS_NOT_UNIQUE, 'Cannot find index to verify that join fields will be unique');
  }
  const view = writableView(ctx, db, coll);
  // One statement a document: outside a transaction, one a transaction holds waits for it (see runStatements).
  return runStatements(
    ctx,
    results.length,
    (i) => {
      const doc = results[i] as Document;
      const filter = Object.fromEntries(on.map((f) => [f, getPath(doc, f) ?? null]));
      const [match] = select(view, filter);
      if (!match) {
        if (whenNotMatched === 'discard') return false;
        if (whenNotMatched === 'fail') {
          throw new CommandError(
            ErrorCodes.MergeStageNoMatchingDocument,
            '$merge could not find a matching document in the target collection for at least one document in the source collection',
          );
        }
        const d = withId(doc);
        view.insert(idKey(d._id), d);
        return false;
      }
      const [key, existing] = match;
      if (whenMatched === 'keepExisting') return false;
      if (whenMatched === 'fail') throw duplicateIdError(view.coll, existing._id);
      if (Array.isArray(whenMatched)) {
        view.update(key, existing, mergeByPipeline(existing, doc, whenMatched, spec.let), false);
        return false;
      }
      const after = whenMatched === 'replace' ? { ...doc, _id: existing._id } : { ...existing, ...doc, _id: existing._id };
      view.update(key, existing, after, whenMatched === 'replace');
      return false;
    },
    () => ({}),
  );
}

const aggregate: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const pipeline = (b.pipeline ?? []) as Document[];
  if (!Array.isArray(pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  checkStageNames(pipeline);
  const name = typeof b.aggregate === 'string' ? b.aggregate : undefined;
  const ns = name ? `${ctx.db}.${name}` : `${ctx.db}.$cmd.aggregate`;
  const first = pipeline[0] ?? {};
  let stages = pipeline;
  let source: Document[];
  let collectionOptions: Document | undefined;
  if ('$collStats' in first) {
    const coll = name ? ctx.catalog.collection(ctx.db, name, false) : undefined;
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `Collection [${ns}] not found.`);
    const stats = collectionStats(coll, ns);
    source = [{ ns, host: ctx.server.host, localTime: new Date(), storageStats: stats, count: stats.count }];
    stages = pipeline.slice(1);
  } else if ('$listLocalSessions' in first) {
    if (name)
      throw new CommandError(ErrorCodes.InvalidNamespace, '$listLocalSessions must be run against the database with {aggregate: 1}');
    source = ctx.localSessions();
    stages = pipeline.slice(1);
  } else if ('$documents' in first) {
    source = first.$documents as Document[];
    stages = pipeline.slice(1);
  } else {
    if (!name) throw new CommandError(ErrorCodes.InvalidNamespace, '{aggregate: 1} is not valid for this pipeline');
    const view = viewOf(ctx, name, false);
    source = view ? [...view.values()] : [];
    collectionOptions = view?.coll.options;
  }
  // The collation applies to every stage that compares: $match, $sort, $group and $sortByCount.
  const collation = effectiveCollation(b.collation, collectionOptions);
  const last = stages[stages.length - 1];
  if (last && ('$out' in last || '$merge' in last)) {
    const results = runPipeline(ctx, source, stages.slice(0, -1), b.let, collation);
    const reply = { cursor: { firstBatch: [], id: Long.fromNumber(0), ns }, ok: 1 };
    if ('$out' in last) {
      writeOut(ctx, last.$out, results);
      return reply;
    }
    const merged = writeMerge(ctx, last.$merge as Document | string, results);
    return merged instanceof Promise ? merged.then(() => reply) : reply;
  }
  const results = runPipeline(ctx, source, stages, b.let, collation);
  return firstBatchReply(ctx.cursors, ns, results, b.cursor?.batchSize);
};

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
