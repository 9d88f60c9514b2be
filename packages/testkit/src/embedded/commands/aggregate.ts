import type { Document } from 'bson';
import type { CommandHandler } from '../context.js';
import { firstBatchReply } from '../cursors.js';
import { CommandError, ErrorCodes } from '../errors.js';
import { runPipeline } from '../pipeline.js';
import type { CollectionView } from '../storage/catalog.js';
import { collectionStats } from '../storage/collection.js';
import { idKey } from '../storage/documents.js';
import { withId } from '../update.js';
import { checkStageNames } from './changeStream.js';
import { viewOf } from './namespace.js';

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
  if ('$collStats' in first) {
    const coll = name ? ctx.catalog.collection(ctx.db, name, false) : undefined;
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
    ctx.catalog.dropCollection(ctx.db, target);
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

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
