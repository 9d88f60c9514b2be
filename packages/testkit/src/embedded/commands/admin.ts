import { type Document, Long } from 'bson';
import { Query } from 'mingo';
import { parseCollation } from '../collation.js';
import type { CommandContext, CommandHandler } from '../context.js';
import { firstBatchReply } from '../cursors.js';
import { CommandError, ErrorCodes } from '../errors.js';
import { collectionStats, type IndexSpec } from '../storage/collection.js';
import { checkValidationOptions } from '../validation.js';
import { commandOptions } from './namespace.js';

export const SERVER_VERSION = '7.0.0';

function requireCollection(ctx: CommandContext, field: string) {
  const name = ctx.body[field];
  const coll = typeof name === 'string' ? ctx.catalog.collection(ctx.db, name, false) : undefined;
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${ctx.db}.${String(name)}`);
  return coll;
}

const listDatabases: CommandHandler = (ctx) => {
  let databases: Document[] = [...ctx.catalog.databases.values()]
    .filter((db) => db.collections.size > 0)
    .map((db) => {
      let size = 0;
      for (const coll of db.collections.values()) size += coll.dataSize();
      return { name: db.name, sizeOnDisk: Math.max(size, 4096), empty: false };
    });
  if (ctx.body.filter) {
    const q = new Query(ctx.body.filter);
    databases = databases.filter((d) => q.test(d));
  }
  if (ctx.body.nameOnly) return { databases: databases.map((d) => ({ name: d.name })), ok: 1 };
  const totalSize = databases.reduce((sum, d) => sum + (d.sizeOnDisk as number), 0);
  return { databases, totalSize, totalSizeMb: Math.round(totalSize / 1024 / 1024), ok: 1 };
};

const listCollections: CommandHandler = (ctx) => {
  const db = ctx.catalog.database(ctx.db, false);
  let infos: Document[] = [...(db?.collections.values() ?? [])].map((coll) =>
    coll.options.viewOn !== undefined
      ? { name: coll.name, type: 'view', options: coll.options, info: { readOnly: true } }
      : {
          name: coll.name,
          type: 'collection',
          options: coll.options,
          info: { readOnly: false, uuid: coll.uuid },
          idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
        },
  );
  if (ctx.body.filter) {
    const q = new Query(ctx.body.filter);
    infos = infos.filter((i) => q.test(i));
  }
  if (ctx.body.nameOnly) infos = infos.map((i) => ({ name: i.name, type: i.type }));
  return firstBatchReply(ctx.cursors, `${ctx.db}.$cmd.listCollections`, infos, ctx.body.cursor?.batchSize);
};

const create: CommandHandler = (ctx) => {
  const name = ctx.body.create;
  if (ctx.catalog.collectionIn(ctx.db, name, false, ctx.txn)) {
    throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  }
  const options = commandOptions(ctx.body);
  checkValidationOptions(options);
  const coll = ctx.catalog.collectionIn(ctx.db, name, true, ctx.txn);
  if (coll) {
    coll.options = options;
    coll.collateIdIndex();
  }
  return { ok: 1 };
};

const drop: CommandHandler = (ctx) => {
  const name = ctx.body.drop;
  const coll = ctx.catalog.collection(ctx.db, name, false);
  const nIndexesWas = coll?.indexes.length;
  ctx.catalog.dropCollection(ctx.db, name);
  // Since MongoDB 7.0, dropping a missing collection succeeds.
  return coll ? { nIndexesWas, ns: `${ctx.db}.${name}`, ok: 1 } : { ok: 1 };
};

const dropDatabase: CommandHandler = (ctx) => {
  ctx.catalog.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

function splitNamespace(ns: unknown): [string, string] {
  if (typeof ns !== 'string' || !ns.includes('.'))
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
  const dot = ns.indexOf('.');
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

const renameCollection: CommandHandler = (ctx) => {
  if (ctx.db !== 'admin') throw new CommandError(ErrorCodes.Unauthorized, 'renameCollection may only be run against the admin database.');
  const [fromDb, fromName] = splitNamespace(ctx.body.renameCollection);
  const [toDb, toName] = splitNamespace(ctx.body.to);
  const from = ctx.catalog.collection(fromDb, fromName, false);
  if (!from) throw new CommandError(ErrorCodes.NamespaceNotFound, 'Source collection does not exist');
  ctx.catalog.renameCollection(from, toDb, toName, ctx.body.dropTarget === true);
  return { ok: 1 };
};

const collMod: CommandHandler = (ctx) => {
  const coll = requireCollection(ctx, 'collMod');
  const options = commandOptions(ctx.body, 'index');
  const index = ctx.body.index;
  checkValidationOptions(options);
  const reply: Document = { ok: 1 };
  if (index) {
    const spec = coll.indexes.find((ix) =>
      index.name ? ix.name === index.name : JSON.stringify(ix.key) === JSON.stringify(index.keyPattern),
    );
    if (!spec) throw new CommandError(ErrorCodes.IndexNotFound, `cannot find index ${JSON.stringify(index)} for ns ${coll.ns}`);
    if (index.expireAfterSeconds !== undefined) {
      reply.expireAfterSeconds_old = spec.expireAfterSeconds;
      spec.expireAfterSeconds = index.expireAfterSeconds;
      reply.expireAfterSeconds_new = index.expireAfterSeconds;
    }
    if (index.hidden !== undefined) {
      reply.hidden_old = spec.hidden ?? false;
      spec.hidden = index.hidden;
      reply.hidden_new = index.hidden;
    }
  }
  const stateBeforeChange = { collectionOptions: coll.options };
  coll.options = { ...coll.options, ...options };
  ctx.changes.record({
    operationType: 'modify',
    db: ctx.db,
    coll: coll.name,
    collectionUUID: coll.uuid,
    operationDescription: index ? { index } : options,
    stateBeforeChange,
  });
  return reply;
};

function indexName(key: Document): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}_${v}`)
    .join('_');
}

