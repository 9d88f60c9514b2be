import type { Document } from 'bson';

/** MongoDB server error codes the embedded server returns, with their codeNames. */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  CommandNotFound: 59,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  WriteConflict: 112,
  NoSuchTransaction: 251,
  TransactionTooOld: 225,
  ChangeStreamHistoryLost: 286,
  FailedToParse: 9,
  DuplicateKey: 11000,
} as const;

const CODE_NAMES = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? 'UnknownError';
}

/** An error that becomes a `{ ok: 0, code, codeName, errmsg, errorLabels }` reply. */
export class CommandError extends Error {
  readonly code: number;
  readonly errorLabels: string[];
  readonly extra: Document;

  constructor(code: number, message: string, errorLabels: string[] = [], extra: Document = {}) {
    super(message);
    this.code = code;
    this.errorLabels = errorLabels;
    this.extra = extra;
  }

  toReply(): Document {
    const reply: Document = { ok: 0, errmsg: this.message, code: this.code, codeName: codeName(this.code), ...this.extra };
    if (this.errorLabels.length > 0) reply.errorLabels = this.errorLabels;
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
    ['TransientTransactionError'],
  );
}
