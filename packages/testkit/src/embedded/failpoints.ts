import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './errors.js';

/** What `failCommand` does to a matching command. */
export interface FailCommandAction {
  errorCode?: number;
  errorLabels?: string[];
  closeConnection?: boolean;
  blockTimeMS?: number;
  writeConcernError?: Document;
}

/** The test-only fail points the embedded server implements, as a mongod started with enableTestCommands has them. */
export const FAIL_POINT_NAMES = ['failCommand', 'onPrimaryTransactionalWrite', 'failGetMoreAfterCursorCheckout'] as const;
export type FailPointName = (typeof FAIL_POINT_NAMES)[number];

interface ActiveFailPoint {
  remaining: number;
  skip: number;
  data: Document;
}

/** Fail points configured with `configureFailPoint`: mode (`alwaysOn`, `off`, `{ times }`, `{ skip }`) and data. */
export class FailPoints {
  private readonly active = new Map<FailPointName, ActiveFailPoint>();

  /** Sets a fail point; returns how often it fired before, as mongod's `count`. */
  configure(body: Document): number {
    const name = body.configureFailPoint;
    if (!(FAIL_POINT_NAMES as readonly unknown[]).includes(name)) {
      throw new CommandError(ErrorCodes.FailPointSetFailed, `${String(name)} not found`);
    }
    const point = name as FailPointName;
    const mode = body.mode;
    if (mode === 'off') {
      this.active.delete(point);
      return 0;
    }
    const data = (body.data ?? {}) as Document;
    if (point === 'failCommand' && !Array.isArray(data.failCommands)) {
      throw new CommandError(ErrorCodes.BadValue, 'failCommand requires data.failCommands');
    }
    let remaining = Number.POSITIVE_INFINITY;
    let skip = 0;
    if (mode !== 'alwaysOn') {
      if (typeof mode?.times === 'number') remaining = mode.times;
      else if (typeof mode?.skip === 'number') skip = mode.skip;
      else throw new CommandError(ErrorCodes.BadValue, "mode must be 'alwaysOn', 'off', { times } or { skip }");
    }
    if (remaining <= 0) this.active.delete(point);
    else this.active.set(point, { remaining, skip, data });
    return 0;
  }

  /** The data of a fail point that fires now (consuming one activation), or undefined. */
  private fire(point: FailPointName, applies: (data: Document) => boolean): Document | undefined {
    const fp = this.active.get(point);
    if (!fp || !applies(fp.data)) return undefined;
    if (fp.skip > 0) {
      fp.skip -= 1;
      return undefined;
    }
    fp.remaining -= 1;
    if (fp.remaining <= 0) this.active.delete(point);
    return fp.data;
  }

  /** `failCommand`: what to do to this command, or undefined when the fail point does not match. */
  failCommand(command: string, appName: string | undefined, namespace?: string): FailCommandAction | undefined {
    const data = this.fire(
      'failCommand',
      (d) =>
        (d.failCommands as string[]).includes(command) &&
        (typeof d.appName !== 'string' || d.appName === appName) &&
        (typeof d.namespace !== 'string' || d.namespace === namespace),
    );
    if (!data) return undefined;
    return {
      ...(typeof data.errorCode === 'number' ? { errorCode: data.errorCode } : {}),
      ...(Array.isArray(data.errorLabels) ? { errorLabels: data.errorLabels } : {}),
      ...(data.closeConnection === true ? { closeConnection: true } : {}),
      ...(data.blockConnection === true ? { blockTimeMS: Number(data.blockTimeMS ?? 0) } : {}),
      ...(data.writeConcernError ? { writeConcernError: data.writeConcernError } : {}),
    };
  }

  /**
   * `onPrimaryTransactionalWrite`, after a retryable write is applied: by default the connection closes before the
   * reply (the write stays); with `failBeforeCommitExceptionCode` the write is rolled back and fails with that code.
   */
  onPrimaryTransactionalWrite(): { closeConnection: boolean; failBeforeCommitExceptionCode?: number } | undefined {
    const data = this.fire('onPrimaryTransactionalWrite', () => true);
    if (!data) return undefined;
    return {
      closeConnection: data.closeConnection !== false,
      ...(typeof data.failBeforeCommitExceptionCode === 'number'
        ? { failBeforeCommitExceptionCode: data.failBeforeCommitExceptionCode }
        : {}),
    };
  }

  /** `failGetMoreAfterCursorCheckout`: the code a getMore fails with (InternalError unless `errorCode`), or undefined. */
  failGetMore(): number | undefined {
    const data = this.fire('failGetMoreAfterCursorCheckout', () => true);
    if (!data) return undefined;
    return typeof data.errorCode === 'number' ? data.errorCode : ErrorCodes.InternalError;
  }
}
