import { createHash } from 'node:crypto';
import { Binary, type Document } from 'bson';
import { CloseConnection, CommandError, ErrorCodes } from './errors.js';
import type { FailPoints } from './failpoints.js';
import type { Catalog } from './storage/catalog.js';
import type { Transaction } from './storage/transaction.js';

/** Commands mongod runs inside a multi-document transaction; any other fails with OperationNotSupportedInTransaction. */
const TRANSACTION_COMMANDS = new Set([
  'abortTransaction',
  'aggregate',
  'commitTransaction',
  'create',
  'createIndexes',
  'delete',
  'distinct',
  'find',
  'findAndModify',
  'findandmodify',
  'getMore',
  'insert',
  'killCursors',
  'update',
]);

/** Write commands a driver may retry with the same `txnNumber`. */
export const RETRYABLE_WRITES = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify']);

interface Session {
  id: Binary;
  /** Milliseconds since the epoch of the session's last command. */
  lastUse: number;
  txnNumber: number;
  txn: Transaction | undefined;
  retried: Map<number, Document>;
}

/** Runs a command, given the transaction it belongs to (undefined outside one). */
export type RunCommand = (txn: Transaction | undefined) => Promise<Document>;

/** Logical sessions by `lsid`: their transactions and the replies of retryable writes already applied. */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly catalog: Catalog,
    private readonly failPoints: FailPoints,
    private readonly replicaSet: boolean,
  ) {}

  private session(lsid: unknown): Session | undefined {
    const id = (lsid as { id?: unknown } | undefined)?.id;
    if (!(id instanceof Binary)) return undefined;
    const key = Buffer.from(id.buffer).toString('hex');
    let session = this.sessions.get(key);
    if (!session) {
      session = { id, lastUse: Date.now(), txnNumber: -1, txn: undefined, retried: new Map() };
      this.sessions.set(key, session);
    }
    session.lastUse = Date.now();
    return session;
  }

  /** The sessions this server has seen and not ended, as `$listLocalSessions` lists them (no users: the empty user's uid). */
  localSessions(): Document[] {
    const uid = new Binary(createHash('sha256').update('').digest());
    return [...this.sessions.values()].map((s) => ({ _id: { id: s.id, uid }, lastUse: new Date(s.lastUse) }));
  }

  endSessions(lsids: Document[] | undefined): Document {
    for (const lsid of lsids ?? []) {
      const id = lsid?.id;
      if (!(id instanceof Binary)) continue;
      const key = Buffer.from(id.buffer).toString('hex');
      this.catalog.abortTransaction(this.sessions.get(key)?.txn);
      this.sessions.delete(key);
    }
    return { ok: 1 };
  }

  /** `killSessions` / `killAllSessions` (undefined): the sessions' open transactions are aborted, as mongod does. */
  killSessions(lsids: Document[] | undefined): Document {
    const keys = lsids?.map((lsid) => (lsid?.id instanceof Binary ? Buffer.from(lsid.id.buffer).toString('hex') : undefined));
    for (const [key, session] of this.sessions) {
      if (!keys || keys.includes(key)) this.catalog.abortTransaction(session.txn);
    }
    return { ok: 1 };
  }

  /** Applies session semantics (transactions, retryable writes) around a command. */
  async run(name: string, body: Document, run: RunCommand): Promise<Document> {
    const session = this.session(body.lsid);
    const hasTxnNumber = body.txnNumber !== undefined;
    if (hasTxnNumber && !this.replicaSet) {
      throw new CommandError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    if (!session || !hasTxnNumber) return run(undefined);
    const txnNumber = Number(body.txnNumber);
    if (body.autocommit === false) return this.runInTransaction(session, name, body, txnNumber, run);

    if (!RETRYABLE_WRITES.has(name)) return run(undefined);
    const previous = session.retried.get(txnNumber);
    if (previous) return { ...previous };
    if (txnNumber < session.txnNumber)
      throw new CommandError(
        ErrorCodes.TransactionTooOld,
        `Retryable write with txnNumber ${txnNumber} is prohibited on session because a newer retryable write with txnNumber ${session.txnNumber} has already started.`,
      );
    this.catalog.abortTransaction(session.txn);
    session.txn = undefined;
    session.txnNumber = txnNumber;
    const failPoint = this.failPoints.onPrimaryTransactionalWrite();
    if (failPoint?.failBeforeCommitExceptionCode !== undefined) {
      // The write runs, then is rolled back: it "must not be reflected".
      const txn = this.catalog.beginTransaction(txnNumber);
      try {
        await run(txn);
      } finally {
        this.catalog.abortTransaction(txn);
      }
      if (failPoint.closeConnection) throw new CloseConnection();
      throw new CommandError(
        failPoint.failBeforeCommitExceptionCode,
        `Failing write for txnNumber ${txnNumber} due to failpoint. The write must not be reflected.`,
      );
    }
    const reply = await run(undefined);
    session.retried.clear();
    session.retried.set(txnNumber, { ...reply });
    if (failPoint?.closeConnection) throw new CloseConnection();
    return reply;
  }

  private async runInTransaction(session: Session, name: string, body: Document, txnNumber: number, run: RunCommand): Promise<Document> {
    if (!TRANSACTION_COMMANDS.has(name)) {
      throw new CommandError(ErrorCodes.OperationNotSupportedInTransaction, `Cannot run '${name}' in a multi-document transaction.`);
    }
    if (body.startTransaction === true) {
      if (txnNumber < session.txnNumber)
        throw new CommandError(
          ErrorCodes.TransactionTooOld,
          `Cannot start transaction ${txnNumber} on session because a newer transaction ${session.txnNumber} has already started.`,
        );
      this.catalog.abortTransaction(session.txn);
      session.txnNumber = txnNumber;
      session.txn = this.catalog.beginTransaction(txnNumber);
    } else if (txnNumber !== session.txnNumber || !session.txn) {
      throw new CommandError(
        ErrorCodes.NoSuchTransaction,
        `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${session.txnNumber}`,
      );
    }
    const txn = session.txn as Transaction;
    if (name === 'commitTransaction') {
      if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
      this.catalog.commitTransaction(txn);
      return { ok: 1 };
    }
    if (name === 'abortTransaction') {
      if (txn.state === 'committed') throw new CommandError(256, 'Transaction has been committed');
      if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
      this.catalog.abortTransaction(txn);
      return { ok: 1 };
    }
    if (txn.state === 'aborted') throw noSuchTransaction(txnNumber);
    if (txn.state === 'committed') throw new CommandError(256, `Transaction ${txnNumber} has been committed.`);
    try {
      const reply = await run(txn);
      if (reply.writeErrors) this.catalog.abortTransaction(txn);
      return reply;
    } catch (err) {
      this.catalog.abortTransaction(txn);
      throw err;
    }
  }
}

function noSuchTransaction(txnNumber: number): CommandError {
  return new CommandError(ErrorCodes.NoSuchTransaction, `Transaction with { txnNumber: ${txnNumber} } has been aborted.`);
}