const INDEX_OPTIONS_COMPARED = [
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'weights',
  'default_language',
  'language_override',
] as const;

const isText = (spec: IndexSpec) => spec.key._fts === 'text';

/**
 * Stores an index as mongod 7.0 lists it. A text index: its 'text' fields become `_fts: 'text', _ftsx: 1` at the
 * first one's place (other fields keep theirs), the text fields go to `weights` (1 unless the option says otherwise,
 * sorted by field) with `default_language`, `language_override` and `textIndexVersion: 3`. A 2dsphere index gets
 * `2dsphereIndexVersion: 3`.
 */
function asMongodLists(spec: IndexSpec): IndexSpec {
  const fields = Object.entries(spec.key as Document);
  if (fields.some(([, direction]) => direction === '2dsphere') && spec['2dsphereIndexVersion'] === undefined) {
    spec['2dsphereIndexVersion'] = 3;
  }
  if (!fields.some(([, direction]) => direction === 'text') || '_fts' in spec.key) return spec;
  const key: Document = {};
  const weights: Record<string, number> = {};
  for (const [field, direction] of fields) {
    if (direction !== 'text') key[field] = direction;
    else {
      if (!('_fts' in key)) Object.assign(key, { _fts: 'text', _ftsx: 1 });
      weights[field] = 1;
    }
  }
  for (const [field, weight] of Object.entries((spec.weights ?? {}) as Document)) weights[field] = Number(weight);
  const { weights: _w, default_language, language_override, textIndexVersion, ...rest } = spec;
  return {
    ...rest,
    key,
    weights: Object.fromEntries(Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    default_language: default_language ?? 'english',
    language_override: language_override ?? 'language',
    textIndexVersion: textIndexVersion ?? 3,
  };
}

const createIndexes: CommandHandler = (ctx) => {
  const name = ctx.body.createIndexes;
  const existed = ctx.catalog.collectionIn(ctx.db, name, false, ctx.txn);
  if (existed?.options.viewOn !== undefined) {
    throw new CommandError(ErrorCodes.CommandNotSupportedOnView, `Namespace ${existed.ns} is a view, not a collection`);
  }
  if (ctx.txn && existed && ctx.catalog.isCommitted(existed)) {
    throw new CommandError(
      ErrorCodes.OperationNotSupportedInTransaction,
      `Cannot create new indexes on existing collection ${ctx.db}.${name} in a multi-document transaction.`,
    );
  }
  const coll = ctx.catalog.collectionIn(ctx.db, name, true, ctx.txn);
  if (!coll) throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid namespace ${ctx.db}.${name}`);
  const before = coll.indexes.length;
  for (const raw of (ctx.body.indexes ?? []) as Document[]) {
    if (!raw.key || typeof raw.key !== 'object' || Object.keys(raw.key).length === 0) {
      throw new CommandError(ErrorCodes.BadValue, "Error in specification: the 'key' field is required and must be a non-empty object");
    }
    const spec: IndexSpec = asMongodLists({ v: 2, ...raw, key: raw.key, name: raw.name ?? indexName(raw.key) });
    // An index without a collation takes the collection's default; a `simple` collation is stored as none.
    if (spec.collation === undefined && coll.options.collation !== undefined) spec.collation = coll.options.collation;
    if (parseCollation(spec.collation) === undefined) delete spec.collation;
    const sameName = coll.indexes.find((ix) => ix.name === spec.name);
    // Indexes on the same key with different collations are different indexes, as in mongod.
    const sameKey = coll.indexes.find(
      (ix) => JSON.stringify(ix.key) === JSON.stringify(spec.key) && JSON.stringify(ix.collation) === JSON.stringify(spec.collation),
    );
    if (sameName && JSON.stringify(sameName.key) !== JSON.stringify(spec.key)) {
      throw new CommandError(
        ErrorCodes.IndexKeySpecsConflict,
        `An existing index has the same name as the requested index but a different key. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName)}`,
      );
    }
    if (sameKey) {
      const differs = INDEX_OPTIONS_COMPARED.some((o) => JSON.stringify(sameKey[o]) !== JSON.stringify(spec[o]));
      if (differs || sameKey.name !== spec.name) {
        if (sameKey.name === '_id_' && !differs) continue;
        throw new CommandError(
          ErrorCodes.IndexOptionsConflict,
          `An equivalent index already exists with a different name and options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameKey)}`,
        );
      }
      continue;
    }
    const otherText = isText(spec) ? coll.indexes.find(isText) : undefined;
    if (otherText) {
      throw new CommandError(
        ErrorCodes.IndexOptionsConflict,
        `only one text index per collection allowed, found existing text index "${otherText.name}"`,
      );
    }
    coll.addIndex(spec);
    if (!ctx.txn) {
      ctx.changes.record({
        operationType: 'createIndexes',
        db: ctx.db,
        coll: coll.name,
        collectionUUID: coll.uuid,
        operationDescription: { indexes: [spec] },
      });
    }
  }
  return { createdCollectionAutomatically: !existed, numIndexesBefore: before, numIndexesAfter: coll.indexes.length, ok: 1 };
};

const listIndexes: CommandHandler = (ctx) => {
  const coll = requireCollection(ctx, 'listIndexes');
  return firstBatchReply(
    ctx.cursors,
    `${ctx.db}.${coll.name}`,
    coll.indexes.map((ix) => ({ ...ix })),
    ctx.body.cursor?.batchSize,
  );
};

const dropIndexes: CommandHandler = (ctx) => {
  const coll = requireCollection(ctx, 'dropIndexes');
  const nIndexesWas = coll.indexes.length;
  const target = ctx.body.index;
  const names: string[] =
    target === '*'
      ? coll.indexes.filter((ix) => ix.name !== '_id_').map((ix) => ix.name)
      : Array.isArray(target)
        ? target
        : typeof target === 'string'
          ? [target]
          : coll.indexes.filter((ix) => JSON.stringify(ix.key) === JSON.stringify(target)).map((ix) => ix.name);
  if (names.length === 0 && target !== '*')
    throw new CommandError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
  for (const n of names) {
    if (n === '_id_') throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!coll.indexes.some((ix) => ix.name === n)) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${n}]`);
    const spec = coll.indexes.find((ix) => ix.name === n);
    coll.dropIndex(n);
    ctx.changes.record({
      operationType: 'dropIndexes',
      db: ctx.db,
      coll: coll.name,
      collectionUUID: coll.uuid,
      operationDescription: { indexes: [spec] },
    });
  }
  return { nIndexesWas, ok: 1 };
};

