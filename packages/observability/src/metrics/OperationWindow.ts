import type { OperationInfo } from '@polymongo/core';

/**
 * Operation durations of the last `windowMS`, for p50/p99 and operations per second, in a fixed-size ring:
 * recording an operation is O(1) and allocates nothing, however long nobody reads the window. When more than
 * `capacity` operations fall inside the window, the oldest are overwritten (the percentiles are then those of
 * the newest `capacity` operations, and `opsPerSec` is a lower bound).
 */
export class OperationWindow {
  readonly #at: Float64Array;
  readonly #ms: Float64Array;
  #next = 0;
  #size = 0;

  constructor(
    private readonly windowMS = 10_000,
    capacity = 16_384,
  ) {
    this.#at = new Float64Array(capacity);
    this.#ms = new Float64Array(capacity);
  }

  add(op: OperationInfo, now = Date.now()): void {
    this.#at[this.#next] = now;
    this.#ms[this.#next] = op.durationMS;
    this.#next = (this.#next + 1) % this.#at.length;
    if (this.#size < this.#at.length) this.#size += 1;
  }

  /** p50, p99 (ms) and operations per second over the window; percentiles are `undefined` with no samples. */
  summary(now = Date.now()): { p50: number | undefined; p99: number | undefined; opsPerSec: number; count: number } {
    const from = now - this.windowMS;
    const capacity = this.#at.length;
    const inWindow: number[] = [];
    for (let i = 0; i < this.#size; i += 1) {
      const slot = (this.#next - 1 - i + capacity) % capacity;
      if ((this.#at[slot] as number) < from) break;
      inWindow.push(this.#ms[slot] as number);
    }
    inWindow.sort((a, b) => a - b);
    const at = (p: number) =>
      inWindow.length === 0 ? undefined : (inWindow[Math.min(inWindow.length - 1, Math.floor(inWindow.length * p))] as number);
    return { p50: at(0.5), p99: at(0.99), opsPerSec: inWindow.length / (this.windowMS / 1000), count: inWindow.length };
  }
}
