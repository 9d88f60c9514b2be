import type { Document } from 'bson';
import { ErrorCodes, isRetriableError, isSnapshotError } from './errors.js';

/**
 * The error labels mongod attaches to a reply (its ErrorLabelBuilder): `TransientTransactionError` for errors inside a
 * transaction that leave nothing behind, `RetryableWriteError` for retriable codes (or write concern error codes) of a
 * retryable write or of commitTransaction/abortTransaction.
 */
export function errorLabelsFor(
  command: string,
  body: Document,
  code: number | undefined,
  writeConcernCode?: number,
  changeStream = false,
): string[] {
  const labels: string[] = [];
  const hasTxnNumber = body.txnNumber !== undefined;
  const inTransaction = hasTxnNumber && body.autocommit !== undefined;
  const commitOrAbort = command === 'commitTransaction' || command === 'abortTransaction';
  if (code !== undefined && inTransaction && isTransientTransactionError(code, writeConcernCode !== undefined, commitOrAbort)) {
    labels.push('TransientTransactionError');
  }
  if ((hasTxnNumber && !inTransaction) || (inTransaction && commitOrAbort)) {
    if ((code !== undefined && isRetriableError(code)) || (writeConcernCode !== undefined && isRetriableError(writeConcernCode))) {
      labels.push('RetryableWriteError');
    }
  }
  if (changeStream && code !== undefined && writeConcernCode === undefined && isResumableChangeStreamCode(code)) {
    labels.push('ResumableChangeStreamError');
  }
  return labels;
}

/** Errors on a change stream's aggregate or getMore after which a driver may resume the stream. */
function isResumableChangeStreamCode(code: number): boolean {
  return (
    isRetriableError(code) ||
    code === ErrorCodes.FailedToSatisfyReadPreference ||
    code === ErrorCodes.StaleEpoch ||
    code === ErrorCodes.StaleConfig ||
    code === ErrorCodes.RetryChangeStream
  );
}

function isTransientTransactionError(code: number, hasWriteConcernError: boolean, commitOrAbort: boolean): boolean {
  if (
    code === ErrorCodes.WriteConflict ||
    code === ErrorCodes.LockTimeout ||
    code === ErrorCodes.PreparedTransactionInProgress ||
    isSnapshotError(code)
  ) {
    return true;
  }
  // A commit that failed with NoSuchTransaction is safe to retry as a whole only if nothing can be rolled back.
  if (commitOrAbort) return code === ErrorCodes.NoSuchTransaction && !hasWriteConcernError;
  return isRetriableError(code) || code === ErrorCodes.NoSuchTransaction;
}
