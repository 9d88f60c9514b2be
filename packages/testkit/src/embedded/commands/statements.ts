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

/** The `opcounters` field a statement counts in, once however many times it re-runs after being blocked. */
export type StatementCounter = 'insert' | 'update' | 'delete';

/**
 * Runs a command's statements in order (`statement` returns true to stop, as an ordered batch does after an error),
 * then builds the reply. Synchronous while no statement is blocked; a blocked one runs again, with the rest after it,
 * once the transaction that blocked it ends. Each statement adds 1 to `opcounters[counter]` when it first starts.
 */
export function runStatements(
  ctx: CommandContext,
  count: number,
  statement: (i: number) => boolean,
  reply: () => Document,
  counter?: StatementCounter,
): Document | Promise<Document> {
  return runFrom(ctx, count, statement, reply, counter, 0);
}

/** Runs statements `from`..`count - 1`; statement `from` is a re-run (already counted) when `rerun` is true. */
function runFrom(
  ctx: CommandContext,
  count: number,
  statement: (i: number) => boolean,
  reply: () => Document,
  counter: StatementCounter | undefined,
  from: number,
  rerun = false,
): Document | Promise<Document> {
  for (let i = from; i < count; i++) {
    if (counter && !(rerun && i === from)) ctx.opcounters[counter] += 1;
    try {
      if (statement(i)) break;
    } catch (err) {
      if (!(err instanceof WriteBlocked)) throw err;
      return ctx.catalog.waitForRelease(err, ctx.deadline).then(() => runFrom(ctx, count, statement, reply, counter, i, true));
    }
  }
  return reply();
}
