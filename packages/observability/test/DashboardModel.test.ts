import type { OperationInfo } from '@polymongo/core';
import { afterEach, expect, test, vi } from 'vitest';
import { DashboardModel, type DashboardSource, MAX_ADMISSION_TENANTS } from '../src/dashboard/DashboardModel.js';

type Admission = NonNullable<ReturnType<DashboardSource['stats']>['admission']>;

function fakeSource(admission?: () => Admission) {
  const listeners: Record<string, Array<(payload: never) => void>> = {};
  const source = {
    on(event: string, listener: (payload: never) => void) {
      listeners[event] ??= [];
      listeners[event].push(listener);
      return () => undefined;
    },
    stats: () => ({
      state: 'connected',
      operations: { total: 0, errors: 0 },
      pools: [],
      tenants: { cached: 0, maxCached: 10, evictions: 0 },
      dedicatedPools: 0,
      openStreams: 0,
      ...(admission ? { admission: admission() } : {}),
    }),
  } as unknown as DashboardSource;
  const emit = (event: string, payload: unknown) => {
    for (const l of listeners[event] ?? []) l(payload as never);
  };
  return { source, emit };
}

const op = (tenantId: string, command: string, durationMS: number, error?: OperationInfo['error']): OperationInfo => ({
  tenantId,
  dbName: tenantId,
  command,
  durationMS,
  poolKey: 'cluster:default',
  ...(error ? { error } : {}),
});

afterEach(() => {
  vi.useRealTimers();
});

test('server errors and PolyMongo refusals are counted apart, with codes per tenant', () => {
  vi.useFakeTimers();
  const { source, emit } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 10, maxTenants: 10 });
  emit('operation', op('acme', 'find', 2));
  emit('operation', op('acme', 'insert', 3, { name: 'MongoServerError', code: 11000, message: 'dup' }));
  emit('operation', op('acme', 'repo.insertOne', 0.1, { name: 'ValidationError', code: 'VALIDATION_FAILED', message: 'bad' }));
  emit('tenantThrottled', { tenantId: 'acme', code: 'TENANT_OVERLOADED' });
  expect(model.tenant('acme')).toMatchObject({
    ops: 3,
    serverErrors: 1,
    refusals: 2,
    errorsByCode: { '11000': 1, VALIDATION_FAILED: 1, TENANT_OVERLOADED: 1 },
  });
  const snapshot = model.snapshot();
  expect(snapshot).toMatchObject({ serverErrors: 1, refusals: 2 });
  model.stop();
});

test('history keeps per-interval percentiles by command, bounded to historySize; empty intervals have null latency', () => {
  vi.useFakeTimers();
  const { source, emit } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 3, maxTenants: 10 });
  for (let i = 1; i <= 100; i += 1) emit('operation', op('acme', 'find', i));
  emit('operation', op('acme', 'insert', 7));
  vi.advanceTimersByTime(1000);
  const [first] = model.history();
  expect(first).toMatchObject({ opsPerSec: 101, byCommand: { find: { p50: 51, p99: 100, count: 100 }, insert: { count: 1 } } });
  vi.advanceTimersByTime(5000);
  const history = model.history();
  expect(history).toHaveLength(3);
  expect(history.at(-1)).toMatchObject({ opsPerSec: 0, p50: null, p99: null });
  model.stop();
});

test('only maxTenants tenants are kept, the least recently active forgotten first', () => {
  const { source, emit } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 3, maxTenants: 2 });
  emit('operation', op('a', 'find', 1));
  emit('operation', op('b', 'find', 1));
  emit('operation', op('a', 'find', 1));
  emit('operation', op('c', 'find', 1));
  expect(model.tenant('b')).toBeUndefined();
  expect(model.tenant('a')?.ops).toBe(2);
  expect(model.tenant('c')?.ops).toBe(1);
  model.stop();
});

const numbers = (inFlight: number, queued: number, rejected: number, throttled: number) => ({ inFlight, queued, rejected, throttled });

test('the admission panel is null when fairness and quotas are off', () => {
  const { source } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 3, maxTenants: 10 });
  expect(model.snapshot().admission).toBeNull();
  model.stop();
});

