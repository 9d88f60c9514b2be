import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningMongo, startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll } from 'vitest';
import { run } from '../src/index.js';

/** A server and an observer client for the file. */
export function useServer(): { mongo: RunningMongo; observer: MongoClient } {
  const env = {} as { mongo: RunningMongo; observer: MongoClient };
  beforeAll(async () => {
    env.mongo = await startMongo({ replSet: true, quiet: true });
    env.observer = await new MongoClient(env.mongo.uri).connect();
  });
  afterAll(async () => {
    await env.observer?.close();
    await env.mongo?.stop();
  });
  return env;
}

export const unique = (label: string) => `${label}${randomBytes(3).toString('hex')}`;

/** Runs the CLI in-process; returns exit code and what it printed. `tty` makes stderr a terminal (progress bars). */
export async function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; tty?: boolean } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: options.tty === true },
    stdin: process.stdin,
    env: { ...options.env },
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'pm-cli-')),
  });
  return { code, stdout, stderr };
}

/** A fresh directory holding one file (a config). */
export function configDir(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
  writeFileSync(join(dir, name), text);
  return dir;
}

/** Tenant databases `${prefix}${i}`, each with one order. */
export async function seed(observer: MongoClient, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  await Promise.all(ids.map((id) => observer.db(id).collection('orders').insertOne({ total: 1 })));
  return ids;
}
