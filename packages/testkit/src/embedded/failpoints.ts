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

interface FailCommand {
  commands: Set<string>;
  appName?: string;
  remaining: number;
  skip: number;
  action: FailCommandAction;
}

/** The `failCommand` fail point, configured with `configureFailPoint` as on a mongod started with test commands. */
export class FailPoints {
  private failCommand: FailCommand | undefined;

  configure(body: Document): void {
    if (body.configureFailPoint !== 'failCommand') {
      throw new CommandError(
        ErrorCodes.BadValue,
        `Cannot find fail point named ${String(body.configureFailPoint)}; the embedded server supports failCommand`,
      );
    }
    const mode = body.mode;
    if (mode === 'off') {
      this.failCommand = undefined;
      return;
    }
    const data = (body.data ?? {}) as Document;
    if (!Array.isArray(data.failCommands)) throw new CommandError(ErrorCodes.BadValue, 'failCommand requires data.failCommands');
    let remaining = Number.POSITIVE_INFINITY;
    let skip = 0;
    if (mode !== 'alwaysOn') {
      if (typeof mode?.times === 'number') remaining = mode.times;
      else if (typeof mode?.skip === 'number') skip = mode.skip;
      else throw new CommandError(ErrorCodes.BadValue, "mode must be 'alwaysOn', 'off', { times } or { skip }");
    }
    this.failCommand = {
      commands: new Set(data.failCommands as string[]),
      ...(typeof data.appName === 'string' ? { appName: data.appName } : {}),
      remaining,
      skip,
      action: {
        ...(typeof data.errorCode === 'number' ? { errorCode: data.errorCode } : {}),
        ...(Array.isArray(data.errorLabels) ? { errorLabels: data.errorLabels } : {}),
        ...(data.closeConnection === true ? { closeConnection: true } : {}),
        ...(data.blockConnection === true ? { blockTimeMS: Number(data.blockTimeMS ?? 0) } : {}),
        ...(data.writeConcernError ? { writeConcernError: data.writeConcernError } : {}),
      },
    };
  }

  /** The action for this command, consuming one activation; undefined when the fail point does not match. */
  match(command: string, appName: string | undefined): FailCommandAction | undefined {
    const fp = this.failCommand;
    if (!fp?.commands.has(command)) return undefined;
    if (fp.appName !== undefined && fp.appName !== appName) return undefined;
    if (fp.skip > 0) {
      fp.skip -= 1;
      return undefined;
    }
    fp.remaining -= 1;
    if (fp.remaining <= 0) this.failCommand = undefined;
    return fp.action;
  }
}
