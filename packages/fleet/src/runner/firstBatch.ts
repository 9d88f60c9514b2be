import type { ClientSession, Db, Document } from 'mongodb';

/**
 * The documents a cursor command (`find`, `listIndexes`) returns, read from the command's reply as a plain document
 * when its first batch holds them all: the driver's cursor around the same command costs about 6% of the client CPU
 * of a fleet run's per-tenant read (BENCHMARKS.md, "Fleet operations"). Undefined when the server left a cursor open
 * (more than one batch): that cursor is killed and the caller reads through the driver's cursor instead. Like every
 * `db.command`, it reads from the primary, whatever the client's readPreference.
 */
export async function firstBatchOnly(
  db: Db,
  collection: string,
  command: Document,
  session?: ClientSession,
): Promise<Document[] | undefined> {
  const options = session ? { session } : undefined;
  const reply = await db.command(command, options);
  const cursor = reply.cursor as { id?: unknown; firstBatch?: Document[] } | undefined;
  if (Array.isArray(cursor?.firstBatch) && isZero(cursor.id)) return cursor.firstBatch;
  if (cursor?.id !== undefined) await db.command({ killCursors: collection, cursors: [cursor.id] }, options).catch(() => undefined);
  return undefined;
}

/** A cursor id of 0 (exhausted), as a Long, a bigint or a number (with `promoteLongs`). */
function isZero(id: unknown): boolean {
  if (id === undefined || id === null) return true;
  if (typeof id === 'number' || typeof id === 'bigint') return Number(id) === 0;
  return typeof (id as { isZero?: unknown }).isZero === 'function' && (id as { isZero(): boolean }).isZero();
}
