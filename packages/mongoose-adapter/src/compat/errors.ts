import { ActionFailedError, PolyMongoError, redactText } from '@polymongo/core';

/**
 * Gives a PolyMongoError the message polymongo@1.3.0 threw in the same case, so both hold: 1.x code matching the
 * message keeps working, and the error keeps its class and stable `code` (and, for ConfigError, its `issues`).
 */
export function withMessage<E extends PolyMongoError>(error: E, message: string): E {
  const previous = error.message;
  error.message = message;
  if (error.stack) error.stack = error.stack.replace(previous, message);
  return error;
}

/** 1.3's `Failed to <what>: <reason>` for an error caught under `what`; PolyMongo's own refusals (codes) pass through. */
export function failed(what: string, error: unknown): PolyMongoError {
  if (error instanceof PolyMongoError && !(error instanceof ActionFailedError)) return error;
  const reason = error instanceof Error ? redactText(error.message) : 'Unknown error';
  return new ActionFailedError(`Failed to ${what}: ${reason}`, { cause: error });
}

/** Runs `run`, rethrowing a failure as 1.3 did (`Failed to <what>: <reason>`). */
export async function action<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw failed(what, error);
  }
}

/** The synchronous form of `action`. */
export function actionSync<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw failed(what, error);
  }
}
