import { type Document, EJSON, ObjectId } from 'bson';
import { Aggregator, find as mingoFind, update as mingoUpdate, ProcessingMode, Query } from 'mingo';
import type { CommandContext, CommandHandler } from '../context.js';
import { firstBatchReply } from '../cursors.js';
import { CommandError, ErrorCodes, WriteError } from '../errors.js';
import { type Collection, cloneDocument, idKey } from '../storage.js';
import type { CollectionView } from '../store.js';

function collectionName(ctx: CommandContext, field: string): string {
  const name = ctx.body[field];
  if (typeof name !== 'string') {
    throw new CommandError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeof name}`);
  }
  return name;
}

function isOperatorObject(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  if ((value as { _bsontype?: string })._bsontype) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

/** Runs mingo, turning its exceptions into MongoDB-style BadValue errors. */
function withMingo<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CommandError || err instanceof WriteError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

/** Documents matching `filter`, in natural order; `_id` equality is a direct lookup. */
export function select(view: CollectionView, filter: Document | undefined): Array<[string, Document]> {
  const f = filter ?? {};
  const keys = Object.keys(f);
  if (keys.length === 1 && keys[0] === '_id' && !isOperatorObject(f._id)) {
    const key = idKey(f._id);
    const doc = view.get(key);
    return doc ? [[key, doc]] : [];
  }
  if (keys.length === 0) return [...view.entries()];
  const query = withMingo(() => new Query(f));
  const matched: Array<[string, Document]> = [];
  for (const entry of view.entries()) if (withMingo(() => query.test(entry[1]))) matched.push(entry);
  return matched;
}

interface FindOptions {
  filter?: Document;
  sort?: Document;
  projection?: Document;
  skip?: number;
  limit?: number;
}

export function runQuery(view: CollectionView | undefined, options: FindOptions): Document[] {
  if (!view) return [];
  const hasSort = options.sort && Object.keys(options.sort).length > 0;
  const hasProjection = options.projection && Object.keys(options.projection).length > 0;
  let docs = select(view, options.filter).map(([, d]) => d);
  if (hasSort || hasProjection) {
    const cursor = withMingo(() => mingoFind(docs, {}, hasProjection ? options.projection : undefined));
    if (hasSort) cursor.sort(options.sort as Document);
    docs = withMingo(() => cursor.all());
  }
  const skip = options.skip ?? 0;
  const limit = options.limit ? Math.abs(options.limit) : 0;
  if (skip > 0 || limit > 0) docs = docs.slice(skip, limit > 0 ? skip + limit : undefined);
  return docs;
}

function viewOf(ctx: CommandContext, name: string, create: boolean): CollectionView | undefined {
  const coll = ctx.store.collection(ctx.db, name, create);
  return coll ? ctx.store.view(coll, ctx.txn, ctx.change) : undefined;
}

function writeErrorEntry(index: number, err: unknown): Document {
  if (err instanceof WriteError) return { index, code: err.code, errmsg: err.message, ...err.extra };
  if (err instanceof CommandError && !err.errorLabels.includes('TransientTransactionError')) {
    return { index, code: err.code, errmsg: err.message };
  }
  throw err;
}

/** The stored form of a new document: mongod adds a missing _id and always stores _id as the first field. */
function withId(doc: Document): Document {
  if (!('_id' in doc)) return { _id: new ObjectId(), ...doc };
  if (Object.keys(doc)[0] === '_id') return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

const insert: CommandHandler = (ctx) => {
  const view = viewOf(ctx, collectionName(ctx, 'insert'), true) as CollectionView;
  const documents = (ctx.body.documents ?? []) as Document[];
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Document[] = [];
  let n = 0;
  for (let i = 0; i < documents.length; i++) {
    ctx.opcounters.insert += 1;
    const doc = withId(documents[i] as Document);
    try {
      view.insert(idKey(doc._id), doc);
      n += 1;
    } catch (err) {
      writeErrors.push(writeErrorEntry(i, err));
      if (ordered) break;
    }
  }
  return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

const find: CommandHandler = (ctx) => {
  ctx.opcounters.query += 1;
  const name = collectionName(ctx, 'find');
  const b = ctx.body;
  const docs = runQuery(viewOf(ctx, name, false), {
    filter: b.filter,
    sort: b.sort,
    projection: b.projection,
    skip: b.skip,
    limit: b.limit,
  });
  const singleBatch = b.singleBatch === true || (typeof b.limit === 'number' && b.limit < 0);
  return firstBatchReply(ctx.cursors, `${ctx.db}.${name}`, docs, b.batchSize, singleBatch);
};

/** Applies an update document, a replacement or a pipeline to a copy of `before`. */
function applyUpdate(
  before: Document,
  spec: Document | Document[],
  arrayFilters: Document[] | undefined,
  inserting: boolean,
): { after: Document; replace: boolean; changed: boolean } {
  if (Array.isArray(spec)) {
    const out = withMingo(() => new Aggregator(spec, { processingMode: ProcessingMode.CLONE_INPUT }).run([before]));
    const after = { _id: before._id, ...(out[0] as Document) };
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
  const modified = withMingo(() => mingoUpdate(after, ops, arrayFilters));
  if (!inserting && idKey(after._id) !== idKey(before._id)) {
    throw new WriteError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return { after, replace: false, changed: modified.length > 0 };
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

interface UpdateOutcome {
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

function updateMatching(
  view: CollectionView,
  q: Document,
  spec: Document | Document[],
  options: { multi: boolean; upsert: boolean; arrayFilters?: Document[]; sort?: Document },
): UpdateOutcome {
  validateUpdateSpec(spec);
  let matches = select(view, q);
  if (options.sort && matches.length > 1) {
    const sorted = mingoFind(
      matches.map(([, d]) => d),
      {},
    )
      .sort(options.sort)
      .all();
    const byDoc = new Map(matches.map(([k, d]) => [d, k]));
    matches = sorted.map((d) => [byDoc.get(d) as string, d]);
  }
  if (!options.multi) matches = matches.slice(0, 1);
  if (matches.length === 0) {
    if (!options.upsert) return { n: 0, nModified: 0 };
    const seed = upsertSeed(q);
    const { after } = applyUpdate(seed, spec, options.arrayFilters, true);
    const doc = withId(after);
    view.insert(idKey(doc._id), doc);
    return { n: 1, nModified: 0, upsertedId: doc._id, after: doc };
  }
  let nModified = 0;
  let last: UpdateOutcome = { n: 0, nModified: 0 };
  for (const [key, before] of matches) {
    const { after, replace, changed } = applyUpdate(before, spec, options.arrayFilters, false);
    if (changed) {
      view.update(key, before, after, replace);
      nModified += 1;
    }
    last = { n: 0, nModified: 0, before, after: changed ? after : before };
  }
  return { ...last, n: matches.length, nModified };
}

const update: CommandHandler = (ctx) => {
  const view = viewOf(ctx, collectionName(ctx, 'update'), true) as CollectionView;
  const updates = (ctx.body.updates ?? []) as Document[];
  const ordered = ctx.body.ordered !== false;
  const writeErrors: Document[] = [];
  const upserted: Document[] = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < updates.length; i++) {
    ctx.opcounters.update += 1;
    const u = updates[i] as Document;
    try {
      const outcome = updateMatching(view, u.q ?? {}, u.u, {
        multi: u.multi === true,
        upsert: u.upsert === true,
        arrayFilters: u.arrayFilters,
      });
      n += outcome.n;
      nModified += outcome.nModified;
      if (outcome.upsertedId !== undefined) upserted.push({ index: i, _id: outcome.upsertedId });
    } catch (err) {
      writeErrors.push(writeErrorEntry(i, err));
      if (ordered) break;
    }
  }
  const reply: Document = { n, nModified, ok: 1 };
  if (upserted.length > 0) reply.upserted = upserted;
  if (writeErrors.length > 0) reply.writeErrors = writeErrors;
  return reply;
};

const del: CommandHandler = (ctx) => {
  const view = viewOf(ctx, collectionName(ctx, 'delete'), false);
  const deletes = (ctx.body.deletes ?? []) as Document[];
  let n = 0;
  for (const d of deletes) {
    ctx.opcounters.delete += 1;
    if (!view) continue;
    let matches = select(view, d.q ?? {});
    if (d.limit === 1) matches = matches.slice(0, 1);
    for (const [key, before] of matches) {
      view.remove(key, before);
      n += 1;
    }
  }
  return { n, ok: 1 };
};

function project(doc: Document | null | undefined, fields: Document | undefined): Document | null {
  if (!doc) return null;
  if (!fields || Object.keys(fields).length === 0) return doc;
  return mingoFind([doc], {}, fields).all()[0] ?? null;
}

const findAndModify: CommandHandler = (ctx) => {
  const b = ctx.body;
  const name = typeof b.findAndModify === 'string' ? b.findAndModify : b.findandmodify;
  ctx.opcounters.command += 1;
  const view = viewOf(ctx, name, true) as CollectionView;
  const query = (b.query ?? {}) as Document;
  if (b.remove) {
    let matches = select(view, query);
    if (b.sort && matches.length > 1) {
      const first = mingoFind(
        matches.map(([, d]) => d),
        {},
      )
        .sort(b.sort)
        .all()[0];
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
    });
    const lastErrorObject: Document = { n: outcome.n, updatedExisting: outcome.n > 0 && outcome.upsertedId === undefined };
    if (outcome.upsertedId !== undefined) lastErrorObject.upserted = outcome.upsertedId;
    const value = outcome.upsertedId !== undefined ? (b.new ? outcome.after : null) : b.new ? outcome.after : outcome.before;
    return { lastErrorObject, value: project(value, b.fields), ok: 1 };
  } catch (err) {
    if (err instanceof WriteError) throw new CommandError(err.code, err.message, [], err.extra);
    throw err;
  }
};

const count: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const docs = runQuery(viewOf(ctx, collectionName(ctx, 'count'), false), { filter: b.query, skip: b.skip, limit: b.limit });
  return { n: docs.length, ok: 1 };
};

const distinct: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const docs = runQuery(viewOf(ctx, collectionName(ctx, 'distinct'), false), { filter: b.query });
  const seen = new Map<string, unknown>();
  for (const doc of docs) {
    const value = mingoFind([doc], {}, { _id: 0, v: `$${b.key}` }).all()[0]?.v;
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    for (const v of values) seen.set(EJSON.stringify([v] as unknown as Document), v);
  }
  return { values: [...seen.values()], ok: 1 };
};

/** Runs a pipeline over a collection; `$lookup` and `$unionWith` read other collections of the same database. */
export function runPipeline(ctx: CommandContext, source: Document[], pipeline: Document[]): Document[] {
  const resolver = (name: string) => {
    const other = viewOf(ctx, name, false);
    return other ? [...other.values()] : [];
  };
  return withMingo(() =>
    new Aggregator(pipeline, { collectionResolver: resolver, processingMode: ProcessingMode.CLONE_INPUT }).run(source),
  );
}

export function collectionStats(coll: Collection | undefined, ns: string): Document {
  const count = coll?.docs.size ?? 0;
  const size = coll?.dataSize() ?? 0;
  return {
    ns,
    count,
    size,
    avgObjSize: count > 0 ? Math.round(size / count) : 0,
    storageSize: size,
    nindexes: coll?.indexes.length ?? 0,
    totalIndexSize: 0,
    indexSizes: Object.fromEntries((coll?.indexes ?? []).map((ix) => [ix.name, 0])),
  };
}

const aggregate: CommandHandler = (ctx) => {
  ctx.opcounters.command += 1;
  const b = ctx.body;
  const pipeline = (b.pipeline ?? []) as Document[];
  if (!Array.isArray(pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  const name = typeof b.aggregate === 'string' ? b.aggregate : undefined;
  const ns = name ? `${ctx.db}.${name}` : `${ctx.db}.$cmd.aggregate`;
  const first = pipeline[0] ?? {};
  let stages = pipeline;
  let source: Document[];
  if ('$collStats' in first) {
    const coll = name ? ctx.store.collection(ctx.db, name, false) : undefined;
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `Collection [${ns}] not found.`);
    const stats = collectionStats(coll, ns);
    source = [{ ns, host: ctx.server.host, localTime: new Date(), storageStats: stats, count: stats.count }];
    stages = pipeline.slice(1);
  } else if ('$documents' in first) {
    source = first.$documents as Document[];
    stages = pipeline.slice(1);
  } else {
    if (!name) throw new CommandError(ErrorCodes.InvalidNamespace, '{aggregate: 1} is not valid for this pipeline');
    const view = viewOf(ctx, name, false);
    source = view ? [...view.values()] : [];
  }
  const last = stages[stages.length - 1];
  if (last && '$out' in last) {
    const target = typeof last.$out === 'string' ? last.$out : (last.$out as Document).coll;
    const results = runPipeline(ctx, source, stages.slice(0, -1));
    ctx.store.dropCollection(ctx.db, target);
    const view = viewOf(ctx, target, true) as CollectionView;
    for (const doc of results) {
      const d = withId(doc);
      view.insert(idKey(d._id), d);
    }
    return { cursor: { firstBatch: [], id: 0, ns }, ok: 1 };
  }
  const results = runPipeline(ctx, source, stages);
  return firstBatchReply(ctx.cursors, ns, results, b.cursor?.batchSize);
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
  aggregate,
};
