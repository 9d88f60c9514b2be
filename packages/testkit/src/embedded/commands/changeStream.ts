import { type Document, Long } from 'bson';
import { type ChangeRecord, decodeResumeToken, describedUpdate, EXPANDED_EVENTS, resumeToken } from '../changes.js';
import type { CommandContext } from '../context.js';
import type { ChangeStreamCursor } from '../cursors.js';
import { CommandError, ErrorCodes, UNRECOGNIZED_PIPELINE_STAGE } from '../errors.js';
import { runPipeline } from '../pipeline.js';
import { keepStoredTypes } from '../storage/bsonValues.js';
import { idKey } from '../storage/documents.js';

const INTERNAL_DATABASES = new Set(['admin', 'config', 'local']);

/** Stages a change stream's pipeline may hold after `$changeStream`. */
const CHANGE_STREAM_STAGES = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact']);

/** Every aggregation stage mongod 7.0 knows; others fail with 40324. */
export const KNOWN_STAGES = new Set([
  ...CHANGE_STREAM_STAGES,
  '$bucket',
  '$bucketAuto',
  '$changeStream',
  '$changeStreamSplitLargeEvent',
  '$collStats',
  '$count',
  '$currentOp',
  '$densify',
  '$documents',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$indexStats',
  '$limit',
  '$listLocalSessions',
  '$listSampledQueries',
  '$listSearchIndexes',
  '$listSessions',
  '$lookup',
  '$merge',
  '$out',
  '$planCacheStats',
  '$sample',
  '$search',
  '$searchMeta',
  '$setWindowFields',
  '$shardedDataDistribution',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unwind',
  '$vectorSearch',
]);

/** Fails a pipeline naming a stage mongod does not know, as `aggregate` does before running anything. */
export function checkStageNames(pipeline: Document[]): void {
  for (const stage of pipeline) {
    const name = Object.keys(stage ?? {})[0] ?? '';
    if (!KNOWN_STAGES.has(name)) throw new CommandError(UNRECOGNIZED_PIPELINE_STAGE, `Unrecognized pipeline stage name: '${name}'`);
  }
}

function checkChangeStreamStages(stages: Document[]): void {
  checkStageNames(stages);
  for (const stage of stages) {
    const name = Object.keys(stage)[0] as string;
    if (!CHANGE_STREAM_STAGES.has(name)) {
      throw new CommandError(ErrorCodes.IllegalOperation, `${name} is not permitted in a $changeStream pipeline`);
    }
  }
}

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
  checkChangeStreamStages(pipeline.slice(1));
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
    fullDocumentBeforeChange: typeof spec.fullDocumentBeforeChange === 'string' ? spec.fullDocumentBeforeChange : 'off',
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
  if (cursor.showExpandedEvents && r.collectionUUID) event.collectionUUID = r.collectionUUID;
  if (r.documentKey) event.documentKey = r.documentKey;
  const { updateDescription, disambiguatedPaths } = describedUpdate(r);
  if (updateDescription) {
    event.updateDescription = cursor.showExpandedEvents
      ? { ...updateDescription, disambiguatedPaths: disambiguatedPaths ?? {} }
      : updateDescription;
  }
  if (r.operationDescription && cursor.showExpandedEvents) event.operationDescription = r.operationDescription;
  if (r.stateBeforeChange && cursor.showExpandedEvents) event.stateBeforeChange = r.stateBeforeChange;
  if (r.to) event.to = r.to;
  if (r.txnNumber !== undefined) event.txnNumber = Long.fromNumber(r.txnNumber);
  if (r.lsid) event.lsid = r.lsid;
  if (r.operationType === 'insert' || r.operationType === 'replace') event.fullDocument = r.fullDocument;
  if (r.operationType === 'update') {
    if (cursor.fullDocument === 'updateLookup' && r.documentKey && r.coll) {
      const coll = ctx.catalog.collection(r.db, r.coll, false);
      event.fullDocument = coll?.docs.get(idKey(r.documentKey._id)) ?? null;
    } else if (cursor.fullDocument === 'whenAvailable' || cursor.fullDocument === 'required') {
      event.fullDocument = image(r, r.postImage, cursor.fullDocument, 'post');
    }
  }
  const changesDocument = r.operationType === 'update' || r.operationType === 'replace' || r.operationType === 'delete';
  if (changesDocument && (cursor.fullDocumentBeforeChange === 'whenAvailable' || cursor.fullDocumentBeforeChange === 'required')) {
    event.fullDocumentBeforeChange = image(r, r.preImage, cursor.fullDocumentBeforeChange, 'pre');
  }
  return event;
}

/** A pre- or post-image: null when the collection did not keep it, an error when the stream requires it. */
function image(r: ChangeRecord, doc: Document | undefined, mode: string, kind: 'pre' | 'post'): Document | null {
  if (doc) return doc;
  if (mode === 'required') {
    throw new CommandError(
      ErrorCodes.NoMatchingDocument,
      `Change stream was configured to require a ${kind}-image for all update, delete and replace events, but the ${kind}-image was not found for event: ${r.operationType} on ${r.db}.${r.coll ?? ''}`,
    );
  }
  return null;
}

/** A pipeline may not change an event's `_id`: it is the resume token. */
function checkResumeToken(result: Document, event: Document): void {
  const id = result._id as Document | undefined;
  if (id?._data !== (event._id as Document)._data) {
    throw new CommandError(
      ErrorCodes.ChangeStreamFatalError,
      'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
    );
  }
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
    if (EXPANDED_EVENTS.has(r.operationType) && !cursor.showExpandedEvents) continue;
    // A collection stream reports dropDatabase only as the drop of its collection.
    if (!(cursor.coll !== undefined && r.operationType === 'dropDatabase')) {
      const event = toEvent(ctx, cursor, r);
      const results =
        cursor.stages.length > 0 ? runPipeline(ctx, [event], cursor.stages).map((e) => keepStoredTypes(e, event) as Document) : [event];
      for (const result of results) checkResumeToken(result, event);
      out.push(...results);
    }
    if (invalidates(cursor, r)) {
      out.push({ _id: resumeToken(r.seq, true), operationType: 'invalidate', clusterTime: r.clusterTime, wallTime: r.wallTime });
      cursor.invalidated = true;
      break;
    }
  }
  return out;
}
