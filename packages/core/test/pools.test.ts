import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { DedicatedPoolLimitError, type PolyMongoOptions } from '../src/index.js';
import { FakePort } from './fakePort.js';

const URI = 'mongodb://127.0.0.1:27017';
function setup(options: Partial<PolyMongoOptions> = {}) {
  const port = new FakePort();
  const core = new PolyMongoCore({ uri: URI, ...options }, port);
  return { port, core };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('pool registry', () => {
  test('1,000 concurrent first calls open exactly one pool and connect it once', async () => {
    const { port, core } = setup();
    port.behaviour = () => delay(20);
    const calls = Array.from({ length: 1000 }, (_, i) => Promise.resolve().then(() => core.acquire(`tenant-${i % 50}`)));
    const handles = await Promise.all(calls);
    await Promise.all(Array.from({ length: 1000 }, () => core.connect()));
    expect(port.created).toHaveLength(1);
    expect(port.connectCalls).toBe(1);
    expect(new Set(handles.map((h) => h.pool)).size).toBe(1);
    expect(core.state).toBe('connected');
  });

  test('every tenant of a cluster shares its one pool; each gets its own database handle', () => {
    const { port, core } = setup();
    const a = core.acquire('a');
    const b = core.acquire('b');
    expect(a.pool).toBe(b.pool);
    expect(a.handle.dbName).toBe('a');
    expect(b.handle.dbName).toBe('b');
    expect(port.created).toHaveLength(1);
  });

  test('the handle cache is bounded: 100,000 tenants keep at most maxCachedTenants handles', () => {
    const { port, core } = setup({ maxCachedTenants: 1000 });
    for (let i = 0; i < 100_000; i++) core.acquire(`t${i}`);
    const stats = core.stats();
    expect(stats.tenants.cached).toBe(1000);
    expect(stats.tenants.evictions).toBe(99_000);
    expect(port.released).toHaveLength(99_000);
    expect(core.cachedRoutes).toBeLessThanOrEqual(1000);
  });

  test('the least recently used tenant is evicted first', () => {
    const { port, core } = setup({ maxCachedTenants: 3 });
    core.acquire('a');
    core.acquire('b');
    core.acquire('c');
    core.acquire('a');
    core.acquire('d');
    expect(port.released.map((h) => h.tenantId)).toEqual(['b']);
  });

  test('evict frees a tenant handle and emits tenantEvicted', () => {
    const { port, core } = setup();
    const events: string[] = [];
    core.on('tenantEvicted', (e) => events.push(`${e.tenantId}:${e.reason}`));
    const first = core.acquire('acme');
    expect(core.evict('acme')).toBe(true);
    expect(port.released).toEqual([first.handle]);
    expect(events).toEqual(['acme:manual']);
    expect(core.acquire('acme').handle).not.toBe(first.handle);
    expect(core.evict('never-seen')).toBe(false);
  });

  test("an adapter's attachment lives with the cached handle and is handed back when the handle is dropped", () => {
    const { core } = setup({ maxCachedTenants: 2 });
    const order: string[] = [];
    core.onHandleReleased((h) => order.push(`released ${h.tenantId} ${String(h.attachment)}`));
    core.on('tenantEvicted', (e) => order.push(`evicted ${e.tenantId}`));
    const a = core.acquire('a');
    expect(a.attachment).toBeUndefined();
    a.attachment = 'conn-a';
    expect(core.acquire('a').attachment).toBe('conn-a');
    expect([a.tenantId, a.dbName, a.route.tenantId, a.route.dbName]).toEqual(['a', 'a', 'a', 'a']);
    core.acquire('b');
    core.acquire('c');
    expect(order).toEqual(['released a conn-a', 'evicted a']);
    expect(core.acquire('a').attachment).toBeUndefined();
  });

  test('a pinned tenant survives LRU pressure and manual eviction until unpinned', () => {
    const { port, core } = setup({ maxCachedTenants: 2 });
    const release = core.pin(core.route('streaming'));
    core.acquire('x');
    core.acquire('y');
    core.acquire('z');
    expect(port.released.map((h) => h.tenantId)).not.toContain('streaming');
    expect(core.evict('streaming')).toBe(false);
    release();
    release();
    expect(core.evict('streaming')).toBe(true);
  });

  test('with every other cached tenant pinned, the tenant just acquired stays cached (until the next miss)', () => {
    const { port, core } = setup({ maxCachedTenants: 1 });
    const dropped: string[] = [];
    core.onHandleReleased((h) => dropped.push(`${h.tenantId} ${String(h.attachment)}`));
    const unpin = core.pin(core.route('streaming'));
    const x = core.acquire('x');
    // Not dropped on arrival: what an adapter attaches now is handed back when the handle goes.
    expect(dropped).toEqual([]);
    x.attachment = 'conn-x';
    expect(core.acquire('x')).toBe(x);
    expect(core.stats().tenants.cached).toBe(2);
    core.acquire('y');
    expect(dropped).toEqual(['x conn-x']);
    expect(port.released.map((h) => h.tenantId)).toEqual(['x']);
    expect(core.stats().tenants.cached).toBe(2);
    unpin();
    core.acquire('z');
    expect(core.stats().tenants.cached).toBe(1);
  });
});

describe('dedicated pools', () => {
  test('configured tenants get their own pool with their own URI and size', () => {
    const { port, core } = setup({
      dedicated: [{ tenants: ['big'], uri: 'mongodb://other:27018', maxConnections: 20 }],
    });
    const big = core.acquire('big');
    const small = core.acquire('small');
    expect(big.route.poolKey).toBe('dedicated:big');
    expect(big.pool).not.toBe(small.pool);
    expect(big.pool.spec).toMatchObject({ kind: 'dedicated', uri: 'mongodb://other:27018', maxPoolSize: 20, tenant: 'big' });
    expect(port.created).toHaveLength(2);
  });

  test('coldStart: false opens a dedicated pool at construction', async () => {
    const { port } = setup({ dedicated: [{ tenants: 'eager', coldStart: false }] });
    expect(port.created.map((p) => p.spec.key)).toEqual(['dedicated:eager']);
    await expect.poll(() => port.connectCalls).toBe(1);
  });

  test('a dedicated pool takes its own maxIdleTimeMS, else the cluster pool setting', () => {
    const { core } = setup({ pool: { maxIdleTimeMS: 1000 }, dedicated: [{ tenants: 'own', maxIdleTimeMS: 50 }, { tenants: 'inherits' }] });
    expect(core.acquire('own').pool.spec.maxIdleTimeMS).toBe(50);
    expect(core.acquire('inherits').pool.spec.maxIdleTimeMS).toBe(1000);
  });

  test('setDedicated at run time reroutes an already used tenant on its next use', () => {
    const { core } = setup();
    expect(core.acquire('grow').route.poolKey).toBe('cluster:default');
    core.setDedicated(['grow'], { maxConnections: 5 });
    expect(core.acquire('grow').route.poolKey).toBe('dedicated:grow');
  });

  test('connectDedicated connects the pools before resolving', async () => {
    const { port, core } = setup();
    await core.connectDedicated(['t1', 't2'], { maxConnections: 2 });
    expect(port.created.filter((p) => p.spec.kind === 'dedicated').every((p) => p.connects === 1)).toBe(true);
    expect(
      core
        .stats()
        .pools.filter((p) => p.kind === 'dedicated')
        .map((p) => p.state),
    ).toEqual(['connected', 'connected']);
  });

  test('autoClose closes an idle pool after ttl, every use resets the clock, and the next use reopens it', async () => {
    vi.useFakeTimers();
    const { port, core } = setup({ dedicated: [{ tenants: 'temp', autoClose: true, ttlMS: 80 }] });
    const closed: string[] = [];
    core.on('poolClosed', (e) => closed.push(`${e.poolKey}:${e.reason}`));
    core.acquire('temp');
    await vi.advanceTimersByTimeAsync(10);
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(40);
      core.acquire('temp');
    }
    expect(closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(79);
    expect(closed).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    expect(closed).toEqual(['dedicated:temp:idle']);
    expect(port.created[0]?.closed).toBe(true);
    const reopened = core.acquire('temp');
    expect(reopened.pool.pool).not.toBe(port.created[0]);
    expect(port.created).toHaveLength(2);
  });

  test('an operation in flight keeps an autoClose pool open past its ttl; idleness counts from its end', async () => {
    vi.useFakeTimers();
    const { port, core } = setup({ dedicated: [{ tenants: 'busy', autoClose: true, ttlMS: 50 }] });
    core.acquire('busy');
    await vi.advanceTimersByTimeAsync(1);
    const pool = port.created[0];
    expect(pool?.spec.autoCloseMS).toBe(50);
    pool?.monitor?.activity();
    if (pool) pool.numbers = { ...pool.numbers, inUse: 1 };
    await vi.advanceTimersByTimeAsync(500);
    expect(pool?.closed).toBe(false);
    if (pool) pool.numbers = { ...pool.numbers, inUse: 0 };
    pool?.monitor?.activity();
    await vi.advanceTimersByTimeAsync(49);
    expect(pool?.closed).toBe(false);
    // Operations through a kept handle (no cache lookup) reset the clock too.
    pool?.monitor?.activity();
    await vi.advanceTimersByTimeAsync(49);
    expect(pool?.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect(pool?.closed).toBe(true);
  });

  test('a pin keeps an autoClose pool open past its ttl', async () => {
    vi.useFakeTimers();
    const { port, core } = setup({ dedicated: [{ tenants: 'watched', autoClose: true, ttlMS: 30 }] });
    const release = core.pin(core.route('watched'));
    await vi.advanceTimersByTimeAsync(120);
    expect(port.created[0]?.closed).toBe(false);
    release();
    await vi.advanceTimersByTimeAsync(29);
    expect(port.created[0]?.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(port.created[0]?.closed).toBe(true);
  });

  test('maxDedicatedPools refuses one pool too many with DEDICATED_POOL_LIMIT', () => {
    const { core } = setup({ maxDedicatedPools: 2, dedicated: [{ tenants: ['a', 'b', 'c'] }] });
    core.acquire('a');
    core.acquire('b');
    let error: unknown;
    try {
      core.acquire('c');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DedicatedPoolLimitError);
    expect((error as DedicatedPoolLimitError).code).toBe('DEDICATED_POOL_LIMIT');
    expect(core.acquire('shared-tenant').route.poolKey).toBe('cluster:default');
  });

  test('bad dedicated options at run time are a ConfigError', () => {
    const { core } = setup();
    expect(() => core.setDedicated('x', { maxConnections: -1 })).toThrow(/dedicated\.maxConnections/);
    expect(() => core.setDedicated('bad.name')).toThrow(/INVALID_TENANT|contains/);
  });
});
