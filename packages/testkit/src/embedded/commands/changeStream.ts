import { type Document, Long } from 'bson';
import { type ChangeRecord, decodeResumeToken, resumeToken } from '../changes.js';
import type { CommandContext } from '../context.js';
import type { ChangeStreamCursor } from '../cursors.js';
import { CommandError, ErrorCodes } from '../errors.js';
import { runPipeline } from '../pipeline.js';
import { keepStoredTypes } from '../storage/bsonValues.js';
import { idKey } from '../storage/documents.js';

const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

/** Opens a change stream cursor for `aggregate` with a leading `$changeStream` stage. */
export function openChangeStream(ctx: CommandContext): Document {
  const b = ctx.body;
  const pipeline = b.pipeline as Document[];
  const spec = (pipeline[0] as Document).$changeStream as Document;
  const coll = typeof b.aggregate === 'string' ? b.aggregate : undefined;
  const wholeCluster = spec.allChangesForCluster === true;
  if (wholeCluster && ctx.db !== 'admin') {
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      "$changeStream may only be run with allChangesForCluster: true on the 'admin' database",
    );
  }
  if (!wholeCluster && ctx.db === 'admin' && !coll) {
    throw new CommandError(ErrorCodes.InvalidOptions, "$changeStream on the 'admin' database must set allChangesForCluster: true");
  }
  let position = ctx.changes.head;
  const token = spec.startAfter ?? spec.resumeAfter;
  if (token) {
    const decoded = decodeResumeToken(token);
    if (decoded.invalidate && spec.resumeAfter) {
      throw new CommandError(
        ErrorCodes.InvalidOptions,
        'Attempting to resume a change stream using an invalidate token is not allowed; use startAfter',
      );
    }
    position = decoded.seq;
  } else if (spec.startAtOperationTime) {
    position = ctx.changes.positionAt(spec.startAtOperationTime);
  }
  if (position + 1 < ctx.changes.oldestRetained) {
    throw new CommandError(
      ErrorCodes.ChangeStreamHistoryLost,
      'Resume of change stream was not possible, as the resume point may no longer be in the oplog.',
    );
  }
  const cursor: ChangeStreamCursor = {
    kind: 'change',
    id: ctx.cursors.allocateId(),
    ns: wholeCluster ? 'admin.$cmd.aggregate' : coll ? `${ctx.db}.${coll}` : `${ctx.db}.$cmd.aggregate`,
    position,
    ...(wholeCluster ? {} : { db: ctx.db }),
    ...(coll ? { coll } : {}),
    fullDocument: typeof spec.fullDocument === 'string' ? spec.fullDocument : 'default',
    stages: pipeline.slice(1),
    showExpandedEvents: spec.showExpandedEvents === true,
    batchSize: b.cursor?.batchSize,
    invalidated: false,
  };
  ctx.cursors.add(cursor);
  const firstBatch = readEvents(ctx, cursor, b.cursor?.batchSize ?? 101);
  return changeStreamReply(cursor, firstBatch, 'firstBatch');
}

export function changeStreamReply(cursor: ChangeStreamCursor, batch: Document[], field: 'firstBatch' | 'nextBatch'): Document {
  return {
    cursor: {
      [field]: batch,
      postBatchResumeToken: resumeToken(cursor.position),
      id: Long.fromNumber(cursor.invalidated ? 0 : cursor.id),
      ns: cursor.ns,
    },
    ok: 1,
  };
}

function inScope(cursor: ChangeStreamCursor, r: ChangeRecord): boolean {
  if (cursor.db === undefined) return !INTERNAL_DATABASES.has(r.db);
  if (r.db !== cursor.db) return false;
  if (cursor.coll === undefined) return r.coll === undefined || !r.coll.startsWith('system.');
  return r.coll === cursor.coll || r.operationType === 'dropDatabase';
}

function toEvent(ctx: CommandContext, cursor: ChangeStreamCursor, r: ChangeRecord): Document {
  const event: Document = {
    _id: resumeToken(r.seq),
    operationType: r.operationType,
    clusterTime: r.clusterTime,
    wallTime: r.wallTime,
    ns: r.coll === undefined ? { db: r.db } : { db: r.db, coll: r.coll },
  };
  if (r.documentKey) event.documentKey = r.documentKey;
  if (r.updateDescription) event.updateDescription = r.updateDescription;
  if (r.to) event.to = r.to;
  if (r.txnNumber !== undefined) event.txnNumber = Long.fromNumber(r.txnNumber);
  if (r.lsid) event.lsid = r.lsid;
  if (r.operationType === 'insert' || r.operationType === 'replace') event.fullDocument = r.fullDocument;
  if (r.operationType === 'update' && cursor.fullDocument !== 'default' && r.documentKey && r.coll) {
    const coll = ctx.catalog.collection(r.db, r.coll, false);
    const current = coll?.docs.get(idKey(r.documentKey._id));
    event.fullDocument = current ?? null;
  }
  return event;
}

/** Whether an event ends this stream: dropping or renaming its collection, or dropping its database. */
function invalidates(cursor: ChangeStreamCursor, r: ChangeRecord): boolean {
  if (cursor.coll !== undefined) return r.operationType === 'drop' || r.operationType === 'rename' || r.operationType === 'dropDatabase';
  if (cursor.db !== undefined) return r.operationType === 'dropDatabase';
  return false;
}

export function readEvents(ctx: CommandContext, cursor: ChangeStreamCursor, batchSize: number): Document[] {
  const out: Document[] = [];
  if (cursor.invalidated) return out;
  for (const r of ctx.changes.after(cursor.position)) {
    if (out.length >= batchSize) break;
    cursor.position = r.seq;
    if (!inScope(cursor, r)) continue;
    if (r.operationType === 'create' && !cursor.showExpandedEvents) continue;
    // A collection stream reports dropDatabase only as the drop of its collection.
    if (!(cursor.coll !== undefined && r.operationType === 'dropDatabase')) {
      const event = toEvent(ctx, cursor, r);
      out.push(
        ...(cursor.stages.length > 0
          ? runPipeline(ctx, [event], cursor.stages).map((e) => keepStoredTypes(e, event) as Document)
          : [event]),
      );
    }
    if (invalidates(cursor, r)) {
      out.push({ _id: resumeToken(r.seq, true), operationType: 'invalidate', clusterTime: r.clusterTime, wallTime: r.wallTime });
      cursor.invalidated = true;
      break;
    }
  }
  return out;
}
