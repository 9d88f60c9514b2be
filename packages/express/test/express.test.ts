import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PolyMongoError, TenantRequiredError } from '@polymongo/core';
import { createPolyMongo, defineRepository, type PolyMongo } from '@polymongo/native';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import express5 from 'express';
import express4 from 'express4';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { errorHandler, tenantMiddleware } from '../src/index.js';

let mongo: RunningMongo;
let poly: PolyMongo;
const servers: Server[] = [];
beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
  poly = createPolyMongo({ uri: mongo.uri, strictTenancy: true, logger: { level: 'silent' } });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(async () => {
  await poly?.forceClose();
  await mongo?.stop();
});

const Notes = defineRepository({ collection: 'notes', schema: z.object({ text: z.string().min(1) }) });
const run = Math.random().toString(36).slice(2, 8);

type ExpressFactory = typeof express5;
type Body = { code: string; message: string; issues: Array<{ path: string[] }>; tenant: string; db: string };
async function app(express: ExpressFactory, options: Parameters<typeof tenantMiddleware>[1] = {}): Promise<string> {
  const a = express();
  a.use(express.json());
  a.use(tenantMiddleware(poly, options));
  a.post('/notes', async (req, res, next) => {
    try {
      // No tenant argument anywhere: it comes from the request through runWithTenant.
      await new Promise((r) => setImmediate(r));
      const { insertedId } = await poly.tenant().repo(Notes).insertOne(req.body);
      res.status(201).json({ id: String(insertedId), tenant: req.tenant, db: poly.db().databaseName });
    } catch (error) {
      next(error);
    }
  });
  a.get('/:tenant/notes', async (req, res, next) => {
    try {
      res.json({ count: await poly.db().collection('notes').countDocuments(), tenant: req.tenant });
    } catch (error) {
      next(error);
    }
  });
  a.get('/boom', () => {
    throw new Error('secret internals mongodb://user:pw@host');
  });
  a.get('/polyerror', () => {
    throw new PolyMongoError('TENANT_OVERLOADED' as never, 'Tenant acme has too many operations queued; retry later.');
  });
  a.use(
    errorHandler({ map: (e) => ((e as { code?: unknown }).code === 11000 ? { status: 409, body: { code: 'DUPLICATE' } } : undefined) }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = a.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

for (const [label, express] of [
  ['Express 4', express4 as unknown as ExpressFactory],
  ['Express 5', express5],
] as const) {
  describe(label, () => {
    const t = (suffix: string) => `exp${label.slice(-1)}_${run}_${suffix}`;
    test('a request with x-tenant runs in that tenant: its write lands in the tenant database only', async () => {
      const url = await app(express);
      const a = t('a');
      const res = await fetch(`${url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant': a },
        body: JSON.stringify({ text: 'hello' }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as Body;
      expect(body).toMatchObject({ tenant: a, db: a });
      const other = poly.db(t('b'));
      expect(await other.collection('notes').countDocuments()).toBe(0);
      expect(await poly.db(a).collection('notes').countDocuments()).toBe(1);
    });

    test('a request without a tenant gets 400 TENANT_REQUIRED as JSON, without a stack trace', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
      expect(res.status).toBe(400);
      const body = (await res.json()) as Body;
      expect(body.code).toBe('TENANT_REQUIRED');
      expect(body.message).toContain('x-tenant');
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts|stack/);
    });

    test('an invalid tenant id gets 400 INVALID_TENANT before any database is created', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant': 'bad.tenant' },
        body: '{"text":"x"}',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Body).code).toBe('INVALID_TENANT');
      const { databases } = await poly.client('acme').db('admin').admin().listDatabases({ nameOnly: true });
      expect(databases.map((d) => d.name)).not.toContain('bad.tenant');
    });

    test('a document the repository refuses gets 422 VALIDATION_FAILED with the issues', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant': t('v') },
        body: JSON.stringify({ text: '' }),
      });
      expect(res.status).toBe(422);
      const body = (await res.json()) as Body;
      expect(body.code).toBe('VALIDATION_FAILED');
      expect(body.issues[0]?.path).toEqual(['text']);
    });

    test('the tenant can come from the first path segment', async () => {
      const url = await app(express, { from: 'path' });
      const res = await fetch(`${url}/${t('p')}/notes`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ count: 0, tenant: t('p') });
    });

    test('the tenant can come from a function, e.g. a verified claim', async () => {
      const url = await app(express, { from: (req) => (req.headers.authorization === 'Bearer ok' ? t('f') : undefined) });
      const ok = await fetch(`${url}/x/notes`, { headers: { authorization: 'Bearer ok' } });
      expect(await ok.json()).toEqual({ count: 0, tenant: t('f') });
      const missing = await fetch(`${url}/x/notes`);
      expect(missing.status).toBe(400);
    });

    test('errors that are not PolyMongo errors are 500 without their message', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/boom`, { headers: { 'x-tenant': 'acme' } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
      expect(text).not.toContain('pw');
    });

    test('a body that is not JSON is 400 BAD_JSON, not 500', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tenant': 'acme' },
        body: '{',
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as Body).code).toBe('BAD_JSON');
    });

    test('overload errors are 429 with Retry-After', async () => {
      const url = await app(express);
      const res = await fetch(`${url}/polyerror`, { headers: { 'x-tenant': 'acme' } });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as Body).code).toBe('TENANT_OVERLOADED');
    });
  });
}

test("map answers the application's own errors first", async () => {
  const a = express5();
  a.get('/dup', () => {
    throw Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
  });
  a.use(
    errorHandler({ map: (e) => ((e as { code?: unknown }).code === 11000 ? { status: 409, body: { code: 'DUPLICATE' } } : undefined) }),
  );
  const server = await new Promise<Server>((resolve) => {
    const s = a.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/dup`);
  expect(res.status).toBe(409);
  expect(await res.json()).toEqual({ code: 'DUPLICATE' });
});

test('optional: a request without a tenant goes on without context', async () => {
  const a = express5();
  a.use(tenantMiddleware(poly, { optional: true }));
  a.get('/', (req, res) => res.json({ tenant: req.tenant ?? null }));
  const server = await new Promise<Server>((resolve) => {
    const s = a.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  expect(await res.json()).toEqual({ tenant: null });
  expect(new TenantRequiredError()).toBeInstanceOf(PolyMongoError);
});