const dbStats: CommandHandler = (ctx) => {
  const db = ctx.catalog.database(ctx.db, false);
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const coll of db?.collections.values() ?? []) {
    objects += coll.docs.size;
    dataSize += coll.dataSize();
    indexes += coll.indexes.length;
  }
  return {
    db: ctx.db,
    collections: db?.collections.size ?? 0,
    views: 0,
    objects,
    avgObjSize: objects > 0 ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes,
    indexSize: 0,
    totalSize: dataSize,
    scaleFactor: 1,
    fsUsedSize: 0,
    fsTotalSize: 0,
    ok: 1,
  };
};

const collStats: CommandHandler = (ctx) => {
  const name = ctx.body.collStats;
  const coll = requireCollection(ctx, 'collStats');
  return { ...collectionStats(coll, `${ctx.db}.${name}`), ok: 1 };
};

const serverStatus: CommandHandler = (ctx) => {
  const uptimeMillis = Date.now() - ctx.server.startedAt;
  return {
    host: ctx.server.host,
    version: SERVER_VERSION,
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    localTime: new Date(),
    connections: {
      current: ctx.server.connections.current,
      available: 1_000_000 - ctx.server.connections.current,
      totalCreated: ctx.server.connections.totalCreated,
      active: ctx.server.connections.current,
    },
    opcounters: { ...ctx.opcounters },
    storageEngine: { name: 'embedded-memory', persistent: false },
    ok: 1,
  };
};

const buildInfo: CommandHandler = () => ({
  version: SERVER_VERSION,
  gitVersion: 'polymongo-embedded',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: 16 * 1024 * 1024,
  storageEngines: ['embedded-memory'],
  ok: 1,
});

const ping: CommandHandler = () => ({ ok: 1 });

const endSessions: CommandHandler = () => ({ ok: 1 });

export const adminCommands: Record<string, CommandHandler> = {
  listDatabases,
  listCollections,
  create,
  drop,
  dropDatabase,
  renameCollection,
  collMod,
  createIndexes,
  listIndexes,
  dropIndexes,
  dbStats,
  dbstats: dbStats,
  collStats,
  collstats: collStats,
  serverStatus,
  serverstatus: serverStatus,
  buildInfo,
  buildinfo: buildInfo,
  ping,
  endSessions,
  refreshSessions: ping,
  getParameter: () => ({ featureCompatibilityVersion: { version: '7.0' }, ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
};
