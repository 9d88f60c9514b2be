import type { Document } from 'bson';
import type { CommandContext } from '../context.js';
import { WriteBlocked } from '../errors.js';

/**
 * Runs one write statement. Outside a transaction, a statement that reached a document an open transaction has
 * written waits until that transaction ends and then runs again (it wrote nothing before it was blocked), as mongod
 * retries a write conflict; past the command's maxTimeMS it fails with MaxTimeMSExpired. A statement that was not
 * blocked returns its result directly, so the common path adds no turn of the event loop.
 */
export function writeStatement<T>(ctx: CommandContext, statement: () => T): T | Promise<T> {
  try {
    return statement();
  } catch (err) {
    if (!(err instanceof WriteBlocked)) throw err;
    return ctx.catalog.waitForRelease(err, ctx.deadline).then(() => writeStatement(ctx, statement));
  }
}

/**
 * Runs a command's statements `from`..`count - 1` in order (`statement` returns true to stop, as an ordered batch
 * does after an error), then builds the reply. Synchronous while no statement is blocked; a blocked one runs again,
 * with the rest after it, once the transaction that blocked it ends.
 */
export function runStatements(
  ctx: CommandContext,
  count: number,
  statement: (i: number) => boolean,
  reply: () => Document,
  from = 0,
): Document | Promise<Document> {
  for (let i = from; i < count; i++) {
    try {
      if (statement(i)) break;
    } catch (err) {
      if (!(err instanceof WriteBlocked)) throw err;
      return ctx.catalog.waitForRelease(err, ctx.deadline).then(() => runStatements(ctx, count, statement, reply, i));
    }
  }
  return reply();
}
