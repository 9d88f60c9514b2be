import type { Document, Timestamp } from 'bson';

/** mongod keeps this much history for snapshot reads (`minSnapshotHistoryWindowInSeconds`, default 300). */
export const SNAPSHOT_HISTORY_SECONDS = 300;
/** A bound on remembered writes per collection, so a long write-heavy run keeps bounded memory. */
const MAX_ENTRIES = 100_000;

interface HistoryEntry {
  at: Timestamp;
  key: string;
  /** The document before the write; undefined when the write inserted it. */
  before: Document | undefined;
}

/** Whether cluster time `a` is later than `b`. */
export function isLater(a: Timestamp, b: Timestamp): boolean {
  return a.t > b.t || (a.t === b.t && a.i > b.i);
}

/**
 * One collection's recent writes, newest last: what each document was before each write. A read at a past cluster
 * time starts from the current documents and undoes the writes made after it, as a snapshot read on mongod sees
 * the data as of `atClusterTime`.
 */
export class WriteHistory {
  private entries: HistoryEntry[] = [];
  private head = 0;
  /** The latest write that was forgotten: a read at an earlier time can no longer be answered. */
  private forgottenAt: Timestamp | undefined;

  record(at: Timestamp, key: string, before: Document | undefined): void {
    this.entries.push({ at, key, before });
    const oldest = this.entries[this.head] as HistoryEntry;
    if (this.entries.length - this.head > MAX_ENTRIES || oldest.at.t < at.t - SNAPSHOT_HISTORY_SECONDS) this.forgetOldest(at);
  }

  private forgetOldest(now: Timestamp): void {
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head] as HistoryEntry;
      if (this.entries.length - this.head <= MAX_ENTRIES && entry.at.t >= now.t - SNAPSHOT_HISTORY_SECONDS) break;
      this.forgottenAt = entry.at;
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  /** Whether the documents as of `at` can be rebuilt. */
  covers(at: Timestamp): boolean {
    return this.forgottenAt === undefined || !isLater(this.forgottenAt, at);
  }

  /** The documents as they were at cluster time `at` (the caller checks `covers` first). */
  documentsAt(current: Map<string, Document>, at: Timestamp): Map<string, Document> {
    const docs = new Map(current);
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const entry = this.entries[i] as HistoryEntry;
      if (!isLater(entry.at, at)) break;
      if (entry.before === undefined) docs.delete(entry.key);
      else docs.set(entry.key, entry.before);
    }
    return docs;
  }
}
