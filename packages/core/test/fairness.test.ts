import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import {
  AdmissionController,
  type FairnessOptions,
  type QuotaOptions,
  type TenantGate,
  TenantOverloadedError,
  TenantQuotaExceededError,
  type TenantThrottledEvent,
} from '../src/index.js';
import { FakePort } from './fakePort.js';

const POOL = 'cluster:default';

function controller(fairness?: FairnessOptions, quotas?: QuotaOptions, events: TenantThrottledEvent[] = []) {
  return new AdmissionController({
    fairness: fairness && { maxConcurrentPerTenant: 10, maxQueuedPerTenant: 100, queueTimeoutMS: 5_000, ...fairness },
    quotas,
    onThrottled: (e) => events.push(e),
    now: () => Date.now(),
  });
}

/** Takes a slot the way an adapter does; resolves to the release function once admitted. */
async function admitted(ctl: AdmissionController, gate: TenantGate): Promise<() => void> {
  const wait = ctl.acquire(gate);
  if (wait) await wait;
  return () => ctl.release(gate);
}

/** Runs `count` operations of one tenant at once, each finishing when the test says; records the most in flight. */
function flood(ctl: AdmissionController, gate: TenantGate, count: number) {
  const finish: Array<() => void> = [];
  let running = 0;
  let maxRunning = 0;
  const done = Array.from({ length: count }, () =>
    admitted(ctl, gate).then(async (release) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => finish.push(resolve));
      running -= 1;
      release();
    }),
  );
  return { finish, done, max: () => maxRunning, running: () => running };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('admission: in-flight limit', () => {
  test('never runs more than maxConcurrentPerTenant operations of a tenant at once, and runs them all', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 3 });
    const gate = ctl.gate('acme', POOL, 100);
    const f = flood(ctl, gate, 20);
    for (let i = 0; i < 40; i++) {
      await settle();
      f.finish.shift()?.();
    }
    await Promise.all(f.done);
    expect(f.max()).toBe(3);
    expect(ctl.stats()).toMatchObject({ inFlight: 0, queued: 0, rejected: 0 });
  });

  test('one tenant at its limit does not hold back another tenant', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 1 });
    const hot = ctl.gate('hot', POOL, 8);
    const normal = ctl.gate('normal', POOL, 8);
    await admitted(ctl, hot);
    const queued = ctl.acquire(hot);
    expect(queued).toBeInstanceOf(Promise);
    expect(ctl.acquire(normal)).toBeUndefined();
    expect(ctl.stats().tenants).toEqual(
      expect.arrayContaining([
        { tenant: 'hot', inFlight: 1, queued: 1, rejected: 0, throttled: 0 },
        { tenant: 'normal', inFlight: 1, queued: 0, rejected: 0, throttled: 0 },
      ]),
    );
  });

  test('a full pool hands freed slots to waiting tenants in turns, not first come first served', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 10 });
    const order: string[] = [];
    const gates = Object.fromEntries(['a', 'b', 'c'].map((t) => [t, ctl.gate(t, POOL, 1)])) as Record<string, TenantGate>;
    const blocker = await admitted(ctl, gates.a as TenantGate);
    const waits: Promise<void>[] = [];
    for (const t of ['a', 'a', 'a', 'a', 'b', 'b', 'c', 'c']) {
      const gate = gates[t] as TenantGate;
      waits.push(
        admitted(ctl, gate).then((release) => {
          order.push(t);
          release();
        }),
      );
    }
    blocker();
    await Promise.all(waits);
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'a']);
  });

  test('weight(tenant) gives a tenant a proportional share of a busy pool', async () => {
    const ctl = controller({ weight: (t) => (t === 'big' ? 2 : 1) });
    const order: string[] = [];
    const big = ctl.gate('big', POOL, 1);
    const small = ctl.gate('small', POOL, 1);
    const blocker = await admitted(ctl, small);
    const waits = [...Array(6).fill(big), ...Array(3).fill(small)].map((gate: TenantGate) =>
      admitted(ctl, gate).then((release) => {
        order.push(gate.tenantId);
        release();
      }),
    );
    blocker();
    await Promise.all(waits);
    expect(order.slice(0, 6).filter((t) => t === 'big')).toHaveLength(4);
    expect(order).toHaveLength(9);
  });
});

