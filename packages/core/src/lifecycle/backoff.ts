export interface RetryPolicy {
  attempts: number;
  initialDelayMS: number;
  maxDelayMS: number;
}

/** "Full jitter" exponential backoff: a random delay in [0, min(max, initial * 2^(attempt-1))]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMS, policy.initialDelayMS * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Waits `ms`, or less when `signal` aborts. For adapters' own retries (transactions), so there is one `sleep`. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