test('the admission panel lists the hottest tenants first, bounded, the rest added to other', () => {
  // The client lists these in no useful order; the panel ranks and cuts them.
  const tenants = [
    ...Array.from({ length: 4 }, (_, i) => ({ tenant: `idle${i}`, ...numbers(0, 0, i === 0 ? 1 : 0, 0) })),
    { tenant: 'refused-long-ago', ...numbers(0, 0, 7, 0) },
    ...Array.from({ length: 7 }, (_, i) => ({ tenant: `busy${i}`, ...numbers(1, 0, 0, 0) })),
    { tenant: 'refused-now', ...numbers(0, 0, 0, 4) },
    { tenant: 'hot', ...numbers(2, 9, 0, 0) },
  ];
  const { source, emit } = fakeSource(() => ({ ...numbers(10, 9, 9, 6), tenants, other: numbers(1, 0, 1, 2) }));
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 3, maxTenants: 100 });
  emit('tenantThrottled', { tenantId: 'refused-now', code: 'TENANT_QUOTA_EXCEEDED' });
  const panel = model.snapshot().admission;
  expect(panel).not.toBeNull();
  if (!panel) return;
  expect(MAX_ADMISSION_TENANTS).toBe(10);
  // Waiting and holding slots now ranks first; then refusals the dashboard saw; then refusals from before it started.
  expect(panel.tenants.map((t) => t.tenant)).toEqual([
    'hot',
    ...Array.from({ length: 7 }, (_, i) => `busy${i}`),
    'refused-now',
    'refused-long-ago',
  ]);
  expect(panel.tenants[0]).toEqual({ tenant: 'hot', ...numbers(2, 9, 0, 0) });
  // The cut tenants are added to other: listed rows plus other still add up to the totals.
  expect(panel.other).toEqual(numbers(1, 0, 2, 2));
  expect(panel).toMatchObject(numbers(10, 9, 9, 6));
  model.stop();
});

test('a refusal reported both as a failed operation and as tenantThrottled is counted once', () => {
  vi.useFakeTimers();
  const { source, emit } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 10, maxTenants: 10 });
  // A repository operation refused by fairness, then one refused by quotas: each is both events.
  emit('operation', op('acme', 'repo.find', 0.1, { name: 'TenantOverloadedError', code: 'TENANT_OVERLOADED', message: 'busy' }));
  emit('tenantThrottled', { tenantId: 'acme', code: 'TENANT_OVERLOADED' });
  emit('operation', op('acme', 'repo.find', 0.1, { name: 'TenantQuotaExceededError', code: 'TENANT_QUOTA_EXCEEDED', message: 'rate' }));
  emit('tenantThrottled', { tenantId: 'acme', code: 'TENANT_QUOTA_EXCEEDED' });
  // A plain driver command refused: only tenantThrottled.
  emit('tenantThrottled', { tenantId: 'acme', code: 'TENANT_OVERLOADED' });
  expect(model.tenant('acme')).toMatchObject({
    refusals: 3,
    serverErrors: 0,
    errorsByCode: { TENANT_OVERLOADED: 2, TENANT_QUOTA_EXCEEDED: 1 },
  });
  expect(model.snapshot()).toMatchObject({ refusals: 3, serverErrors: 0 });
  vi.advanceTimersByTime(1000);
  expect(model.history().at(-1)).toMatchObject({ refusals: 3, serverErrors: 0 });
  model.stop();
});

test('connectivity failures are server errors even with an upper-case code; only refusals before the server are refusals', () => {
  const { source, emit } = fakeSource();
  const model = new DashboardModel(source, { intervalMS: 1000, historySize: 10, maxTenants: 10 });
  emit('operation', op('acme', 'find', 1, { name: 'Error', code: 'ECONNRESET', message: 'socket hang up' }));
  emit('operation', op('acme', 'find', 1, { name: 'ConnectionError', code: 'CONNECTION_FAILED', message: 'down' }));
  emit('operation', op('acme', 'find', 1, { name: 'PingTimeoutError', code: 'PING_TIMEOUT', message: 'slow' }));
  emit('operation', op('acme', 'find', 0.1, { name: 'InvalidTenantError', code: 'INVALID_TENANT', message: 'bad id' }));
  expect(model.tenant('acme')).toMatchObject({ ops: 4, serverErrors: 3, refusals: 1 });
  expect(model.snapshot()).toMatchObject({ serverErrors: 3, refusals: 1 });
  model.stop();
});
