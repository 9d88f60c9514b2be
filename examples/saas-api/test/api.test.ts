import { describe, expect, test } from 'vitest';
import { postJson, useDemo } from './helpers.js';

const env = useDemo();

describe('tenant API', () => {
  test('events go through the validated native repository, per tenant', async () => {
    const [a, b] = env.tenants as [string, string];
    const created = await postJson(`${env.base}/t/${a}/events`, { type: 'signup', payload: { plan: 'pro' } });
    expect(created.status).toBe(201);
    expect(created.body.tenant).toBe(a);
    const listA = (await (await fetch(`${env.base}/t/${a}/events`)).json()) as Array<{ type: string }>;
    const listB = (await (await fetch(`${env.base}/t/${b}/events`)).json()) as Array<{ type: string }>;
    expect(listA.map((e) => e.type)).toEqual(['signup']);
    expect(listB).toEqual([]);
  });

  test('the x-tenant header reaches the same tenant as the /t/ prefix', async () => {
    const c = env.tenants[2] as string;
    await postJson(`${env.base}/api/events`, { type: 'via-header' }, { 'x-tenant': c });
    const list = (await (await fetch(`${env.base}/t/${c}/events`)).json()) as Array<{ type: string }>;
    expect(list.map((e) => e.type)).toContain('via-header');
  });

  test('users go through the wrapped Mongoose model and stay in their tenant', async () => {
    const [a, b] = env.tenants as [string, string];
    const created = await postJson(`${env.base}/t/${a}/users`, { name: 'Ada', email: 'ADA@example.com' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Ada', email: 'ada@example.com', role: 'member' });
    const usersA = (await (await fetch(`${env.base}/api/users`, { headers: { 'x-tenant': a } })).json()) as Array<{ name: string }>;
    const usersB = (await (await fetch(`${env.base}/t/${b}/users`)).json()) as unknown[];
    expect(usersA.map((u) => u.name)).toEqual(['Ada']);
    expect(usersB).toEqual([]);
    expect(env.demo.poly.stats().pools).toHaveLength(1);
  });

  test('a per-tenant change stream over SSE sees that tenant only', async () => {
    const [a, b] = env.tenants as [string, string];
    const controller = new AbortController();
    const res = await fetch(`${env.base}/t/${a}/changes`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    // The first line (': watching') is sent once the change stream is open on the server.
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(': watching');
    await postJson(`${env.base}/t/${b}/events`, { type: 'elsewhere' });
    await postJson(`${env.base}/t/${a}/events`, { type: 'watched' });
    while (!text.includes('event: change')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the change stream ended before a change arrived; got:\n${text}`);
      text += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    const data = JSON.parse(
      text
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6) ?? '{}',
    );
    expect(data).toMatchObject({ operationType: 'insert', collection: 'events', fullDocument: { type: 'watched' } });
    expect(text).not.toContain('elsewhere');
  });
});

describe('bad input is answered, not crashed on', () => {
  test('an invalid tenant id is a 400 with INVALID_TENANT, and creates nothing', async () => {
    const databases = async () =>
      (await env.demo.poly.client('saas_control').db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    const before = await databases();
    for (const bad of ['a.b', '$admin', 'x'.repeat(80), 'admin', encodeURIComponent('../../etc')]) {
      const res = await fetch(`${env.base}/t/${bad}/events`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_TENANT');
    }
    const bad = await postJson(`${env.base}/tenants`, { id: 'evil.tenant' });
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_TENANT' } });
    expect(await databases()).toEqual(before);
  });

  test('a missing tenant is 400 TENANT_REQUIRED; an unregistered one is 400 UNKNOWN_TENANT', async () => {
    const missing = await fetch(`${env.base}/api/events`);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe('TENANT_REQUIRED');
    const unknown = await fetch(`${env.base}/t/never-registered/events`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { code: string }).code).toBe('UNKNOWN_TENANT');
    expect(await env.demo.poly.tenantExists('never-registered')).toBe(false);
  });

  test('a document that fails validation is a 422 with the issues, and nothing is written', async () => {
    const t = env.tenants[1] as string;
    const before = ((await (await fetch(`${env.base}/t/${t}/events`)).json()) as unknown[]).length;
    const res = await postJson(`${env.base}/t/${t}/events`, { type: '', payload: 'not an object' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect((res.body.issues as Array<{ path: string[] }>).map((i) => i.path.join('.')).sort()).toEqual(['payload', 'type']);
    const user = await postJson(`${env.base}/t/${t}/users`, { name: 'No Email' });
    expect(user.status).toBe(422);
    expect(((await (await fetch(`${env.base}/t/${t}/events`)).json()) as unknown[]).length).toBe(before);
  });

  test('malformed JSON is a 400; an unknown path a 404', async () => {
    const res = await fetch(`${env.base}/t/${env.tenants[0]}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    expect(res.status).toBe(400);
    expect((await fetch(`${env.base}/nope`)).status).toBe(404);
  });
});

describe('operations endpoints', () => {
  test('/health and /ready are 200 with state and latency', async () => {
    for (const path of ['/health', '/ready']) {
      const res = await fetch(`${env.base}${path}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { state: string; latencyMS: number };
      expect(body.state).toBe('connected');
      expect(body.latencyMS).toBeGreaterThanOrEqual(0);
    }
  });

  test('/metrics serves polymongo_ metrics that count the API traffic', async () => {
    await fetch(`${env.base}/t/${env.tenants[0]}/events`);
    const text = await (await fetch(`${env.base}/metrics`)).text();
    expect(text).toMatch(/polymongo_pool_connections\{pool="cluster:default",state="open"\} [1-9]/);
    expect(text).toMatch(/polymongo_operations_total\{command="find"\} [1-9]/);
    expect(text).toMatch(new RegExp(`polymongo_tenant_operations\\{tenant="${env.tenants[0]}"\\} [1-9]`));
  });

  test('/dashboard serves the page and its event stream', async () => {
    const page = await fetch(`${env.base}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('id="ops-total"');
    const controller = new AbortController();
    const events = await fetch(`${env.base}/dashboard/events`, { signal: controller.signal });
    const chunk = new TextDecoder().decode((await (events.body as ReadableStream<Uint8Array>).getReader().read()).value);
    controller.abort();
    expect(chunk).toContain('event: stats');
  });
});
