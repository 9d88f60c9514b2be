import { describeError } from '@polymongo/core';
import { FleetSpecError } from '../errors.js';

/** What a failed tenant reports: the error's name, code and (redacted) message, serialisable as JSON. */
export interface FailureInfo {
  name: string;
  code?: string | number;
  message: string;
}

export interface FleetFailure {
  tenant: string;
  error: FailureInfo;
}

/** Progress of a fleet operation, reported after every tenant. */
export interface FleetProgress {
  /** Tenants finished without error. */
  done: number;
  /** Tenants that failed. */
  failed: number;
  /** Tenants not run: already in the checkpoint, or never started after an abort. */
  skipped: number;
  /** Tenants in the run when known up front (a list, or `listDatabases` discovery). */
  total: number | undefined;
  /** Tenants finished (done + failed) per second since the start. */
  rate: number;
  /** Estimated milliseconds left, when `total` is known and the rate is above zero. */
  etaMS: number | undefined;
  elapsedMS: number;
}

/** Remembers finished tenants so a rerun skips them. `fileCheckpoint(path)` keeps them in a file. */
export interface Checkpoint {
  has(tenant: string): boolean | Promise<boolean>;
  add(tenant: string): void | Promise<void>;
}

export interface RunOptions {
  /** Tenants worked on at once. Default 8. */
  concurrency?: number;
  /** Aborting stops starting tenants; the run resolves, counting the ones never started as `skipped`. */
  signal?: AbortSignal;
  onProgress?: (progress: FleetProgress) => void;
  checkpoint?: Checkpoint;
  /** Stop starting tenants after the first failure (default false: every tenant runs). */
  stopOnError?: boolean;
}

export interface RunResult {
  done: number;
  failed: FleetFailure[];
  skipped: number;
}

/** A tenant's failure as plain data (name, code, redacted message): core's `describeError`. */
export function toFailureInfo(error: unknown): FailureInfo {
  return describeError(error);
}

export function checkConcurrency(value: number | undefined, fallback = 8): number {
  const concurrency = value ?? fallback;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new FleetSpecError(`concurrency must be a whole number of at least 1 (got ${String(value)}); for example { concurrency: 8 }.`);
  }
  return concurrency;
}

/**
 * Runs `work` for every tenant of `ids` with at most `concurrency` at once, pulling ids lazily so the fleet is never
 * held in memory. One tenant's failure is recorded, not thrown; only a failing source (discovery) rejects.
 */
export async function runTenants(
  ids: readonly string[] | AsyncIterable<string>,
  total: number | undefined,
  work: (tenant: string) => Promise<void>,
  options: RunOptions = {},
): Promise<RunResult> {
  const concurrency = checkConcurrency(options.concurrency);
  const { signal, onProgress, checkpoint, stopOnError = false } = options;
  // An array (a list, discovery) is read by index: no promises per id. A stream's pulls are serialised: a hand-written
  // async iterable need not support concurrent next() calls.
  const list = Array.isArray(ids) ? (ids as readonly string[]) : undefined;
  const iterator = list ? undefined : (ids as AsyncIterable<string>)[Symbol.asyncIterator]();
  let position = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const pullStream = (): Promise<IteratorResult<string>> => {
    const next = chain.then(() => (iterator as AsyncIterator<string>).next());
    chain = next.catch(() => undefined);
    return next;
  };
  const pull = (): IteratorResult<string> | Promise<IteratorResult<string>> => {
    if (!list) return pullStream();
    return position < list.length ? { done: false, value: list[position++] as string } : { done: true, value: undefined };
  };
  const result: RunResult = { done: 0, failed: [], skipped: 0 };
  const startedAt = performance.now();
  let stopped = false;
  const halted = () => stopped || signal?.aborted === true;
  const report = () => {
    if (!onProgress) return;
    const elapsedMS = performance.now() - startedAt;
    const finished = result.done + result.failed.length;
    const rate = elapsedMS > 0 ? (finished * 1000) / elapsedMS : 0;
    const left = total === undefined ? undefined : Math.max(0, total - finished - result.skipped);
    onProgress({
      done: result.done,
      failed: result.failed.length,
      skipped: result.skipped,
      total,
      rate,
      etaMS: left !== undefined && rate > 0 ? (left / rate) * 1000 : undefined,
      elapsedMS,
    });
  };
  const worker = async () => {
    while (!halted()) {
      const pulled = pull();
      const next = list ? (pulled as IteratorResult<string>) : await pulled;
      if (next.done) return;
      const tenant = next.value;
      if (halted()) {
        result.skipped++;
        return;
      }
      try {
        if (checkpoint && (await checkpoint.has(tenant))) {
          result.skipped++;
          report();
          continue;
        }
        await work(tenant);
        await checkpoint?.add(tenant);
        result.done++;
      } catch (error) {
        result.failed.push({ tenant, error: toFailureInfo(error) });
        if (stopOnError) stopped = true;
      }
      report();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (halted()) {
    // Whatever discovery still holds was never started.
    for (let next = await pull(); !next.done; next = await pull()) result.skipped++;
    await iterator?.return?.();
    report();
  }
  return result;
}
