import { sleep } from './backoff.js';

/** Polls `busy()` until it reports 0 or `timeoutMS` passes; returns what was still busy. */
export async function drain(busy: () => number, timeoutMS: number, intervalMS = 10): Promise<number> {
  const deadline = Date.now() + timeoutMS;
  let remaining = busy();
  while (remaining > 0 && Date.now() < deadline) {
    await sleep(Math.min(intervalMS, deadline - Date.now()));
    remaining = busy();
  }
  return remaining;
}
