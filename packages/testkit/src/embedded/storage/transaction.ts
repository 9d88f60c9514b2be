import type { Document, Timestamp } from 'bson';
import type { ChangeRecord } from '../changes.js';
import type { Collection } from './collection.js';

export type PendingChange = Omit<ChangeRecord, 'seq' | 'clusterTime' | 'wallTime'>;

/** What a transaction sees of one collection: its snapshot plus its own uncommitted writes. */
export class TransactionCollection {
  readonly snapshot: Map<string, Document>;
  readonly writes = new Map<string, Document | null>();

  constructor(
    readonly coll: Collection,
    snapshot: Map<string, Document>,
  ) {
    this.snapshot = snapshot;
  }
}

/** A multi-document transaction with snapshot isolation and first-writer-wins conflicts. */
export class Transaction {
  private static nextId = 1;
  readonly id = Transaction.nextId++;
  state: 'in_progress' | 'committed' | 'aborted' = 'in_progress';
  readonly collections = new Map<Collection, TransactionCollection>();
  readonly pending: PendingChange[] = [];
  /** Collections this transaction created (explicitly or by writing to them), by namespace: invisible to others until commit. */
  readonly created = new Map<string, Collection>();
  /** The store version at the snapshot: a document written after it conflicts. */
  readonly snapshotVersion: number;
  /** Milliseconds since the epoch when it started (for transactionLifetimeLimitSeconds). */
  readonly startedAt = Date.now();
  /** Resolves once the transaction commits or aborts: writes outside it that it blocked run then. */
  readonly ended: Promise<void>;
  private markEnded!: () => void;

  constructor(
    readonly txnNumber: number,
    snapshotVersion: number,
    /** The cluster time of the snapshot: every collection is read as of the transaction's start. */
    readonly readAt: Timestamp,
  ) {
    this.snapshotVersion = snapshotVersion;
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
  }

  end(state: 'committed' | 'aborted'): void {
    this.state = state;
    this.markEnded();
  }

  view(coll: Collection, documentsAt: (coll: Collection, at: Timestamp) => Map<string, Document>): TransactionCollection {
    let tc = this.collections.get(coll);
    if (!tc) {
      tc = new TransactionCollection(coll, documentsAt(coll, this.readAt));
      this.collections.set(coll, tc);
    }
    return tc;
  }
}
