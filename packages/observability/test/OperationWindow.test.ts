import type { OperationInfo } from '@polymongo/core';
import { describe, expect, it } from 'vitest';
import { OperationWindow } from '../src/metrics/OperationWindow.js';

const op = (durationMS: number) => ({ durationMS }) as OperationInfo;

describe('OperationWindow', () => {
  it('reports no percentiles when no operation finished in the window', () => {
    const window = new OperationWindow(10_000);
    expect(window.summary(1_000)).toEqual({ p50: undefined, p99: undefined, opsPerSec: 0, count: 0 });
    window.add(op(5), 1_000);
    expect(window.summary(20_000).p50).toBeUndefined();
  });

  it('computes p50 and p99 over the operations inside the window only', () => {
    const window = new OperationWindow(1_000);
    for (let i = 0; i < 50; i += 1) window.add(op(1_000), 0); // outside the window at t=5000
    for (let i = 1; i <= 100; i += 1) window.add(op(i), 4_500);
    const summary = window.summary(5_000);
    expect(summary.count).toBe(100);
    expect(summary.p50).toBe(51);
    expect(summary.p99).toBe(100);
    expect(summary.opsPerSec).toBe(100);
  });

  it('stays bounded when nobody reads it: the newest `capacity` operations are kept', () => {
    const window = new OperationWindow(60_000, 1_000);
    for (let i = 0; i < 100_000; i += 1) window.add(op(i), 10);
    const summary = window.summary(20);
    expect(summary.count).toBe(1_000);
    // The oldest were overwritten: the smallest duration left is from the last 1,000 adds.
    expect(summary.p50).toBeGreaterThanOrEqual(99_000);
  });
});
