import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@polymongo/core';
import { createPolyMongo, defineRepository, type PolyMongo } from '@polymongo/native';
import { EmbeddedMongo, type RunningMongo, startMongo } from '@polymongo/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createMetrics, dashboardHandler, type Handler, healthHandler, readyHandler } from '../src/index.js';

let mongo: RunningMongo;
const cleanup: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  mongo = await startMongo({ quiet: true });
});
afterEach(async () => {
  await Promise.all(cleanup.splice(0).map((fn) => fn()));
});
afterAll(async () => {
  await mongo?.stop();
});

function client(): PolyMongo {
  const poly = createPolyMongo({ uri: mongo.uri, monitorOperations: true, logger: { level: 'silent' }, topTenantsTracked: 3 });
  cleanup.push(() => poly.forceClose());
  return poly;
}

/** Reads a server-sent event stream until `done(text)`; a stream that ends first fails at once instead of spinning. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  while (!done(text)) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the event stream ended before the expected events; got:\n${text}`);
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text;
}

async function serve(handler: Handler): Promise<string> {
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => server.close(r)));
  server.closeAllConnections?.bind(server);
  cleanup.unshift(async () => server.closeAllConnections());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('Prometheus metrics', () => {
  test('expose pool connections, operations by command, durations and capped per-tenant series', async () => {
    const poly = client();
    const metrics = createMetrics(poly, { topTenants: 2 });
    cleanup.push(async () => metrics.stop());
    const url = await serve(metrics.handler);
    for (const t of ['pmo_a', 'pmo_a', 'pmo_a', 'pmo_b', 'pmo_b', 'pmo_c', 'pmo_d']) await poly.db(t).collection('c').findOne({});
    await poly.db('pmo_a').collection('c').insertOne({ x: 1 });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/polymongo_pool_connections\{pool="cluster:default",state="open"\} [1-9]/);
    expect(text).toMatch(/polymongo_operations_total\{command="find"\} 7/);
    expect(text).toMatch(/polymongo_operations_total\{command="insert"\} 1/);
    expect(text).toMatch(/polymongo_operation_duration_seconds_count\{command="find"\} 7/);
    expect(text).toMatch(/polymongo_tenant_operations\{tenant="pmo_a"\} 4/);
    expect(text).toMatch(/polymongo_tenant_operations\{tenant="pmo_b"\} 2/);
    expect(text).toMatch(/polymongo_tenant_operations\{tenant="other"\} 2/);
    expect(text).toMatch(/polymongo_client_state\{state="connected"\} 1/);
    expect(text).toContain('polymongo_cached_tenants 4');
    expect(text).not.toMatch(/tenant="pmo_c"/);
  });

  test('expose per-tenant admission numbers when quotas are configured', async () => {
    const poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' }, quotas: { opsPerSecond: 0.001, burst: 1 } });
    cleanup.push(() => poly.forceClose());
    const metrics = createMetrics(poly);
    cleanup.push(async () => metrics.stop());
    const url = await serve(metrics.handler);
    await poly.db('pmo_q').collection('c').findOne({});
    await expect(poly.db('pmo_q').collection('c').findOne({})).rejects.toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/polymongo_tenant_admission\{tenant="pmo_q",state="throttled"\} 1/);
    expect(text).toMatch(/polymongo_tenant_admission\{tenant="other",state="in_flight"\} 0/);
  });

  test('admission series stay bounded however many tenants are refused: the busiest by name, the rest in other', async () => {
    const poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' }, quotas: { opsPerSecond: 0.001, burst: 1 } });
    cleanup.push(() => poly.forceClose());
    const metrics = createMetrics(poly, { topTenants: 3 });
    cleanup.push(async () => metrics.stop());
    const url = await serve(metrics.handler);
    const tenants = Array.from({ length: 25 }, (_, i) => `pmo_many_${i}`);
    // Each tenant's only token is spent on the first operation; the next two are throttled.
    for (const t of tenants) {
      await poly.db(t).collection('c').findOne({});
      for (let i = 0; i < 2; i++)
        await expect(poly.db(t).collection('c').findOne({})).rejects.toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    }
    const text = await (await fetch(`${url}/metrics`)).text();
    const throttled = [...text.matchAll(/polymongo_tenant_admission\{tenant="([^"]+)",state="throttled"\} (\d+)/g)];
    const labels = new Set(throttled.map((m) => m[1]));
    expect(labels.size).toBeLessThanOrEqual(4);
    expect(labels.has('other')).toBe(true);
    // Nothing is lost by the bound: the series add up to every refusal.
    expect(throttled.reduce((n, m) => n + Number(m[2]), 0)).toBe(50);
  });

  test('failed operations count as errors', async () => {
    const poly = client();
    const metrics = createMetrics(poly);
    cleanup.push(async () => metrics.stop());
    await poly
      .db('pmo_err')
      .collection('c')
      .updateOne({}, { $bogus: 1 } as never)
      .catch(() => undefined);
    const text = await (await fetch(`${await serve(metrics.handler)}/metrics`)).text();
    expect(text).toMatch(/polymongo_operation_errors_total\{command="update"\} 1/);
  });
});

describe('change stream metrics', () => {
  test('changes no tenant owns and stream errors are exported', async () => {
    const poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' }, tenantDb: (id: string) => `fnm_${id}` });
    cleanup.push(() => poly.forceClose());
    poly.on('error', () => {});
    const metrics = createMetrics(poly);
    cleanup.push(async () => metrics.stop());
    const fan = poly.watchAll({ maxAwaitTimeMS: 50, collection: 'c' });
    cleanup.unshift(() => fan.close());
    await fan.ready;
    await expect
      .poll(
        async () => {
          await poly.db('pmo_fn').collection('c').insertOne({ x: 1 });
          return poly.stats().streams.unrouted;
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);
    const text = await (await fetch(`${await serve(metrics.handler)}/metrics`)).text();
    expect(text).toMatch(/polymongo_change_stream_unrouted_changes [1-9]/);
    expect(text).toMatch(/polymongo_change_stream_errors 0/);
  });
});

describe('health and readiness', () => {
  test('200 with state and latency when connected; 503 once closed', async () => {
    const poly = client();
    const health = await serve(healthHandler(poly));
    const ready = await serve(readyHandler(poly));
    const ok = await fetch(health);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', state: 'connected' });
    expect((await fetch(ready)).status).toBe(200);
    await poly.close();
    const down = await fetch(health);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'unavailable', state: 'closed' });
    expect((await fetch(ready)).status).toBe(503);
  });

  test('/health and /ready answer 503 within their timeout while the server is stopped, and 200 once it is back', async () => {
    // A server of its own to stop and start on the same port (the embedded server's control surface).
    const s = await new EmbeddedMongo().start();
    cleanup.push(() => s.stop());
    // Server selection would wait 30 s; the handlers' 300 ms timeout must answer first.
    const poly = createPolyMongo({
      uri: s.uri,
      logger: { level: 'silent' },
      driverOptions: { heartbeatFrequencyMS: 200, serverSelectionTimeoutMS: 30_000 },
    });
    cleanup.unshift(() => poly.forceClose());
    const health = await serve(healthHandler(poly, { timeoutMS: 300 }));
    const ready = await serve(readyHandler(poly, { timeoutMS: 300 }));
    expect((await fetch(health)).status).toBe(200);
    expect((await fetch(ready)).status).toBe(200);

    await s.stop();
    const down = await fetch(health);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; state: string; error?: { message: string } };
    expect(body.status).toBe('unavailable');
    expect(body.state).not.toBe('connected');
    expect(body.error?.message).toBeTruthy();
    const notReady = await fetch(ready);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { state: string }).state).not.toBe('connected');

    await s.start();
    await expect.poll(async () => (await fetch(health)).status, { timeout: 10_000 }).toBe(200);
    expect((await fetch(ready)).status).toBe(200);
  });

  test('503 when the server cannot be reached', async () => {
    const poly = createPolyMongo({
      uri: 'mongodb://127.0.0.1:9/',
      retry: { attempts: 1 },
      driverOptions: { serverSelectionTimeoutMS: 300 },
      logger: { level: 'silent' },
    });
    cleanup.push(() => poly.forceClose());
    const res = await fetch(await serve(healthHandler(poly)));
    expect(res.status).toBe(503);
  });
});

describe('dashboard', () => {
  test('serves a self-contained page that loads nothing from outside', async () => {
    const poly = client();
    const url = await serve(dashboardHandler(poly, { title: 'Test <app>', public: true }));
    const res = await fetch(`${url}/dashboard`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Test &#60;app&#62;');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="(?!data:)|https?:\/\//);
  });

  test('streams a snapshot about every interval over SSE, with operations and pools', async () => {
    const poly = client();
    const dashboard = dashboardHandler(poly, { intervalMS: 100, public: true });
    cleanup.push(async () => dashboard.stop());
    const url = await serve(dashboard);
    await poly.db('pmo_dash').collection('c').findOne({});
    const controller = new AbortController();
    const res = await fetch(`${url}/dashboard/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const text = await readUntil(reader, (t) => (t.match(/event: stats/g) ?? []).length >= 3);
    controller.abort();
    const snapshots = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: stats'))
      .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)));
    expect(snapshots[0]).toMatchObject({
      state: 'connected',
      totalOps: 1,
      topTenants: [{ tenant: 'pmo_dash', ops: 1, serverErrors: 0, refusals: 0 }],
    });
    expect(snapshots[0].pools[0]).toMatchObject({ key: 'cluster:default', state: 'connected' });
    expect(snapshots[0].pools[0].open).toBeGreaterThanOrEqual(1);
  });

  test('is closed without authorize (403), and authorize decides per request', async () => {
    const poly = client();
    const closed = dashboardHandler(poly);
    cleanup.push(async () => closed.stop());
    const closedUrl = await serve(closed);
    const refused = await fetch(`${closedUrl}/dashboard`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('DASHBOARD_FORBIDDEN');
    const guarded = dashboardHandler(poly, { authorize: async (req) => req.headers.authorization === 'Bearer s3cret' });
    cleanup.push(async () => guarded.stop());
    const url = await serve(guarded);
    expect((await fetch(`${url}/dashboard`)).status).toBe(403);
    expect((await fetch(`${url}/dashboard/events`)).status).toBe(403);
    expect((await fetch(`${url}/dashboard`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });

  test('a page opened later gets the history it missed, and a tenant drill-down with errors by code', async () => {
    const poly = client();
    const dashboard = dashboardHandler(poly, { intervalMS: 50, public: true });
    cleanup.push(async () => dashboard.stop());
    const url = await serve(dashboard);
    const coll = poly.db('pmo_drill').collection('c');
    await coll.insertOne({ _id: 1 } as never);
    await coll.insertOne({ _id: 1 } as never).catch(() => undefined); // E11000: a server error
    await coll.findOne({});
    // History accumulates server-side while no page is open.
    await expect
      .poll(async () => {
        const controller = new AbortController();
        const res = await fetch(`${url}/dashboard/events`, { signal: controller.signal });
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        const text = await readUntil(reader, (t) => t.includes('event: stats'));
        controller.abort();
        const block = text.split('\n\n').find((b) => b.startsWith('event: history')) as string;
        const history = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Array<{
          opsPerSec: number;
          byCommand: Record<string, unknown>;
        }>;
        return history.some((p) => p.opsPerSec > 0 && 'insert' in p.byCommand);
      })
      .toBe(true);
    const detail = (await (await fetch(`${url}/dashboard/tenant/pmo_drill`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({ tenant: 'pmo_drill', ops: 3, serverErrors: 1, refusals: 0, errorsByCode: { '11000': 1 } });
    expect((await fetch(`${url}/dashboard/tenant/nobody`)).status).toBe(404);
  });

  test('a repository operation refused by quotas counts as one refusal in the drill-down', async () => {
    const poly = createPolyMongo({ uri: mongo.uri, logger: { level: 'silent' }, quotas: { opsPerSecond: 0.001, burst: 1 } });
    cleanup.push(() => poly.forceClose());
    const dashboard = dashboardHandler(poly, { public: true });
    cleanup.push(async () => dashboard.stop());
    const url = await serve(dashboard);
    const Notes = defineRepository({ collection: 'notes' });
    const notes = poly.tenant('pmo_refused').repo(Notes);
    await notes.findOne({});
    await expect(notes.findOne({})).rejects.toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED' });
    const detail = (await (await fetch(`${url}/dashboard/tenant/pmo_refused`)).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({ refusals: 1, serverErrors: 0, errorsByCode: { TENANT_QUOTA_EXCEEDED: 1 } });
  });

  test('bad options fail at once with CONFIG_INVALID, naming each bad field and what to pass', () => {
    const poly = client();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ intervalMS: 0 }, 'dashboard.intervalMS: must be a whole number of at least 10'],
      [{ intervalMS: 2.5 }, 'dashboard.intervalMS'],
      [{ historySize: -1 }, 'dashboard.historySize: must be a whole number of at least 1'],
      [{ maxTenants: '10' }, 'dashboard.maxTenants'],
      [{ title: 5 }, 'dashboard.title: must be a string'],
      [{ authorize: 'admin' }, 'dashboard.authorize: must be a function'],
      [{ public: 'yes' }, 'dashboard.public: must be true or false'],
      [{ authorise: () => true }, 'dashboard.authorise: is not a dashboard option; known: title, intervalMS'],
    ];
    for (const [options, message] of cases) {
      const error = (() => {
        try {
          dashboardHandler(poly, options as never);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(options)).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(message) });
    }
    expect(() => dashboardHandler({} as never, { public: true })).toThrow(/poly: must be a PolyMongo client/);
    expect(() => dashboardHandler(poly, { intervalMS: -5, maxTenants: 0 } as never)).toThrow(
      /dashboard\.intervalMS[\s\S]*dashboard\.maxTenants/,
    );
  });
});