describe('admission: overload', () => {
  test('a full queue rejects at once with TENANT_OVERLOADED, and everything admitted still runs', async () => {
    const events: TenantThrottledEvent[] = [];
    const ctl = controller({ maxConcurrentPerTenant: 2, maxQueuedPerTenant: 3 }, undefined, events);
    const gate = ctl.gate('hot', POOL, 8);
    const f = flood(ctl, gate, 5);
    await settle();
    let error: unknown;
    try {
      ctl.acquire(gate);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantOverloadedError);
    expect(error).toMatchObject({ code: 'TENANT_OVERLOADED', reason: 'queue_full', tenantId: 'hot' });
    expect(events).toEqual([{ tenantId: 'hot', code: 'TENANT_OVERLOADED', reason: 'queue_full' }]);
    for (let i = 0; i < 5; i++) {
      f.finish.shift()?.();
      await settle();
    }
    await Promise.all(f.done);
    expect(ctl.stats()).toMatchObject({ inFlight: 0, queued: 0, rejected: 1 });
  });

  test('an operation waiting longer than queueTimeoutMS rejects with TENANT_OVERLOADED; running ones are untouched', async () => {
    const events: TenantThrottledEvent[] = [];
    const ctl = controller({ maxConcurrentPerTenant: 1, queueTimeoutMS: 1_000 }, undefined, events);
    const gate = ctl.gate('slow', POOL, 8);
    const release = await admitted(ctl, gate);
    const waiting = ctl.acquire(gate) as Promise<void>;
    const outcome = waiting.then(
      () => 'admitted',
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(ctl.stats().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({ code: 'TENANT_OVERLOADED', reason: 'queue_timeout' });
    expect(events).toEqual([{ tenantId: 'slow', code: 'TENANT_OVERLOADED', reason: 'queue_timeout' }]);
    expect(ctl.stats()).toMatchObject({ inFlight: 1, queued: 0, rejected: 1 });
    release();
    expect(ctl.acquire(gate)).toBeUndefined();
  });

  test('close rejects waiting operations with CLIENT_CLOSED and refuses new ones', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 1 });
    const gate = ctl.gate('t', POOL, 8);
    await admitted(ctl, gate);
    const waiting = ctl.acquire(gate) as Promise<void>;
    ctl.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    expect(() => ctl.acquire(gate)).toThrow(expect.objectContaining({ code: 'CLIENT_CLOSED' }));
  });
});

describe('quotas', () => {
  test('over the bucket an operation is rejected at once with retryAfterMS, and tokens refill over time', async () => {
    const events: TenantThrottledEvent[] = [];
    const ctl = controller(undefined, { opsPerSecond: 2, burst: 2 }, events);
    const gate = ctl.gate('acme', POOL, 8);
    expect(ctl.acquire(gate)).toBeUndefined();
    expect(ctl.acquire(gate)).toBeUndefined();
    let error: unknown;
    try {
      ctl.acquire(gate);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantQuotaExceededError);
    expect(error).toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED', retryAfterMS: 500 });
    expect(events[0]).toEqual({ tenantId: 'acme', code: 'TENANT_QUOTA_EXCEEDED', reason: 'quota', retryAfterMS: 500 });
    vi.advanceTimersByTime(500);
    expect(ctl.acquire(gate)).toBeUndefined();
    expect(() => ctl.acquire(gate)).toThrow(TenantQuotaExceededError);
    vi.advanceTimersByTime(5_000);
    expect(ctl.acquire(gate)).toBeUndefined();
    expect(ctl.acquire(gate)).toBeUndefined();
    expect(() => ctl.acquire(gate)).toThrow(TenantQuotaExceededError);
    expect(ctl.stats()).toMatchObject({ throttled: 3, rejected: 0 });
  });

  test('perTenant overrides the default quota; a tenant without one is unlimited when no default is set', () => {
    const ctl = controller(undefined, { perTenant: (t) => (t === 'free' ? { opsPerSecond: 1 } : undefined) });
    const free = ctl.gate('free', POOL, 8);
    const paid = ctl.gate('paid', POOL, 8);
    expect(ctl.acquire(free)).toBeUndefined();
    expect(() => ctl.acquire(free)).toThrow(TenantQuotaExceededError);
    for (let i = 0; i < 1_000; i++) expect(ctl.acquire(paid)).toBeUndefined();
  });
});

