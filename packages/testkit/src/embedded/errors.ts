import type { Document } from 'bson';

/** MongoDB server error codes the embedded server returns (src/mongo/base/error_codes.yml names). */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  HostUnreachable: 6,
  HostNotFound: 7,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  LockTimeout: 24,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NoMatchingDocument: 47,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  WriteConcernTimeout: 64,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  UnknownReplWriteConcern: 79,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  UnsatisfiableWriteConcern: 100,
  WriteConflict: 112,
  CommandNotSupported: 115,
  DocumentValidationFailure: 121,
  FailedToSatisfyReadPreference: 133,
  ReadConcernMajorityNotAvailableYet: 134,
  StaleEpoch: 150,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  PrimarySteppedDown: 189,
  TransactionTooOld: 225,
  RetryChangeStream: 234,
  SnapshotTooOld: 239,
  SnapshotUnavailable: 246,
  StaleChunkHistory: 250,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  ExceededTimeLimit: 262,
  OperationNotSupportedInTransaction: 263,
  FailPointSetFailed: 266,
  PreparedTransactionInProgress: 267,
  MigrationConflict: 272,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  SocketException: 9001,
  NotWritablePrimary: 10107,
  DuplicateKey: 11000,
  InterruptedAtShutdown: 11600,
  Interrupted: 11601,
  InterruptedDueToReplStateChange: 11602,
  MergeStageNoMatchingDocument: 13113,
  DatabaseDifferCase: 13297,
  StaleConfig: 13388,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  IDLUnknownField: 40415,
} as const;

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

/** The codeName mongod reports: the registered name, or `Location<code>` for an assertion without one. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? `Location${code}`;
}

/** An assertion code without a registered name (mongod reports it as `Location40324`). */
export const UNRECOGNIZED_PIPELINE_STAGE = 40324;
/** `$merge` on fields without a unique index (`Location51183`). */
export const MERGE_JOIN_FIELDS_NOT_UNIQUE = 51183;

/** Codes in mongod's RetriableError category. */
const RETRIABLE_CODES: ReadonlySet<number> = new Set([
  ErrorCodes.HostUnreachable,
  ErrorCodes.HostNotFound,
  ErrorCodes.NetworkTimeout,
  ErrorCodes.ShutdownInProgress,
  ErrorCodes.ReadConcernMajorityNotAvailableYet,
  ErrorCodes.PrimarySteppedDown,
  ErrorCodes.ExceededTimeLimit,
  ErrorCodes.SocketException,
  ErrorCodes.NotWritablePrimary,
  ErrorCodes.InterruptedAtShutdown,
  ErrorCodes.InterruptedDueToReplStateChange,
  ErrorCodes.NotPrimaryNoSecondaryOk,
  ErrorCodes.NotPrimaryOrSecondary,
]);

export function isRetriableError(code: number): boolean {
  return RETRIABLE_CODES.has(code);
}

/** Codes in mongod's SnapshotError category. */
export function isSnapshotError(code: number): boolean {
  return (
    code === ErrorCodes.SnapshotTooOld ||
    code === ErrorCodes.SnapshotUnavailable ||
    code === ErrorCodes.StaleChunkHistory ||
    code === ErrorCodes.MigrationConflict
  );
}

/** An error that becomes a `{ ok: 0, code, codeName, errmsg, errorLabels }` reply. */
export class CommandError extends Error {
  readonly code: number;
  /** Labels fixed by the error itself; the server adds mongod's computed labels to them. */
  readonly errorLabels: string[];
  readonly extra: Document;

  constructor(code: number, message: string, errorLabels: string[] = [], extra: Document = {}) {
    super(message);
    this.code = code;
    this.errorLabels = errorLabels;
    this.extra = extra;
  }

  toReply(labels: string[] = this.errorLabels): Document {
    const reply: Document = { ok: 0, errmsg: this.message, code: this.code, codeName: codeName(this.code), ...this.extra };
    if (labels.length > 0) reply.errorLabels = labels;
    return reply;
  }
}

/** A per-document write error (for example E11000), reported in `writeErrors`. */
export class WriteError extends Error {
  readonly code: number;
  readonly extra: Document;

  constructor(code: number, message: string, extra: Document = {}) {
    super(message);
    this.code = code;
    this.extra = extra;
  }
}

export function writeConflict(): CommandError {
  return new CommandError(
    ErrorCodes.WriteConflict,
    'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
  );
}

/**
 * A write outside any transaction reached a document an open transaction has written. mongod makes such a write wait
 * until the transaction commits or aborts and then retries it; it is thrown before the statement wrote anything.
 */
export class WriteBlocked extends Error {
  constructor(readonly transactionId: number) {
    super('write blocked by an open transaction');
  }
}

/** Thrown to end the client's connection without a reply, as a fail point that closes the connection does. */
export class CloseConnection extends Error {}

/** The `writeConcernError` mongod returns when a write concern cannot be satisfied by a single-node replica set. */
export function writeConcernErrorFor(writeConcern: unknown): Document | undefined {
  const w = (writeConcern as { w?: unknown } | undefined)?.w;
  if (typeof w === 'number' && w > 1) {
    return { code: ErrorCodes.UnsatisfiableWriteConcern, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes' };
  }
  if (typeof w === 'string' && w !== 'majority') {
    return {
      code: ErrorCodes.UnknownReplWriteConcern,
      codeName: 'UnknownReplWriteConcern',
      errmsg: `No write concern mode named '${w}' found in replica set configuration`,
    };
  }
  return undefined;
}
