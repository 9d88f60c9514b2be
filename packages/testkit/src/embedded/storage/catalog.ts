import type { Document, Timestamp } from 'bson';
import type { ChangeLog, ClusterClock } from '../changes.js';
import { CommandError, ErrorCodes, WriteBlocked, writeConflict } from '../errors.js';
import { Collection, Database, duplicateIdError } from './collection.js';
import { isLater } from './history.js';
import { validateCollectionName, validateDatabaseName } from './namespaces.js';
import { type PendingChange, Transaction } from './transaction.js';

/** Read and write access to one collection, either directly or through a transaction. */
export interface CollectionView {
  readonly coll: Collection;
  get(key: string): Document | undefined;
  entries(): Iterable<[string, Document]>;
  values(): Iterable<Document>;
  insert(key: string, doc: Document): void;
  update(key: string, before: Document, after: Document, replace: boolean): void;
  remove(key: string, before: Document): void;
  /** Throws WriteBlocked, before a statement writes anything, when a write outside a transaction must wait for one. */
  checkWritable(keys: Iterable<string>): void;
}

/** mongod's default `transactionLifetimeLimitSeconds`: an older open transaction is aborted. */
const TRANSACTION_LIFETIME_MS = 60_000;

export interface ChangeContext {
  lsid?: Document;
  txnNumber?: number;
}

/** All databases of the embedded server, and the write paths that keep indexes, locks and the change log right. */
export class Catalog {
  readonly databases = new Map<string, Database>();
  /** Database names by their lower-case form: names differing only in case are refused, as mongod does. */
  private readonly namesByLowerCase = new Map<string, string>();
  private version = 0;
  private readonly openTransactions = new Map<number, Transaction>();

  constructor(
    private readonly changes: ChangeLog,
    private readonly clock: ClusterClock,
  ) {}

  database(name: string, create: boolean): Database | undefined {
    let db = this.databases.get(name);
    if (!db && create) {
      this.checkNewDatabaseName(name);
      db = new Database(name);
      this.databases.set(name, db);
      this.namesByLowerCase.set(name.toLowerCase(), name);
    }
    return db;
  }

  private checkNewDatabaseName(name: string): void {
    validateDatabaseName(name);
    const existing = this.namesByLowerCase.get(name.toLowerCase());
    if (existing !== undefined && existing !== name) {
      throw new CommandError(
        ErrorCodes.DatabaseDifferCase,
        `db already exists with different case already have: [${existing}] trying to create [${name}]`,
      );
    }
  }

  /**
   * A collection as a command sees it. Inside a transaction, a collection the transaction creates (explicitly or by
   * writing to it) stays invisible to everyone else until commit, as mongod isolates DDL in transactions.
   */
  collectionIn(dbName: string, name: string, create: boolean, txn: Transaction | undefined): Collection | undefined {
    const existing = this.collection(dbName, name, false) ?? txn?.created.get(`${dbName}.${name}`);
    if (existing || !create) return existing;
    if (!txn) return this.collection(dbName, name, true);
    if (!this.databases.has(dbName)) this.checkNewDatabaseName(dbName);
    validateCollectionName(dbName, name);
    const coll = new Collection(dbName, name);
    txn.created.set(coll.ns, coll);
    return coll;
  }

  /** Whether a collection exists outside any transaction. */
  isCommitted(coll: Collection): boolean {
    return this.databases.get(coll.db)?.collections.get(coll.name) === coll;
  }

  private forgetDatabase(name: string): void {
    this.databases.delete(name);
    this.namesByLowerCase.delete(name.toLowerCase());
  }

  collection(dbName: string, name: string, create: boolean, announce = true): Collection | undefined {
    const db = this.database(dbName, create);
    let coll = db?.collections.get(name);
    if (!coll && create && db) {
      validateCollectionName(dbName, name);
      coll = new Collection(dbName, name);
      coll.createdAt = this.clock.now();
      db.collections.set(name, coll);
      if (announce) this.announceCreate(coll);
    }
    return coll;
  }

