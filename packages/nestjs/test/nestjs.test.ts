import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import {
  Body,
  Controller,
  type INestApplication,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createPolyMongo, type PolyMongo } from '@polymongo/native';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { InjectPolyMongo, PolyMongoModule, type PolyMongoModuleOptions, TenantMiddleware } from '../src/index.js';

let mongo: RunningMongo;
let observer: MongoClient;
const apps: INestApplication[] = [];
const run = Math.random().toString(36).slice(2, 8);

beforeAll(async () => {
  mongo = await startMongo({ replSet: true, quiet: true });
  observer = await new MongoClient(mongo.uri).connect();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await observer?.close();
  await mongo?.stop();
});

@Injectable()
class NotesService {
  constructor(@InjectPolyMongo() private readonly poly: PolyMongo) {}

  async add(text: string): Promise<{ db: string }> {
    await new Promise((r) => setImmediate(r));
    await this.poly.db().collection('notes').insertOne({ text });
    return { db: this.poly.db().databaseName };
  }
}

@Controller('notes')
class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Post()
  add(@Body() body: { text: string }) {
    return this.notes.add(body.text);
  }
}

async function start(root: ReturnType<typeof PolyMongoModule.forRoot>): Promise<{ url: string; app: INestApplication }> {
  @Module({ imports: [root], controllers: [NotesController], providers: [NotesService] })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      consumer.apply(TenantMiddleware).forRoutes('*');
    }
  }
  const app = await NestFactory.create(AppModule, { logger: false });
  apps.push(app);
  await app.listen(0, '127.0.0.1');
  return { url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, app };
}

const post = (url: string, tenant?: string) =>
  fetch(`${url}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(tenant ? { 'x-tenant': tenant } : {}) },
    body: JSON.stringify({ text: 'hi' }),
  });

const options = (): PolyMongoModuleOptions => ({ uri: mongo.uri, strictTenancy: true, logger: { level: 'silent' } });

test('forRoot: the injected client runs each request in its x-tenant database', async () => {
  const { url } = await start(PolyMongoModule.forRoot(options()));
  const tenant = `nest_${run}_a`;
  const res = await post(url, tenant);
  expect(res.status).toBe(201);
  expect(await res.json()).toEqual({ db: tenant });
  expect(await observer.db(tenant).collection('notes').countDocuments()).toBe(1);
});

test('the exception filter answers TENANT_REQUIRED and INVALID_TENANT with 400 JSON', async () => {
  const { url } = await start(PolyMongoModule.forRoot(options()));
  const missing = await post(url);
  expect(missing.status).toBe(400);
  expect(((await missing.json()) as { code: string }).code).toBe('TENANT_REQUIRED');
  const bad = await post(url, 'a/b');
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { code: string }).code).toBe('INVALID_TENANT');
});

test('forRootAsync with a factory, and the tenant from a function of the request', async () => {
  const { url } = await start(
    PolyMongoModule.forRootAsync({
      useFactory: async () => ({ ...options(), tenant: { from: (req) => String(req.headers['x-org'] ?? '') || undefined } }),
    }),
  );
  const tenant = `nest_${run}_f`;
  const res = await fetch(`${url}/notes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-org': tenant },
    body: '{"text":"x"}',
  });
  expect(await res.json()).toEqual({ db: tenant });
});

test('a client the module created is closed on application shutdown; one passed in is not', async () => {
  const { app } = await start(PolyMongoModule.forRoot(options()));
  const created = app.get<PolyMongo>(Symbol.for('polymongo:nestjs:client'));
  const mine = createPolyMongo(options() as Parameters<typeof createPolyMongo>[0]);
  const second = await start(PolyMongoModule.forRoot({ poly: mine }));
  await app.close();
  await second.app.close();
  apps.splice(0);
  expect(created.state).toBe('closed');
  expect(mine.state).not.toBe('closed');
  await mine.close();
});
