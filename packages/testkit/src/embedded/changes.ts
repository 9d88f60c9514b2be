import { EventEmitter } from 'node:events';
import { type Document, Timestamp, type UUID } from 'bson';
import { CommandError, ErrorCodes } from './errors.js';
import { describeUpdate } from './storage/updateDescription.js';

/** The server's logical clock: strictly increasing timestamps for operationTime and clusterTime. */
export class ClusterClock {
  private seconds = 0;
  private increment = 0;

  tick(): Timestamp {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.seconds) {
      this.seconds = now;
      this.increment = 1;
    } else {
      this.increment += 1;
    }
    return new Timestamp({ t: this.seconds, i: this.increment });
  }

  now(): Timestamp {
    if (this.seconds === 0) return this.tick();
    return new Timestamp({ t: this.seconds, i: this.increment });
  }
}

export type OperationType =
  | 'insert'
  | 'update'
  | 'replace'
  | 'delete'
  | 'drop'
  | 'rename'
  | 'dropDatabase'
  | 'create'
  | 'createIndexes'
  | 'dropIndexes'
  | 'modify';

/** Events a change stream reports only with `showExpandedEvents: true`. */
export const EXPANDED_EVENTS: ReadonlySet<OperationType> = new Set(['create', 'createIndexes', 'dropIndexes', 'modify']);

export interface ChangeRecord {
  seq: number;
  clusterTime: Timestamp;
  wallTime: Date;
  operationType: OperationType;
  db: string;
  coll?: string;
  documentKey?: Document;
  fullDocument?: Document;
  updateDescription?: Document;
  /**
   * An update's document before and after it. Its `updateDescription` is computed from them only when a change stream
   * reads the event (`describedUpdate`), so updates pay nothing for streams nobody opened, yet a stream resumed
   * from an earlier point still gets the description.
   */
  versions?: { before: Document; after: Document };
  to?: { db: string; coll: string };
  txnNumber?: number;
  lsid?: Document;
  collectionUUID?: UUID;
  /** DDL events: what the operation did (indexes created or dropped, options modified). */
  operationDescription?: Document;
  stateBeforeChange?: Document;
  disambiguatedPaths?: Document;
  /** Kept when the collection has changeStreamPreAndPostImages enabled. */
  preImage?: Document;
  postImage?: Document;
}

/** An update event's `updateDescription` and `disambiguatedPaths`, computed once, the first time a stream asks. */
export function describedUpdate(r: ChangeRecord): { updateDescription?: Document; disambiguatedPaths?: Document } {
  if (r.versions) {
    const { disambiguatedPaths, ...updateDescription } = describeUpdate(r.versions.before, r.versions.after);
    r.updateDescription = updateDescription;
    r.disambiguatedPaths = disambiguatedPaths;
    r.versions = undefined;
  }
  return { updateDescription: r.updateDescription, disambiguatedPaths: r.disambiguatedPaths };
}

/** Resume tokens are opaque to clients; ours encode the event's sequence number. */
export function resumeToken(seq: number, invalidate = false): Document {
  return { _data: `82${seq.toString(16).padStart(16, '0')}${invalidate ? '01' : '00'}` };
}

export function decodeResumeToken(token: unknown): { seq: number; invalidate: boolean } {
  const data = (token as { _data?: unknown } | null)?._data;
  if (typeof data !== 'string' || !/^82[0-9a-f]{16}0[01]$/.test(data)) {
    throw new CommandError(ErrorCodes.BadValue, 'KeyString format error: invalid resume token');
  }
  return { seq: Number.parseInt(data.slice(2, 18), 16), invalidate: data.endsWith('01') };
}

const MAX_RETAINED_EVENTS = 100_000;

/** An in-memory oplog of change events, read by change stream cursors. */
export class ChangeLog extends EventEmitter {
  private records: ChangeRecord[] = [];
  private nextSeq = 1;

  constructor(private readonly clock: ClusterClock) {
    super();
    this.setMaxListeners(0);
  }

  /** Sequence number of the newest event (0 before any). */
  get head(): number {
    return this.nextSeq - 1;
  }

  get oldestRetained(): number {
    return this.records[0]?.seq ?? this.nextSeq;
  }

  record(change: Omit<ChangeRecord, 'seq' | 'clusterTime' | 'wallTime'>, clusterTime?: Timestamp): ChangeRecord {
    const full: ChangeRecord = { ...change, seq: this.nextSeq++, clusterTime: clusterTime ?? this.clock.tick(), wallTime: new Date() };
    this.records.push(full);
    if (this.records.length > MAX_RETAINED_EVENTS) this.records.splice(0, this.records.length - MAX_RETAINED_EVENTS);
    this.emit('change');
    return full;
  }

  /** Events with a sequence number greater than `seq`, oldest first. */
  *after(seq: number): Iterable<ChangeRecord> {
    const first = this.records[0]?.seq ?? this.nextSeq;
    for (let i = Math.max(0, seq + 1 - first); i < this.records.length; i++) yield this.records[i] as ChangeRecord;
  }

  /** The sequence number just before the first event at or after `time`. */
  positionAt(time: Timestamp): number {
    for (const r of this.records) if (r.clusterTime.greaterThanOrEqual(time)) return r.seq - 1;
    return this.head;
  }

  /** Resolves when a new event arrives or after `ms`, whichever comes first. */
  waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off('change', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.once('change', done);
    });
  }
}