describe('transactions', () => {
  test('two transactions over the same tenants in opposite order both finish (slots are taken in a fixed order)', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 1 });
    const a = ctl.gate('a', POOL, 8);
    const b = ctl.gate('b', POOL, 8);
    const log: string[] = [];
    const tx = async (name: string, gates: TenantGate[]) => {
      const release = await ctl.acquireAll(gates);
      log.push(`${name} start`);
      await new Promise<void>((resolve) => setTimeout(resolve, 100));
      log.push(`${name} end`);
      release();
    };
    const both = Promise.all([tx('first', [a, b]), tx('second', [b, a])]);
    await vi.advanceTimersByTimeAsync(300);
    await both;
    expect(log).toEqual(['first start', 'first end', 'second start', 'second end']);
    expect(ctl.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test('transaction slots do not take pool slots, so transactions cannot starve each other of a small pool', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 1 });
    const releases = await Promise.all(['a', 'b', 'c'].map((t) => ctl.acquireAll([ctl.gate(t, POOL, 1)])));
    expect(ctl.stats().inFlight).toBe(3);
    expect(ctl.acquire(ctl.gate('d', POOL, 1))).toBeUndefined();
    for (const release of releases) release();
  });
});

describe('gates kept by callers', () => {
  test('a gate stays the same while it is in use, and is retired once the controller drops or replaces it', async () => {
    const ctl = controller({ maxConcurrentPerTenant: 1 });
    const gate = ctl.gate('a', POOL, 8);
    const release = await admitted(ctl, gate);
    // In use on POOL: asking for it on another pool returns it as is, not retired.
    expect(ctl.gate('a', 'cluster:other', 8)).toBe(gate);
    expect(gate.retired).toBe(false);
    release();
    // Idle now: moving to another pool replaces it, and the old one says so.
    const moved = ctl.gate('a', 'cluster:other', 8);
    expect(moved).not.toBe(gate);
    expect(gate.retired).toBe(true);
    // The sweep drops idle tenants once there are many of them: their gates are retired too.
    for (let i = 0; i < 1100; i++) ctl.gate(`t${i}`, POOL, 8);
    expect(moved.retired).toBe(true);
    expect(ctl.gate('a', 'cluster:other', 8)).not.toBe(moved);
  });
});

describe('core wiring', () => {
  test('without fairness or quotas there is no admission and stats carry no admission section', () => {
    const core = new PolyMongoCore({ uri: 'mongodb://127.0.0.1:1' }, new FakePort());
    expect(core.admission).toBeUndefined();
    expect(core.stats().admission).toBeUndefined();
  });

  test('a refused operation emits tenantThrottled and shows in stats().admission', () => {
    const core = new PolyMongoCore({ uri: 'mongodb://127.0.0.1:1', quotas: { opsPerSecond: 1 } }, new FakePort());
    const events: TenantThrottledEvent[] = [];
    core.on('tenantThrottled', (e) => events.push(e));
    const ctl = core.admission as AdmissionController;
    const gate = ctl.gate('acme', POOL, 8);
    ctl.acquire(gate);
    expect(() => ctl.acquire(gate)).toThrow(TenantQuotaExceededError);
    expect(events).toHaveLength(1);
    expect(core.stats().admission).toMatchObject({ inFlight: 1, throttled: 1, tenants: [{ tenant: 'acme', throttled: 1 }] });
  });
});
