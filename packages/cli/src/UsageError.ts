import { PolyMongoError } from '@polymongo/core';

/** A wrong command line or configuration (exit 2): the message says what to change. */
export class UsageError extends PolyMongoError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}
