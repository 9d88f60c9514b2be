import { type Document, EJSON } from 'bson';
import { find as mingoFind } from 'mingo';
import { effectiveCollation, keyStrings } from '../collation.js';
import type { CommandContext, CommandHandler } from '../context.js';
import { firstBatchReply } from '../cursors.js';
import { CommandError, ErrorCodes, WriteError } from '../errors.js';
import { runQuery, select, sortDocuments } from '../query.js';
import { promote } from '../storage/bsonValues.js';
import type { CollectionView } from '../storage/catalog.js';
import { idKey } from '../storage/documents.js';
import { updateMatching, withId } from '../update.js';
import { validateWrite } from '../validation.js';
import { collectionName, refuseView, viewOf, writeErrorEntry } from './namespace.js';
import { runStatements, writeStatement } from './statements.js';

const insert: CommandHandler = (ctx) => {
  const view = viewOf(ctx, collectionName(ctx, 'insert'), true) as CollectionView;
  const documents = ((ctx.body.documents ?? []) as Document[]).map(withId);
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Document[] = [];
  let n = 0;
  return runStatements(
    ctx,
    documents.length,
    (i) => {
      const doc = documents[i] as Document;
      try {
        validateWrite(view.coll, undefined, doc, ctx.body.bypassDocumentValidation === true);
        view.insert(idKey(doc._id), doc);
        n += 1;
        return false;
      } catch (err) {
        writeErrors.push(writeErrorEntry(i, err)); // rethrows what is not a write error (WriteBlocked included)
        return ordered;
      }
    },
    () => (writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 }),
    'insert',
  );
};

const find: CommandHandler = (ctx) => {
  ctx.opcounters.query += 1;
  const name = collectionName(ctx, 'find');
  const b = ctx.body;
  const view = viewOf(ctx, name, false);
  const docs = runQuery(view, {
    filter: b.filter,
    sort: b.sort,
    projection: b.projection,
    skip: b.skip,
    limit: b.limit,
    variables: b.let,
    collation: effectiveCollation(b.collation, view?.coll.options),
  });
  const singleBatch = b.singleBatch === true || (typeof b.limit === 'number' && b.limit < 0);
  return firstBatchReply(ctx.cursors, `${ctx.db}.${name}`, docs, b.batchSize, singleBatch);
};

