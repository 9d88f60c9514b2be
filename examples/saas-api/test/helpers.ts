import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { afterAll, beforeAll } from 'vitest';
import { createDemo, type Demo, type DemoOptions } from '../src/app.js';

/** Starts the demo API on a free port over the test server, with three tenants registered. */
export function useDemo(options: Omit<DemoOptions, 'uri'> = {}) {
  const env = {} as { mongo: RunningMongo; demo: Demo; server: Server; base: string; tenants: string[] };
  beforeAll(async () => {
    env.mongo = await startMongo({ quiet: true });
    env.demo = await createDemo({ uri: env.mongo.uri, logLevel: 'silent', ...options });
    const suffix = Math.random().toString(36).slice(2, 8);
    env.tenants = [`acme-${suffix}`, `globex-${suffix}`, `initech-${suffix}`];
    for (const t of env.tenants) await env.demo.registerTenant(t);
    env.server = env.demo.app.listen(0, '127.0.0.1');
    await new Promise((r) => env.server.once('listening', r));
    env.base = `http://127.0.0.1:${(env.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    env.server?.closeAllConnections();
    await new Promise((r) => env.server?.close(r));
    await env.demo?.close();
    await env.mongo?.stop();
  });
  return env;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
