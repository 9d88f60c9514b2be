import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import type { LoggerLike, OperationInfo } from '../src/index.js';
import { FakePort, networkError } from './fakePort.js';

const SECRET_URI = 'mongodb://app:hunter2@127.0.0.1:27017/acme';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: pino({ level: 'trace' }, stream) };
}

describe('stats', () => {
  test('a snapshot reports pools, tenants and operations, and holds no secret', async () => {
    const port = new FakePort();
    const core = new PolyMongoCore({ uri: SECRET_URI, dedicated: [{ tenants: 'vip' }] }, port);
    core.acquire('a');
    core.acquire('vip');
    core.recordOperation({ tenantId: 'a', dbName: 'a', command: 'find', durationMS: 1, poolKey: 'cluster:default' });
    core.recordOperation({
      tenantId: 'a',
      dbName: 'a',
      command: 'find',
      durationMS: 1,
      poolKey: 'cluster:default',
      error: { name: 'E', message: 'x' },
    });
    core.recordOperation({ tenantId: 'vip', dbName: 'vip', command: 'insert', durationMS: 1, poolKey: 'dedicated:vip' });
    await core.connect();
    const stats = core.stats();
    expect(stats.pools.map((p) => p.key).sort()).toEqual(['cluster:default', 'dedicated:vip']);
    expect(stats.dedicatedPools).toBe(1);
    expect(stats.tenants.cached).toBe(2);
    expect(stats.operations).toMatchObject({ total: 3, errors: 1 });
    expect(stats.operations.topTenants[0]).toEqual({ tenant: 'a', ops: 2, errors: 1 });
    expect(stats.clusters[0]?.uri).toBe('mongodb://app:***@127.0.0.1:27017/acme');
    expect(JSON.stringify(stats)).not.toContain('hunter2');
  });

  test('per-tenant operation counts have bounded cardinality', () => {
    const core = new PolyMongoCore({ uri: SECRET_URI, topTenantsTracked: 5 }, new FakePort());
    for (let i = 0; i < 100; i++)
      core.recordOperation({ tenantId: `t${i}`, dbName: `t${i}`, command: 'find', durationMS: 1, poolKey: undefined });
    const ops = core.stats().operations;
    expect(ops.topTenants).toHaveLength(5);
    expect(ops.other.ops).toBe(95);
  });
});

describe('logging', () => {
  test('connection failures are logged with the URI redacted', async () => {
    const { lines, logger } = captureLogger();
    const port = new FakePort();
    port.behaviour = async () => {
      throw Object.assign(networkError(), { message: `failed to reach ${SECRET_URI}` });
    };
    const core = new PolyMongoCore({ uri: SECRET_URI, logger, retry: { attempts: 2, initialDelayMS: 1, maxDelayMS: 2 } }, port);
    await core.connect().catch(() => undefined);
    const all = lines.join('\n');
    expect(all).toContain('connect failed; retrying');
    expect(all).toContain('app:***@');
    expect(all).not.toContain('hunter2');
  });

  test('slowOperationMS logs slow operations without document contents and emits slowOperation', () => {
    const { lines, logger } = captureLogger();
    const core = new PolyMongoCore({ uri: SECRET_URI, logger, slowOperationMS: 50 }, new FakePort());
    const slow: OperationInfo[] = [];
    core.on('slowOperation', (op) => slow.push(op));
    core.recordOperation({ tenantId: 't', dbName: 't', command: 'find', durationMS: 10, poolKey: undefined });
    core.recordOperation({ tenantId: 't', dbName: 't', command: 'aggregate', durationMS: 75, poolKey: undefined });
    expect(slow.map((s) => s.command)).toEqual(['aggregate']);
    const logged = lines.filter((l) => l.includes('slow operation'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] as string)).toMatchObject({ tenant: 't', db: 't', command: 'aggregate' });
  });
});

describe('plugins and events', () => {
  test('plugins see lifecycle events and wrap operations PolyMongo runs', async () => {
    const core = new PolyMongoCore({ uri: SECRET_URI }, new FakePort());
    const events: string[] = [];
    const wrapped: string[] = [];
    const finished: OperationInfo[] = [];
    core.use({
      name: 'spy',
      onEvent: (name) => events.push(name),
      wrapOperation: async (op, next) => {
        wrapped.push(`before ${op.command}`);
        const result = await next();
        wrapped.push(`after ${op.command}`);
        return result;
      },
      onOperation: (op) => finished.push(op),
    });
    core.acquire('a');
    await core.connect();
    const result = await core.runOperation(
      { tenantId: 'a', dbName: 'a', command: 'repo.insertOne', poolKey: 'cluster:default' },
      async () => 42,
    );
    expect(result).toBe(42);
    await expect(
      core.runOperation({ tenantId: 'a', dbName: 'a', command: 'repo.fail', poolKey: undefined }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(events).toContain('poolCreated');
    expect(events).toContain('connect');
    expect(wrapped).toEqual(['before repo.insertOne', 'after repo.insertOne', 'before repo.fail']);
    expect(finished.map((f) => [f.command, f.error?.message])).toEqual([
      ['repo.insertOne', undefined],
      ['repo.fail', 'boom'],
    ]);
  });

  test('a throwing listener does not break the client', async () => {
    const core = new PolyMongoCore({ uri: SECRET_URI, logger: { level: 'silent' } }, new FakePort());
    core.on('poolCreated', () => {
      throw new Error('listener bug');
    });
    expect(() => core.acquire('a')).not.toThrow();
    await expect(core.connect()).resolves.toBeUndefined();
  });

  test('on returns an unsubscribe function', () => {
    const core = new PolyMongoCore({ uri: SECRET_URI }, new FakePort());
    let n = 0;
    const off = core.on('tenantEvicted', () => n++);
    core.acquire('a');
    core.evict('a');
    off();
    core.acquire('b');
    core.evict('b');
    expect(n).toBe(1);
  });
});

describe('package boundaries', () => {
  test('no file under packages/core/src imports mongodb or mongoose', () => {
    const root = join(__dirname, '..', 'src');
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((f) =>
      /from\s+['"](mongodb|mongoose)(\/[^'"]*)?['"]|require\(['"](mongodb|mongoose)/.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});

describe('child loggers', () => {
  test('a user logger is asked for its child only when PolyMongo first logs at its level', async () => {
    const calls: string[] = [];
    const user: LoggerLike & { level: string } = {
      level: 'info',
      child: () => {
        calls.push('child');
        return user;
      },
      trace: () => {},
      debug: () => {},
      info: (_obj, msg) => void calls.push(`info ${msg}`),
      warn: (_obj, msg) => void calls.push(`warn ${msg}`),
      error: (_obj, msg) => void calls.push(`error ${msg}`),
    };
    const core = new PolyMongoCore({ uri: SECRET_URI, logger: user }, new FakePort());
    core.acquire('a');
    expect(calls).toEqual([]);
    await core.connect();
    expect(calls[0]).toBe('child');
    expect(calls).toContain('info connected');
  });

  test('pool logs carry cluster and pool; dedicated pool logs carry the tenant', async () => {
    const { lines, logger } = captureLogger();
    const port = new FakePort();
    const core = new PolyMongoCore({ uri: SECRET_URI, logger, dedicated: [{ tenants: 'vip' }] }, port);
    core.acquire('vip');
    await core.connect();
    const connected = () => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'connected');
    await expect.poll(connected).toContainEqual(expect.objectContaining({ cluster: 'default', pool: 'cluster:default' }));
    await expect.poll(connected).toContainEqual(expect.objectContaining({ cluster: 'default', pool: 'dedicated:vip', tenant: 'vip' }));
  });
});