  /** The expanded `create` change event of a new collection. */
  private announceCreate(coll: Collection): void {
    this.changes.record({
      operationType: 'create',
      db: coll.db,
      coll: coll.name,
      collectionUUID: coll.uuid,
      operationDescription: { idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } },
    });
  }

  dropCollection(dbName: string, name: string): boolean {
    const db = this.databases.get(dbName);
    const coll = db?.collections.get(name);
    if (!db || !coll) return false;
    db.collections.delete(name);
    if (db.collections.size === 0) this.forgetDatabase(dbName);
    this.changes.record({ operationType: 'drop', db: dbName, coll: name, collectionUUID: coll.uuid });
    return true;
  }

  dropDatabase(dbName: string): boolean {
    const db = this.databases.get(dbName);
    if (!db) return false;
    for (const name of [...db.collections.keys()]) this.dropCollection(dbName, name);
    this.forgetDatabase(dbName);
    this.changes.record({ operationType: 'dropDatabase', db: dbName });
    return true;
  }

  renameCollection(from: Collection, toDb: string, toName: string, dropTarget: boolean): void {
    const target = this.collection(toDb, toName, false);
    if (target) {
      if (!dropTarget) throw new CommandError(ErrorCodes.NamespaceExists, 'target namespace exists');
      this.dropCollection(toDb, toName);
    }
    const fromDb = this.databases.get(from.db);
    fromDb?.collections.delete(from.name);
    if (fromDb && fromDb.collections.size === 0) this.forgetDatabase(from.db);
    const moved = this.collection(toDb, toName, true, false) as Collection;
    for (const [k, d] of from.docs) moved.put(k, d, ++this.version);
    for (const ix of from.indexes) if (ix.name !== '_id_') moved.addIndex(ix);
    moved.options = from.options;
    moved.collateIdIndex();
    this.changes.record({
      operationType: 'rename',
      db: from.db,
      coll: from.name,
      to: { db: toDb, coll: toName },
      collectionUUID: from.uuid,
    });
  }

  beginTransaction(txnNumber: number): Transaction {
    const txn = new Transaction(txnNumber, this.version, this.clock.now());
    this.openTransactions.set(txn.id, txn);
    return txn;
  }

  view(coll: Collection, txn: Transaction | undefined, context: ChangeContext): CollectionView {
    return txn ? this.transactionView(coll, txn) : this.directView(coll, context);
  }

  /** A read-only view of a collection as it was at cluster time `at` (a snapshot read outside a transaction). */
  snapshotView(coll: Collection, at: Timestamp): CollectionView {
    const docs = coll.createdAt && isLater(coll.createdAt, at) ? new Map<string, Document>() : documentsAt(coll, at);
    const refuse = () => {
      throw new CommandError(ErrorCodes.InvalidOptions, 'writes are not allowed with readConcern level snapshot outside a transaction');
    };
    return {
      coll,
      get: (key) => docs.get(key),
      entries: () => docs.entries(),
      values: () => docs.values(),
      insert: refuse,
      update: refuse,
      remove: refuse,
      checkWritable: refuse,
    };
  }

  /**
   * Waits until the transaction that blocked a write ends: it commits, aborts, or outlives the transaction lifetime
   * limit (then it is aborted, as mongod's periodic job does). Past `deadline` (from maxTimeMS) the write fails.
   */
  async waitForRelease(blocked: WriteBlocked, deadline: number | undefined): Promise<void> {
    const txn = this.openTransactions.get(blocked.transactionId);
    if (!txn) return;
    const expiresAt = txn.startedAt + TRANSACTION_LIFETIME_MS;
    const waitUntil = Math.min(expiresAt, deadline ?? expiresAt);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      txn.ended.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, waitUntil - Date.now()));
        timer.unref(); // a stopped server's waiting write must not keep the process alive
      }),
    ]);
    clearTimeout(timer);
    if (ended) return;
    if (deadline !== undefined && deadline < expiresAt) {
      throw new CommandError(ErrorCodes.MaxTimeMSExpired, 'operation exceeded time limit');
    }
    this.abortTransaction(txn);
  }

  /** The open transaction holding a document, if any (a write outside transactions waits for it). */
  private holderOf(coll: Collection, key: string): Transaction | undefined {
    const holder = coll.locks.get(key);
    return holder === undefined ? undefined : this.openTransactions.get(holder);
  }

  private directView(coll: Collection, context: ChangeContext): CollectionView {
    const write = (key: string, doc: Document | null): Timestamp => {
      const holder = this.holderOf(coll, key);
      if (holder) throw new WriteBlocked(holder.id);
      const at = this.clock.tick();
      coll.put(key, doc, ++this.version, at);
      return at;
    };
    return {
      coll,
      get: (key) => coll.docs.get(key),
      entries: () => coll.docs.entries(),
      values: () => coll.docs.values(),
      insert: (key, doc) => {
        if (coll.docs.has(key)) throw duplicateIdError(coll, doc._id);
        coll.checkUnique(doc, key);
        const at = write(key, doc);
        this.changes.record(
          {
            operationType: 'insert',
            db: coll.db,
            coll: coll.name,
            documentKey: { _id: doc._id },
            fullDocument: doc,
            collectionUUID: coll.uuid,
            ...context,
          },
          at,
        );
      },
      update: (key, before, after, replace) => {
        coll.checkUnique(after, key);
        const at = write(key, after);
        this.changes.record(updateChange(coll, before, after, replace, context), at);
      },
      checkWritable: (keys) => {
        for (const key of keys) {
          const holder = this.holderOf(coll, key);
          if (holder) throw new WriteBlocked(holder.id);
        }
      },
      remove: (key, before) => {
        const at = write(key, null);
        this.changes.record(
          {
            operationType: 'delete',
            db: coll.db,
            coll: coll.name,
            documentKey: { _id: before._id },
            collectionUUID: coll.uuid,
            ...images(coll, before, undefined),
            ...context,
          },
          at,
        );
      },
    };
  }

  private transactionView(coll: Collection, txn: Transaction): CollectionView {
    const tc = txn.view(coll, documentsAt);
    const get = (key: string): Document | undefined => (tc.writes.has(key) ? (tc.writes.get(key) ?? undefined) : tc.snapshot.get(key));
    function* entries(): Iterable<[string, Document]> {
      for (const [k, d] of tc.snapshot) if (!tc.writes.has(k)) yield [k, d];
      for (const [k, d] of tc.writes) if (d) yield [k, d];
    }
    const write = (key: string, doc: Document | null) => {
      const holder = coll.locks.get(key);
      if ((holder !== undefined && holder !== txn.id) || (coll.versions.get(key) ?? 0) > txn.snapshotVersion) {
        throw writeConflict();
      }
      coll.locks.set(key, txn.id);
      tc.writes.set(key, doc);
    };
    const context = {};
    return {
      coll,
      get,
      entries,
      values: function* () {
        for (const [, d] of entries()) yield d;
      },
      // A transaction never waits: its conflicting write fails with WriteConflict instead.
      checkWritable: () => undefined,
      insert: (key, doc) => {
        if (get(key)) throw duplicateIdError(coll, doc._id);
        coll.checkUniqueAmong(doc, key, entries());
        write(key, doc);
        txn.pending.push({
          operationType: 'insert',
          db: coll.db,
          coll: coll.name,
          documentKey: { _id: doc._id },
          fullDocument: doc,
          collectionUUID: coll.uuid,
          txnNumber: txn.txnNumber,
        });
      },
      update: (key, before, after, replace) => {
        coll.checkUniqueAmong(after, key, entries());
        write(key, after);
        txn.pending.push({ ...updateChange(coll, before, after, replace, context), txnNumber: txn.txnNumber });
      },
      remove: (key, before) => {
        write(key, null);
        txn.pending.push({
          operationType: 'delete',
          db: coll.db,
          coll: coll.name,
          documentKey: { _id: before._id },
          collectionUUID: coll.uuid,
          ...images(coll, before, undefined),
          txnNumber: txn.txnNumber,
        });
      },
    };
  }

  commitTransaction(txn: Transaction): void {
    if (txn.state !== 'in_progress') return;
    // A collection dropped (or replaced) while the transaction wrote to it: the writes go to the one there now.
    const current = (coll: Collection) => this.database(coll.db, false)?.collections.get(coll.name);
    // Another transaction or write created the same collection meanwhile: mongod fails the second creation with a
    // WriteConflict (TransientTransactionError, so the driver retries), it never merges both transactions' writes.
    for (const coll of txn.created.values()) {
      const now = current(coll);
      if (now !== undefined && now !== coll) {
        this.abortTransaction(txn);
        throw writeConflict();
      }
    }
    // Collections the transaction created become visible now, with their options and indexes.
    for (const coll of txn.created.values()) {
      if (current(coll)) continue;
      coll.createdAt = this.clock.now();
      (this.database(coll.db, true) as Database).collections.set(coll.name, coll);
      this.announceCreate(coll);
    }
    // Unique indexes are checked against the committed data before anything is applied, so a commit is all or nothing.
    for (const [coll, tc] of txn.collections) {
      const target = current(coll);
      if (target) for (const [key, doc] of tc.writes) if (doc) target.checkUnique(doc, key, (other) => tc.writes.has(other));
    }
    // Every write of a transaction becomes visible at one cluster time, its commit time.
    const at = this.clock.tick();
    for (const [coll, tc] of txn.collections) {
      if (tc.writes.size === 0) continue;
      const target = current(coll) ?? (this.collection(coll.db, coll.name, true) as Collection);
      for (const [key, doc] of tc.writes) {
        target.put(key, doc, ++this.version, at);
        coll.locks.delete(key);
      }
    }
    for (const change of txn.pending) this.changes.record(change);
    txn.end('committed');
    this.openTransactions.delete(txn.id);
  }

  abortTransaction(txn: Transaction | undefined): void {
    if (txn?.state !== 'in_progress') return;
    for (const [coll, tc] of txn.collections) {
      for (const key of tc.writes.keys()) if (coll.locks.get(key) === txn.id) coll.locks.delete(key);
    }
    txn.end('aborted');
    this.openTransactions.delete(txn.id);
  }
}

