import { Long } from 'bson';
import type { CommandHandler } from '../context.js';
import { takeBatch } from '../cursors.js';
import { CommandError, ErrorCodes } from '../errors.js';
import { changeStreamReply, readEvents } from './changeStream.js';

const DEFAULT_AWAIT_MS = 1000;

const getMore: CommandHandler = async (ctx) => {
  ctx.opcounters.getmore += 1;
  const id = Number(ctx.body.getMore);
  const cursor = ctx.cursors.get(id);
  if (!cursor) throw new CommandError(ErrorCodes.CursorNotFound, `cursor id ${id} not found`);
  const batchSize = typeof ctx.body.batchSize === 'number' && ctx.body.batchSize > 0 ? ctx.body.batchSize : undefined;
  if (cursor.kind === 'query') {
    const batch = takeBatch(cursor.docs, cursor.position, batchSize);
    cursor.position += batch.length;
    const exhausted = cursor.position >= cursor.docs.length;
    if (exhausted) ctx.cursors.delete(id);
    return { cursor: { nextBatch: batch, id: Long.fromNumber(exhausted ? 0 : id), ns: cursor.ns }, ok: 1 };
  }
  const limit = batchSize ?? Number.POSITIVE_INFINITY;
  let batch = readEvents(ctx, cursor, limit);
  const deadline = Date.now() + (typeof ctx.body.maxTimeMS === 'number' ? ctx.body.maxTimeMS : DEFAULT_AWAIT_MS);
  while (batch.length === 0 && !cursor.invalidated && Date.now() < deadline && ctx.cursors.get(id)) {
    await ctx.changes.waitForChange(deadline - Date.now());
    batch = readEvents(ctx, cursor, limit);
  }
  if (cursor.invalidated) ctx.cursors.delete(id);
  return changeStreamReply(cursor, batch, 'nextBatch');
};

const killCursors: CommandHandler = (ctx) => {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const raw of (ctx.body.cursors ?? []) as Array<number | Long>) {
    const id = Number(raw);
    (ctx.cursors.delete(id) ? killed : notFound).push(Long.fromNumber(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

export const cursorCommands: Record<string, CommandHandler> = { getMore, killCursors };
