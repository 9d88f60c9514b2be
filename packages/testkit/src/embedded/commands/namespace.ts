import type { Document } from 'bson';
import type { CommandContext } from '../context.js';
import { CommandError, ErrorCodes, WriteError } from '../errors.js';
import { runPipeline } from '../pipeline.js';
import type { CollectionView } from '../storage/catalog.js';
import type { Collection } from '../storage/collection.js';
import { idKey } from '../storage/documents.js';

export function collectionName(ctx: CommandContext, field: string): string {
  const name = ctx.body[field];
  if (typeof name !== 'string') {
    throw new CommandError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  }
  return name;
}

/**
 * Access to a collection for a command; `write` creates it when missing. A read of a view (`create` with `viewOn`)
 * sees its pipeline's output; a write to a view fails with CommandNotSupportedOnView, as in mongod.
 */
export function viewOf(ctx: CommandContext, name: string, write: boolean): CollectionView | undefined {
  const coll = ctx.catalog.collectionIn(ctx.db, name, write, ctx.txn);
  if (!coll) return undefined;
  if (coll.options.viewOn !== undefined) {
    if (write) throw new CommandError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${coll.ns} is a view, not a collection`);
    return readOnlyView(coll, viewContents(ctx, coll.options.viewOn as string, coll.options.pipeline as Document[] | undefined));
  }
  if (ctx.readAt && !write) return ctx.catalog.snapshotView(coll, ctx.readAt);
  return ctx.catalog.view(coll, ctx.txn, ctx.change);
}

/** Fails a write (such as delete) that does not create its collection when the namespace is a view. */
export function refuseView(ctx: CommandContext, name: string): void {
  const coll = ctx.catalog.collectionIn(ctx.db, name, false, ctx.txn);
  if (coll?.options.viewOn !== undefined) {
    throw new CommandError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${coll.ns} is a view, not a collection`);
  }
}

function viewContents(ctx: CommandContext, source: string, pipeline: Document[] | undefined): Document[] {
  const docs = [...(viewOf(ctx, source, false)?.values() ?? [])];
  return pipeline && pipeline.length > 0 ? runPipeline(ctx, docs, pipeline) : docs;
}

function readOnlyView(coll: Collection, docs: Document[]): CollectionView {
  const entries = docs.map((d, i): [string, Document] => ['_id' in d ? idKey(d._id) : `#${i}`, d]);
  const byKey = new Map(entries);
  const refuse = () => {
    throw new CommandError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${coll.ns} is a view, not a collection`);
  };
  return {
    coll,
    get: (key) => byKey.get(key),
    entries: () => entries,
    values: () => docs,
    insert: refuse,
    update: refuse,
    remove: refuse,
    checkWritable: refuse,
  };
}

export function writeErrorEntry(index: number, err: unknown): Document {
  if (err instanceof WriteError) return { index, code: err.code, errmsg: err.message, ...err.extra };
  if (err instanceof CommandError && err.code !== ErrorCodes.WriteConflict) {
    return { index, code: err.code, errmsg: err.message };
  }
  throw err;
}

/** Fields every command may carry (session, write concern, API version); not options of the command itself. */
const GENERIC_FIELDS = new Set([
  'lsid',
  'txnNumber',
  'autocommit',
  'startTransaction',
  'writeConcern',
  'readConcern',
  'comment',
  'maxTimeMS',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
]);

/** The command's own options: its body without the command name, `$`-prefixed and generic fields. */
export function commandOptions(body: Document, ...exclude: string[]): Document {
  const options: Document = {};
  const first = Object.keys(body)[0];
  for (const [k, v] of Object.entries(body)) {
    if (k === first || k.startsWith('$') || GENERIC_FIELDS.has(k) || exclude.includes(k)) continue;
    options[k] = v;
  }
  return options;
}
