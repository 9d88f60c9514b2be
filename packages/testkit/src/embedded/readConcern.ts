import { type Document, Timestamp } from 'bson';
import type { ClusterClock } from './changes.js';
import { CommandError, ErrorCodes } from './errors.js';
import { isLater } from './storage/history.js';

/** Commands mongod 7.0 runs with `readConcern: { level: 'snapshot' }` outside a transaction. */
const SNAPSHOT_READ_COMMANDS = new Set(['find', 'aggregate', 'distinct']);
const CURSOR_COMMANDS = new Set(['getMore', 'killCursors']);

/**
 * The cluster time a snapshot read outside a transaction reads at, or undefined for any other read concern. Without
 * `atClusterTime` the server picks its latest time, as mongod picks its last applied (majority committed) time.
 */
export function snapshotReadTime(name: string, body: Document, clock: ClusterClock): Timestamp | undefined {
  const readConcern = body.readConcern as Document | undefined;
  if (readConcern === null || typeof readConcern !== 'object') return undefined;
  const { level, atClusterTime } = readConcern;
  if (atClusterTime !== undefined && level !== 'snapshot') {
    throw new CommandError(ErrorCodes.InvalidOptions, 'readConcern atClusterTime is only valid with readConcern level snapshot');
  }
  // Inside a transaction the transaction's snapshot applies (its first command carries the read concern); a cursor's
  // getMore and killCursors continue the read its cursor began.
  if (level !== 'snapshot' || body.autocommit !== undefined || CURSOR_COMMANDS.has(name)) return undefined;
  if (!SNAPSHOT_READ_COMMANDS.has(name) || writesOutput(name, body)) {
    throw new CommandError(ErrorCodes.InvalidOptions, `Command ${name} does not support { readConcern: { level: "snapshot" } }`);
  }
  if (atClusterTime === undefined) return clock.now();
  if (!(atClusterTime instanceof Timestamp)) {
    throw new CommandError(ErrorCodes.TypeMismatch, "BSON field 'atClusterTime' is the wrong type, expected type 'timestamp'");
  }
  if (atClusterTime.t === 0 && atClusterTime.i === 0) {
    throw new CommandError(ErrorCodes.InvalidOptions, 'readConcern atClusterTime cannot be a null timestamp');
  }
  const now = clock.now();
  if (isLater(atClusterTime, now)) {
    throw new CommandError(
      ErrorCodes.InvalidOptions,
      `readConcern atClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${atClusterTime.toString()}; current clusterTime: ${now.toString()}`,
    );
  }
  return atClusterTime;
}

/** An aggregate ending in `$out` or `$merge` writes, so it cannot read at a snapshot. */
function writesOutput(name: string, body: Document): boolean {
  if (name !== 'aggregate' || !Array.isArray(body.pipeline)) return false;
  const last = body.pipeline[body.pipeline.length - 1] as Document | undefined;
  return last !== undefined && ('$out' in last || '$merge' in last);
}

/** A snapshot read replies with the time it read at: in the cursor for find and aggregate, at the top for distinct. */
export function withAtClusterTime(reply: Document, at: Timestamp): Document {
  if (reply.cursor && typeof reply.cursor === 'object') reply.cursor.atClusterTime = at;
  else reply.atClusterTime = at;
  return reply;
}
