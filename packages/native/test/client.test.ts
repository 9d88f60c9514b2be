import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { currentTenant, InvalidTenantError, type PolyMongoError, runWithTenant } from '../src/index.js';
import { databaseNames, serverConnections, tenantId, useServer } from './helpers.js';

const env = useServer();

describe('tenant databases', () => {
  test('each tenant reads and writes only its own database', async () => {
    const poly = env.make();
    const [a, b] = [tenantId('a'), tenantId('b')];
    await poly.db(a).collection('notes').insertOne({ text: 'for a' });
    await poly
      .db(b)
      .collection('notes')
      .insertMany([{ text: 'for b' }, { text: 'b again' }]);
    expect(await poly.db(a).collection('notes').countDocuments()).toBe(1);
    expect(await poly.db(b).collection('notes').countDocuments()).toBe(2);
    expect(poly.db(a).databaseName).toBe(a);
    expect(
      await env.observer
        .db(a)
        .collection('notes')
        .findOne({}, { projection: { _id: 0 } }),
    ).toEqual({ text: 'for a' });
  });

  test('db() returns the same cached Db for a tenant', () => {
    const poly = env.make();
    const t = tenantId('cache');
    expect(poly.db(t)).toBe(poly.db(t));
    expect(poly.tenant(t).dbName).toBe(t);
  });

  test('the tenant prefix naming strategy maps ids to database names', async () => {
    const poly = env.make({ tenantDb: { prefix: 'pmn_pfx_' } });
    const id = tenantId('x').slice(4);
    await poly.db(id).collection('c').insertOne({ ok: true });
    expect(await databaseNames(env.observer)).toContain(`pmn_pfx_${id}`);
  });

  test("a pool's MongoClient gets PolyMongo's pool settings over driverOptions and the URI's query", () => {
    const settings = (options: Parameters<typeof env.make>[0]) => {
      // tracing: false: with @opentelemetry/api installed (as here), tracing turns command monitoring on.
      const o = env.make({ tracing: false, ...options }).client().options;
      return { max: o.maxPoolSize, min: o.minPoolSize, idle: o.maxIdleTimeMS, monitor: o.monitorCommands };
    };
    expect(settings({})).toEqual({ max: 100, min: 0, idle: 0, monitor: false });
    expect(settings({ pool: { maxPoolSize: 7, minPoolSize: 1 } })).toEqual({ max: 7, min: 1, idle: 0, monitor: false });
    // The default settings still win over what driverOptions or the URI say: pool sizes come from `pool`.
    const driverOptions = { maxPoolSize: 3, minPoolSize: 2, maxIdleTimeMS: 5, monitorCommands: true };
    expect(settings({ driverOptions })).toEqual({ max: 100, min: 0, idle: 0, monitor: false });
    const uri = `${env.mongo.uri}${env.mongo.uri.includes('?') ? '&' : '?'}maxPoolSize=3&minPoolSize=2&maxIdleTimeMS=5`;
    expect(settings({ uri })).toEqual({ max: 100, min: 0, idle: 0, monitor: false });
    expect(settings({ monitorOperations: true })).toMatchObject({ monitor: true });
  });

  test('1,000 tenants queried at once share one pool: server connections stay within maxPoolSize', async () => {
    const poly = env.make({ pool: { maxPoolSize: 5 } });
    const before = await serverConnections(env.observer);
    const tenants = Array.from({ length: 1000 }, (_, i) => `${tenantId('many')}_${i}`);
    let peak = 0;
    const sampler = setInterval(() => {
      void serverConnections(env.observer).then((n) => {
        peak = Math.max(peak, n);
      });
    }, 5);
    await Promise.all(tenants.map((t) => poly.db(t).collection('c').findOne({})));
    clearInterval(sampler);
    peak = Math.max(peak, await serverConnections(env.observer));
    // maxPoolSize application connections plus the driver's monitoring connections (at most 2 per server).
    expect(peak - before).toBeLessThanOrEqual(5 + 2);
    const pools = poly.stats().pools;
    expect(pools).toHaveLength(1);
    expect(pools[0]?.connections.open).toBeLessThanOrEqual(5);
    expect(pools[0]?.connections.open).toBeGreaterThanOrEqual(1);
  });

  test('200 concurrent first queries create one pool', async () => {
    const poly = env.make();
    const created: string[] = [];
    poly.on('poolCreated', (e) => created.push(e.poolKey));
    const t = tenantId('sf');
    await Promise.all(Array.from({ length: 200 }, () => poly.db(t).collection('c').findOne({})));
    expect(created).toEqual(['cluster:default']);
    expect(poly.state).toBe('connected');
  });

  test('bad tenant ids throw INVALID_TENANT and create no database', async () => {
    const poly = env.make();
    const before = await databaseNames(env.observer);
    for (const bad of ['$admin', 'db; drop database', 'a.b', '../../etc', '', 'x'.repeat(64), 'admin', 'a/b', 'a\0b']) {
      let error: unknown;
      try {
        await poly.db(bad).collection('c').insertOne({ stray: true });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(InvalidTenantError);
      expect((error as PolyMongoError).code).toBe('INVALID_TENANT');
    }
    expect(await databaseNames(env.observer)).toEqual(before);
  });

  test('tenantExists checks without creating; dropTenant removes the database', async () => {
    const poly = env.make();
    const t = tenantId('exists');
    expect(await poly.tenantExists(t)).toBe(false);
    expect(await databaseNames(env.observer)).not.toContain(t);
    await poly.db(t).collection('c').insertOne({});
    expect(await poly.tenantExists(t)).toBe(true);
    await poly.dropTenant(t);
    expect(await poly.tenantExists(t)).toBe(false);
  });
});

describe('tenant resolution', () => {
  test('strictTenancy: no tenant is TENANT_REQUIRED; runWithTenant supplies it', async () => {
    const poly = env.make({ strictTenancy: true });
    expect(() => poly.db()).toThrow(expect.objectContaining({ code: 'TENANT_REQUIRED' }));
    const t = tenantId('ctx');
    await runWithTenant(t, async () => {
      await poly.db().collection('c').insertOne({ via: 'context' });
    });
    expect(await poly.db(t).collection('c').countDocuments({ via: 'context' })).toBe(1);
  });

  test('without strict mode a missing tenant uses the database in the URI, else "default"', () => {
    const url = new URL(env.mongo.uri);
    url.pathname = '/pmn_uri_default';
    expect(env.make({ uri: url.toString() }).db().databaseName).toBe('pmn_uri_default');
    expect(env.make().db().databaseName).toBe('default');
  });

  test('the tenant follows each request through an HTTP handler chain', async () => {
    const poly = env.make({ strictTenancy: true });
    const server = createServer((req, res) => {
      const tenant = req.headers['x-tenant'];
      if (typeof tenant !== 'string') {
        res.writeHead(400).end();
        return;
      }
      runWithTenant(tenant, async () => {
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        const handlerTenant = currentTenant();
        await poly.db().collection('requests').insertOne({ seenAs: handlerTenant });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ tenant: handlerTenant }));
      }).catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const call = (tenant: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', headers: { 'x-tenant': tenant } }, (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () => resolve(JSON.parse(body).tenant));
        });
        req.on('error', reject);
        req.end();
      });
    const tenants = [tenantId('h1'), tenantId('h2'), tenantId('h3')];
    const calls = Array.from({ length: 30 }, (_, i) => tenants[i % 3] as string);
    const answers = await Promise.all(calls.map(call));
    server.close();
    expect(answers).toEqual(calls);
    for (const t of tenants) {
      const docs = await env.observer.db(t).collection('requests').find().toArray();
      expect(docs).toHaveLength(10);
      expect(docs.every((d) => d.seenAs === t)).toBe(true);
    }
  });
});