const update: CommandHandler = (ctx) => {
  const updates = (ctx.body.updates ?? []) as Document[];
  // Update statements take `sort` from MongoDB 8.0 on; a 7.0 server refuses the unknown field before anything runs.
  if (updates.some((u) => u.sort !== undefined)) {
    throw new CommandError(ErrorCodes.IDLUnknownField, "BSON field 'update.updates.sort' is an unknown field.");
  }
  const view = viewOf(ctx, collectionName(ctx, 'update'), true) as CollectionView;
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Document[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  return runStatements(
    ctx,
    updates.length,
    (i) => {
      const u = updates[i] as Document;
      try {
        const outcome = updateMatching(view, u.q ?? {}, u.u, {
          multi: u.multi === true,
          upsert: u.upsert === true,
          arrayFilters: u.arrayFilters,
          bypassDocumentValidation: ctx.body.bypassDocumentValidation === true,
          variables: ctx.body.let,
          collation: effectiveCollation(u.collation, view.coll.options),
        });
        n += outcome.n;
        nModified += outcome.nModified;
        if (outcome.upsertedId !== undefined) upserted.push({ index: i, _id: outcome.upsertedId });
        return false;
      } catch (err) {
        writeErrors.push(writeErrorEntry(i, err));
        return ordered;
      }
    },
    () => {
      const reply: Document = { n, nModified, ok: 1 };
      if (upserted.length > 0) reply.upserted = upserted;
      if (writeErrors.length > 0) reply.writeErrors = writeErrors;
      return reply;
    },
    'update',
  );
};

const del: CommandHandler = (ctx) => {
  refuseView(ctx, collectionName(ctx, 'delete'));
  const view = viewOf(ctx, collectionName(ctx, 'delete'), false);
  const deletes = (ctx.body.deletes ?? []) as Document[];
  let n = 0;
  return runStatements(
    ctx,
    deletes.length,
    (i) => {
      if (!view) return false;
      const d = deletes[i] as Document;
      let matches = select(view, d.q ?? {}, ctx.body.let, effectiveCollation(d.collation, view.coll.options));
      if (d.limit === 1) matches = matches.slice(0, 1);
      // A multi-document delete outside a transaction waits, before removing any, if a transaction holds one of them.
      view.checkWritable(matches.map(([key]) => key));
      for (const [key, before] of matches) view.remove(key, before);
      n += matches.length;
      return false;
    },
    () => ({ n, ok: 1 }),
    'delete',
  );
};

function project(doc: Document | null | undefined, fields: Document | undefined): Document | null {
  if (!doc) return null;
  if (!fields || Object.keys(fields).length === 0) return doc;
  return mingoFind([doc], {}, fields).all()[0] ?? null;
}

const findAndModify: CommandHandler = (ctx) => writeStatement(ctx, () => findAndModifyOnce(ctx));

function findAndModifyOnce(ctx: CommandContext): Document {
  const b = ctx.body;
  const name = typeof b.findAndModify === 'string' ? b.findAndModify : b.findandmodify;
  ctx.opcounters.command += 1;
  const view = viewOf(ctx, name, true) as CollectionView;
  const query = (b.query ?? {}) as Document;
  if (b.remove) {
    const collation = effectiveCollation(b.collation, view.coll.options);
    let matches = select(view, query, b.let, collation);
    if (b.sort && matches.length > 1) {
      const first = sortDocuments(
        matches.map(([, d]) => d),
        b.sort,
        collation,
      )[0];
      matches = matches.filter(([, d]) => d === first);
    }
    const target = matches[0];
    if (target) view.remove(target[0], target[1]);
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target?.[1], b.fields), ok: 1 };
  }
  if (b.update === undefined) throw new CommandError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  try {
    const outcome = updateMatching(view, query, b.update, {
      multi: false,
      upsert: b.upsert === true,
      arrayFilters: b.arrayFilters,
      sort: b.sort,
      bypassDocumentValidation: b.bypassDocumentValidation === true,
      variables: b.let,
      collation: effectiveCollation(b.collation, view.coll.options),
    });
    const lastErrorObject: Document = { n: outcome.n, updatedExisting: outcome.n > 0 && outcome.upsertedId === undefined };
    if (outcome.upsertedId !== undefined) lastErrorObject.upserted = outcome.upsertedId;
    const value = outcome.upsertedId !== undefined ? (b.new ? outcome.after : null) : b.new ? outcome.after : outcome.before;
    return { lastErrorObject, value: project(value, b.fields), ok: 1 };
  } catch (err) {
    if (err instanceof WriteError) throw new CommandError(err.code, err.message, [], err.extra);
    throw err;
  }
}

const count: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const view = viewOf(ctx, collectionName(ctx, 'count'), false);
  const docs = runQuery(view, {
    filter: b.query,
    skip: b.skip,
    limit: b.limit,
    collation: effectiveCollation(b.collation, view?.coll.options),
  });
  return { n: docs.length, ok: 1 };
};

const distinct: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const view = viewOf(ctx, collectionName(ctx, 'distinct'), false);
  const collation = effectiveCollation(b.collation, view?.coll.options);
  const docs = runQuery(view, { filter: b.query, collation });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    const value = mingoFind([doc], {}, { _id: 0, v: `$${b.key}` }).all()[0]?.v;
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    // Numbers equal across BSON types are one distinct value, as in mongod.
    for (const v of values) {
      const key = EJSON.stringify([collation ? keyStrings(promote(v), collation) : promote(v)] as unknown as Document, { relaxed: false });
      if (!seen.has(key)) seen.set(key, v);
    }
  }
  return { values: [...seen.values()], ok: 1 };
};

export const crudCommands: Record<string, CommandHandler> = {
  insert,
  find,
  update,
  delete: del,
  findAndModify,
  findandmodify: findAndModify,
  count,
  distinct,
};
