import type { LoggerLike } from '../config/schema.js';
import { redactText } from '../config/uri.js';
import { CloseTimeoutError } from '../errors/errors.js';
import { drain } from '../lifecycle/drain.js';

export interface CloseOptions {
  /** How long to let in-flight operations finish before pools are closed anyway. Default: shutdown.timeoutMS or 10 s. */
  timeoutMS?: number;
}

interface ShutdownOptions {
  logger: LoggerLike;
  defaultTimeoutMS: number;
  signals: readonly NodeJS.Signals[];
  /** Operations still running: PolyMongo's own plus what the driver holds or waits for. */
  busy(): number;
  /** Resolves once every pool connect under way has settled (operations queued behind it are then counted). */
  settled(): Promise<void>;
  /** Marks the client closing (new operations get CLIENT_CLOSED). */
  begin(): void;
  /** Closes every pool and clears caches. */
  finish(force: boolean): Promise<void>;
}

/**
 * Graceful and forced shutdown: close hooks (change streams) first, then in-flight work drains for up to
 * `timeoutMS`, then pools close. A close that times out with work still running rejects with CLOSE_TIMEOUT.
 */
export class Shutdown {
  private readonly hooks = new Set<() => Promise<void> | void>();
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];
  private closePromise: Promise<void> | undefined;
  closing = false;

  constructor(private readonly o: ShutdownOptions) {
    for (const signal of o.signals) {
      // Closes gracefully and leaves exiting to the application: PolyMongo never calls process.exit.
      const handler = () => {
        o.logger.info({ signal }, 'signal received; closing');
        this.close().catch((error: unknown) => o.logger.warn({ err: redactText(String(error)) }, 'close on signal'));
      };
      process.once(signal, handler);
      this.signalHandlers.push([signal, handler]);
    }
  }

  /** Runs before pools close; returns a function that removes the hook. */
  onClose(hook: () => Promise<void> | void): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  close(options: { timeoutMS?: number } = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.start();
    const timeoutMS = options.timeoutMS ?? this.o.defaultTimeoutMS;
    this.closePromise = (async () => {
      const deadline = Date.now() + timeoutMS;
      await this.runHooks(deadline);
      // Operations issued on a cold pool wait in server selection until its connect settles; only then do they
      // show up as connections checked out, so wait for connects first (within the same deadline).
      await untilDeadline(this.o.settled(), deadline);
      await new Promise((r) => setImmediate(r));
      const remaining = await drain(() => this.o.busy(), Math.max(0, deadline - Date.now()));
      await this.finish(remaining > 0);
      if (remaining > 0) {
        this.o.logger.warn({ inFlight: remaining, timeoutMS }, 'close timed out; in-flight operations were cut off');
        throw new CloseTimeoutError(timeoutMS, remaining);
      }
    })();
    return this.closePromise;
  }

  async forceClose(): Promise<void> {
    this.start();
    await this.runHooks();
    await this.finish(true);
  }

  private start(): void {
    if (this.closing) return;
    this.closing = true;
    this.o.begin();
  }

  /** Runs the close hooks in order; with a deadline, a hook still running at it is left behind (close goes on). */
  private async runHooks(deadline?: number): Promise<void> {
    const hooks = [...this.hooks];
    this.hooks.clear();
    for (const hook of hooks) {
      try {
        const run = Promise.resolve(hook());
        await (deadline === undefined ? run : untilDeadline(run, deadline));
      } catch (error) {
        this.o.logger.warn({ err: redactText(String(error)) }, 'close hook failed');
      }
    }
  }

  private async finish(force: boolean): Promise<void> {
    for (const [signal, handler] of this.signalHandlers.splice(0)) process.off(signal, handler);
    await this.o.finish(force);
  }
}

/** Waits for `work` or the deadline, whichever comes first (a rejection of `work` still rejects); clears its timer. */
async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref?.();
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