function updateChange(coll: Collection, before: Document, after: Document, replace: boolean, context: ChangeContext): PendingChange {
  const base = {
    db: coll.db,
    coll: coll.name,
    documentKey: { _id: before._id },
    collectionUUID: coll.uuid,
    ...images(coll, before, after),
    ...context,
  };
  if (replace) return { ...base, operationType: 'replace', fullDocument: after };
  return { ...base, operationType: 'update', versions: { before, after } };
}

/** Pre- and post-images are kept for a write when the collection has `changeStreamPreAndPostImages` enabled. */
function images(coll: Collection, before: Document | undefined, after: Document | undefined): Partial<PendingChange> {
  if ((coll.options.changeStreamPreAndPostImages as { enabled?: boolean } | undefined)?.enabled !== true) return {};
  return { ...(before ? { preImage: before } : {}), ...(after ? { postImage: after } : {}) };
}

/** The documents of a collection as of cluster time `at`; SnapshotTooOld when that history is forgotten. */
function documentsAt(coll: Collection, at: Timestamp): Map<string, Document> {
  if (!coll.history.covers(at)) {
    throw new CommandError(
      ErrorCodes.SnapshotTooOld,
      `Read timestamp ${at.toString()} is older than the oldest available timestamp for ${coll.ns}.`,
    );
  }
  return coll.history.documentsAt(coll.docs, at);
}
