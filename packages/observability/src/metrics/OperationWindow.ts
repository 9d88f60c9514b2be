import type { OperationInfo } from '@polymongo/core';

/** Operation durations of the last `windowMS`, for p50/p99 and operations per second. */
export class OperationWindow {
  private samples: Array<{ at: number; ms: number }> = [];

  constructor(private readonly windowMS = 10_000) {}

  add(op: OperationInfo, now = Date.now()): void {
    this.samples.push({ at: now, ms: op.durationMS });
    if (this.samples.length > 50_000) this.samples.splice(0, this.samples.length - 50_000);
  }

  /** p50, p99 (ms) and operations per second over the window. */
  summary(now = Date.now()): { p50: number; p99: number; opsPerSec: number; count: number } {
    const from = now - this.windowMS;
    let first = 0;
    while (first < this.samples.length && (this.samples[first] as { at: number }).at < from) first += 1;
    if (first > 0) this.samples.splice(0, first);
    const sorted = this.samples.map((s) => s.ms).sort((a, b) => a - b);
    const at = (p: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number));
    return { p50: at(0.5), p99: at(0.99), opsPerSec: sorted.length / (this.windowMS / 1000), count: sorted.length };
  }
}
