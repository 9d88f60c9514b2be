import { request } from 'node:http';
import { createPolyMongo, defineRepository, type PolyMongo } from '@polymongo/native';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { z } from 'zod';
import polymongo from '../src/index.js';

let mongo: RunningMongo;
let poly: PolyMongo;
let observer: MongoClient;
const apps: FastifyInstance[] = [];
const run = Math.random().toString(36).slice(2, 8);
const Notes = defineRepository({ collection: 'notes', schema: z.object({ text: z.string().min(1) }) });

beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
  poly = createPolyMongo({ uri: mongo.uri, strictTenancy: true, logger: { level: 'silent' } });
  observer = await new MongoClient(mongo.uri).connect();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await observer?.close();
  await poly?.forceClose();
  await mongo?.stop();
});

async function serve(options: Omit<Parameters<typeof polymongo>[1], 'poly'> = {}): Promise<string> {
  const app = Fastify();
  apps.push(app);
  await app.register(polymongo, { poly, ...options });
  app.post('/notes', async (req, reply) => {
    await new Promise((r) => setImmediate(r));
    const { insertedId } = await poly
      .tenant()
      .repo(Notes)
      .insertOne(req.body as { text: string });
    return reply.status(201).send({ id: String(insertedId), tenant: req.tenant, db: poly.db().databaseName });
  });
  app.get('/:tenant/count', async (req) => ({ tenant: req.tenant, count: await poly.db().collection('notes').countDocuments() }));
  app.get('/boom', async () => {
    throw new Error('secret mongodb://admin:hunter2@db');
  });
  return app.listen({ port: 0, host: '127.0.0.1' });
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

test('the tenant context survives body parsing and awaits: the write lands in the header tenant database only', async () => {
  const url = await serve();
  const tenant = `fst_${run}_a`;
  const res = await post(url, { text: 'hi' }, { 'x-tenant': tenant });
  expect(res.status).toBe(201);
  expect(await res.json()).toMatchObject({ tenant, db: tenant });
  expect(await observer.db(tenant).collection('notes').countDocuments()).toBe(1);
});

test('concurrent requests of different tenants never see each other', async () => {
  const url = await serve();
  const tenants = Array.from({ length: 8 }, (_, i) => `fst_${run}_c${i}`);
  const answers = await Promise.all(tenants.map((t) => post(url, { text: t }, { 'x-tenant': t }).then((r) => r.json())));
  expect(answers.map((a) => (a as { db: string }).db)).toEqual(tenants);
  for (const t of tenants)
    expect(
      await observer
        .db(t)
        .collection('notes')
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ text: t }]);
});

test('no tenant → 400 TENANT_REQUIRED; invalid id → 400 INVALID_TENANT with no database created', async () => {
  const url = await serve();
  const missing = await post(url, { text: 'x' });
  expect(missing.status).toBe(400);
  expect(((await missing.json()) as { code: string }).code).toBe('TENANT_REQUIRED');
  const bad = await post(url, { text: 'x' }, { 'x-tenant': 'has space' });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { code: string }).code).toBe('INVALID_TENANT');
  const { databases } = await observer.db('admin').admin().listDatabases({ nameOnly: true });
  expect(databases.map((d) => d.name)).not.toContain('has space');
});

test('validation failures are 422 with issues; other errors 500 without their message; bad JSON stays 400', async () => {
  const url = await serve();
  const invalid = await post(url, { text: '' }, { 'x-tenant': `fst_${run}_v` });
  expect(invalid.status).toBe(422);
  expect(((await invalid.json()) as { code: string }).code).toBe('VALIDATION_FAILED');
  const boom = await fetch(`${url}/boom`, { headers: { 'x-tenant': 'acme' } });
  expect(boom.status).toBe(500);
  const text = await boom.text();
  expect(JSON.parse(text)).toEqual({ code: 'INTERNAL_ERROR', message: 'Internal server error' });
  expect(text).not.toContain('hunter2');
  const badJson = await fetch(`${url}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-tenant': 'acme' },
    body: '{',
  });
  expect(badJson.status).toBe(400);
});

test('from: path and from: subdomain', async () => {
  const byPath = await serve({ from: 'path' });
  const res = await fetch(`${byPath}/fst_${run}_p/count`);
  expect(await res.json()).toEqual({ tenant: `fst_${run}_p`, count: 0 });
  const bySubdomain = await serve({ from: 'subdomain' });
  // fetch may not set Host; node:http does.
  const sub = await new Promise<string>((resolve, reject) => {
    const req = request(`${bySubdomain}/x/count`, { headers: { host: `fst_${run}_s.app.example.com` } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c)).on('end', () => resolve(text));
    });
    req.on('error', reject).end();
  });
  expect(JSON.parse(sub)).toEqual({ tenant: `fst_${run}_s`, count: 0 });
  const none = await fetch(`${bySubdomain}/x/count`);
  expect(none.status).toBe(400);
});

test('optional: a request naming no tenant goes on without one; one naming a tenant still runs in it', async () => {
  const url = await serve({ from: 'header', header: 'x-org', optional: true });
  // The plugin lets it through; poly.db() then refuses it (strictTenancy), not the plugin.
  const without = (await (await fetch(`${url}/any/count`)).json()) as { code: string; message: string };
  expect(without.code).toBe('TENANT_REQUIRED');
  expect(without.message).not.toContain('This request names no tenant');
  const tenant = `fst_${run}_o`;
  const named = await fetch(`${url}/any/count`, { headers: { 'x-org': tenant } });
  expect(await named.json()).toEqual({ tenant, count: 0 });
});

test('TENANT_REQUIRED says which header to send', async () => {
  const url = await serve({ header: 'x-org' });
  const res = await fetch(`${url}/any/count`);
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({ code: 'TENANT_REQUIRED', message: expect.stringContaining('send the "x-org" header') });
});
