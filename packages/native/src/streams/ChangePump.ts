import { ConfigError } from '@polymongo/core';
import type { ChangeStream, ChangeStreamDocument, Document, ResumeToken } from 'mongodb';

export type Change = ChangeStreamDocument<Document>;

/** A handler and how many of its calls may be unresolved at once: the stream's flow control. */
export interface FlowOptions {
  /**
   * At most this many handler calls are unresolved at once (per tenant for `watchAll`); while they are, the stream
   * issues no getMore. Default 1. Requires `handler`.
   */
  maxInFlight?: number;
}

/** Validates `maxInFlight` (a positive integer, default 1) before any stream opens. */
export function resolveMaxInFlight(options: { handler?: unknown; maxInFlight?: number }): number {
  const { handler, maxInFlight } = options;
  if (handler !== undefined && typeof handler !== 'function') {
    throw new ConfigError([{ path: 'handler', message: 'must be a function (change) => Promise<void> | void' }]);
  }
  if (maxInFlight === undefined) return 1;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new ConfigError([{ path: 'maxInFlight', message: 'must be a positive integer (how many handler calls may run at once)' }]);
  }
  if (handler === undefined) {
    throw new ConfigError([{ path: 'maxInFlight', message: 'needs a handler: pass { handler: async (change) => {...}, maxInFlight }' }]);
  }
  return maxInFlight;
}

interface LedgerEntry {
  token: ResumeToken;
  done: boolean;
}

/**
 * Resume tokens in the order their events arrived. A token may be committed only when its event and every earlier
 * one are handled, so a crash resumes at the oldest unhandled event: at-least-once, whatever order handlers finish in.
 */
export class CommitLedger {
  private readonly entries: LedgerEntry[] = [];

  add(token: ResumeToken): LedgerEntry {
    const entry = { token, done: false };
    this.entries.push(entry);
    return entry;
  }

  /** Marks an entry handled; returns the newest token now safe to commit, if it moved. */
  settle(entry: LedgerEntry): ResumeToken | undefined {
    entry.done = true;
    let committable: ResumeToken | undefined;
    while (this.entries[0]?.done) committable = (this.entries.shift() as LedgerEntry).token;
    return committable;
  }
}

/** Resolves waiters when capacity frees up; one wake-up for all, as `Promise`-based condition variables do. */
export class Signal {
  private waiters: Array<() => void> = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

export interface PumpHooks {
  /** Called with each change after its handler resolved, in event order, when every earlier change is handled too. */
  commit?(token: ResumeToken): void;
  /** A handler threw, or the stream failed for good: the pump has stopped and the stream is being closed. */
  fail(error: Error): void;
}

/**
 * Feeds a change stream to an async handler, pulling (iterator mode) only while fewer than `maxInFlight` calls are
 * unresolved: a lagging handler stops the stream's getMore, and at most one server batch is buffered. A handler
 * that throws stops the stream, so the failed change is not committed and comes again on resume.
 */
export function pumpStream(stream: ChangeStream, handler: (change: Change) => unknown, maxInFlight: number, hooks: PumpHooks): void {
  const ledger = new CommitLedger();
  const freed = new Signal();
  let inFlight = 0;
  let failed = false;
  const stop = (error: Error) => {
    if (failed) return;
    failed = true;
    freed.notify();
    hooks.fail(error);
    void Promise.resolve(stream.close()).catch(() => undefined);
  };
  const run = async () => {
    while (!failed && !stream.closed) {
      while (inFlight >= maxInFlight && !failed) await freed.wait();
      if (failed) return;
      let change: Change;
      try {
        change = await stream.next();
      } catch (error) {
        if (!closedOnPurpose(stream, error)) stop(asError(error));
        return;
      }
      if (failed) return;
      const entry = ledger.add(change._id);
      inFlight += 1;
      Promise.resolve()
        .then(() => handler(change))
        .then(
          () => {
            inFlight -= 1;
            const token = ledger.settle(entry);
            if (token !== undefined && !failed) hooks.commit?.(token);
            freed.notify();
          },
          (error) => stop(asError(error)),
        );
    }
  };
  void run();
}

/**
 * Whether `next()` failed only because someone closed the stream (the driver's "ChangeStream is closed" API error),
 * rather than because the driver gave up on it (a fatal server error, after which it closes the stream itself).
 */
export function closedOnPurpose(stream: ChangeStream, error: unknown): boolean {
  return stream.closed && (error as { name?: string } | null)?.name === 'MongoAPIError';
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
