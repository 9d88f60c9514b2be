import type { Document } from 'bson';
import type { CommandContext } from '../context.js';
import { CommandError, ErrorCodes, WriteError } from '../errors.js';
import type { CollectionView } from '../storage/catalog.js';

export function collectionName(ctx: CommandContext, field: string): string {
  const name = ctx.body[field];
  if (typeof name !== 'string') {
    throw new CommandError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  }
  return name;
}

export function viewOf(ctx: CommandContext, name: string, create: boolean): CollectionView | undefined {
  const coll = ctx.catalog.collectionIn(ctx.db, name, create, ctx.txn);
  return coll ? ctx.catalog.view(coll, ctx.txn, ctx.change) : undefined;
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