describe('pools', () => {
  test('the first operation of a client without credentials opens one connection, not a second one beside a connect check', async () => {
    const poly = env.make();
    const created: number[] = [];
    const t = tenantId('first');
    const db = poly.db(t);
    poly.client(t).on('connectionCreated', (e) => created.push(e.connectionId as number));
    await db.collection('c').findOne({});
    await expect.poll(() => poly.state).toBe('connected');
    expect(created).toHaveLength(1);
  });

  test('a dedicated pool closes after its idle ttl and reopens on the next use', async () => {
    const t = tenantId('ded');
    const poly = env.make({ dedicated: [{ tenants: t, maxConnections: 2, autoClose: true, ttlMS: 150 }] });
    const events: string[] = [];
    poly.on('poolCreated', (e) => events.push(`created ${e.poolKey}`));
    poly.on('poolClosed', (e) => events.push(`closed ${e.poolKey} ${e.reason}`));
    await poly.db(t).collection('c').insertOne({ n: 1 });
    expect(poly.route(t).poolKey).toBe(`dedicated:${t}`);
    await expect.poll(() => events, { timeout: 3000 }).toContain(`closed dedicated:${t} idle`);
    expect(await poly.db(t).collection('c').countDocuments()).toBe(1);
    // The pool is reopened, not replaced: handles given out before the close stay valid.
    expect(events.filter((e) => e.startsWith('created dedicated'))).toHaveLength(1);
  });

  test('stats report real connection numbers from the driver', async () => {
    const poly = env.make({ pool: { maxPoolSize: 3 } });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        poly
          .db(tenantId(`s${i}`))
          .collection('c')
          .findOne({}),
      ),
    );
    // PolyMongo's own connect check (a ping) may still hold a connection for a moment after the finds.
    await expect.poll(() => poly.stats().pools[0]?.connections.inUse).toBe(0);
    const pool = poly.stats().pools[0];
    expect(pool?.connections.open).toBeGreaterThanOrEqual(1);
    expect(pool?.connections.open).toBeLessThanOrEqual(3);
    expect(pool?.connections.available).toBe(pool?.connections.open);
  });

  test('stats count in-use and waiting operations while they run, without per-operation pool listeners', async () => {
    const poly = env.make({ pool: { maxPoolSize: 1 }, driverOptions: { appName: 'pmn-numbers' } });
    const t = tenantId('numbers');
    await poly.db(t).collection('c').insertOne({ a: 1 });
    expect(poly.client(t).listenerCount('connectionCheckedOut')).toBe(0);
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 3 },
      data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 300, appName: 'pmn-numbers' },
    });
    try {
      const reads = Array.from({ length: 3 }, () => poly.db(t).collection('c').findOne({}));
      await expect.poll(() => poly.stats().pools[0]?.connections).toMatchObject({ open: 1, inUse: 1, waiting: 2 });
      await Promise.all(reads);
      expect(poly.stats().pools[0]?.connections).toMatchObject({ inUse: 0, waiting: 0 });
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  test('ping and health report the state and a latency', async () => {
    const poly = env.make();
    expect(await poly.ping()).toBeGreaterThanOrEqual(0);
    const health = await poly.health();
    expect(health).toMatchObject({ ok: true, state: 'connected' });
    expect(health.latencyMS).toBeGreaterThanOrEqual(0);
  });

  test('coldStart: false connects at construction', async () => {
    const poly = env.make({ coldStart: false });
    await expect.poll(() => poly.state).toBe('connected');
  });

  test('slowOperationMS reports slow commands with tenant and command, never documents', async () => {
    const poly = env.make({ slowOperationMS: 0 });
    const t = tenantId('slow');
    const slow: Array<Record<string, unknown>> = [];
    poly.on('slowOperation', (op) => slow.push({ ...op }));
    await poly.db(t).collection('c').insertOne({ secret: 'do-not-log' });
    await expect.poll(() => slow.some((s) => s.command === 'insert')).toBe(true);
    expect(slow.find((s) => s.command === 'insert')).toMatchObject({ tenantId: t, dbName: t });
    expect(JSON.stringify(slow)).not.toContain('do-not-log');
    expect(poly.stats().operations.total).toBeGreaterThanOrEqual(1);
  });
});

describe('closing', () => {
  test('close lets an in-flight operation finish, then refuses new ones with CLIENT_CLOSED', async () => {
    const poly = env.make({ driverOptions: { appName: 'pmn-close' } });
    const t = tenantId('close');
    await poly.db(t).collection('c').insertOne({ a: 1 });
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 400, appName: 'pmn-close' },
    });
    try {
      const inFlight = poly.db(t).collection('c').findOne({});
      // The find holds a connection (blocked on the server) before close() is called.
      await expect.poll(() => poly.stats().pools[0]?.connections.inUse).toBe(1);
      const closing = poly.close({ timeoutMS: 5000 });
      expect(() => poly.db(t)).toThrow(expect.objectContaining({ code: 'CLIENT_CLOSED' }));
      await expect(inFlight).resolves.toMatchObject({ a: 1 });
      await closing;
      expect(poly.state).toBe('closed');
      await poly.close();
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  test('a bad URI fails at construction with CONFIG_INVALID', () => {
    expect(() => env.make({ uri: 'javascript:alert(1)' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
