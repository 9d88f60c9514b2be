import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFleet, defineMigration, MIGRATIONS_COLLECTION } from '../src/index.js';
import { bundleRunner } from './fixtures/bundleRunner.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();
// The runner processes run fixtures/migrateRunner.mjs bundled with the current sources of every @polymongo package
// (never dist/, which may be stale or missing); a bundling error fails the file.
let runner: string;
beforeAll(async () => {
  runner = await bundleRunner();
});
afterAll(async () => {
  if (runner) await rm(dirname(runner), { recursive: true, force: true });
});

/** Starts a runner process; `lines` collects what it prints. */
function startRunner(tenants: string[], hang: string[], leaseMS: number): { child: ChildProcess; lines: string[] } {
  const child = spawn(
    process.execPath,
    [runner, env.mongo.uri, tenants.join(','), hang.length > 0 ? hang.join(',') : '-', String(leaseMS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => lines.push(line));
  return { child, lines };
}

async function counterOf(tenant: string): Promise<number> {
  const doc = await env.observer
    .db(tenant)
    .collection('counters')
    .findOne({ _id: 'kill-1' as never });
  return (doc?.n as number | undefined) ?? 0;
}

async function recordedOf(tenant: string): Promise<string[]> {
  // One document per applied migration (`{ _id: id, appliedAt }`); the lease document is not one.
  const docs = await env.observer.db(tenant).collection(MIGRATIONS_COLLECTION).find({}).toArray();
  return docs.map((d) => String(d._id)).filter((id) => id !== '__lease__');
}

/** The same counter migration as the runner process's, for the in-process rerun. */
const counter = defineMigration({
  id: 'kill-1',
  up: ({ db, session }) => db.collection('counters').updateOne({ _id: 'kill-1' as never }, { $inc: { n: 1 } }, { upsert: true, session }),
});

describe('migrations across processes', () => {
  test('a runner SIGKILLed inside up() leaves each tenant migrated and recorded, or untouched; a rerun applies exactly once', async () => {
    const ids = await seedTenants(env.observer, unique('kill'), 10);
    // Four workers: tenants 1, 3, 5, 7 hang inside up(); 0, 2, 4, 6 finish first; 8 and 9 never start.
    const hang = [1, 3, 5, 7].map((i) => ids[i] as string);
    const { child, lines } = startRunner(ids, hang, 500);
    await expect.poll(() => hang.every((t) => lines.includes(`inside ${t}`)), { timeout: 60_000, interval: 50 }).toBe(true);
    child.kill('SIGKILL');
    await once(child, 'exit');

    const done = new Set([0, 2, 4, 6].map((i) => ids[i] as string));
    for (const t of ids) {
      // Migrated and recorded, or untouched: never one without the other.
      expect({ t, n: await counterOf(t), recorded: await recordedOf(t) }).toEqual(
        done.has(t) ? { t, n: 1, recorded: ['kill-1'] } : { t, n: 0, recorded: [] },
      );
    }

    // mongod keeps a dead client's open transaction until transactionLifetimeLimitSeconds (60 s by default), and its
    // uncommitted writes block others meanwhile; an operator ends such sessions at once with killAllSessions.
    await env.observer.db('admin').command({ killAllSessions: [] });
    // The dead runner's leases (500 ms) expire; the rerun takes them over and finishes the fleet.
    const rerun = await createFleet(env.make()).migrate({ migrations: [counter], tenants: ids, lockWaitMS: 30_000 });
    expect(rerun.failed).toEqual([]);
    expect(rerun.applied.map((a) => a.tenant).sort()).toEqual(ids.filter((t) => !done.has(t)).sort());
    for (const t of ids) {
      expect(await counterOf(t)).toBe(1);
      expect(await recordedOf(t)).toEqual(['kill-1']);
    }
  });

  test('two runner processes at once apply the counter migration exactly once per tenant', async () => {
    const ids = await seedTenants(env.observer, unique('procs'), 12);
    const runners = [startRunner(ids, [], 5_000), startRunner(ids, [], 5_000)];
    await Promise.all(runners.map(({ child }) => once(child, 'exit')));
    const results = runners.map(({ lines }) => JSON.parse(lines.at(-1) as string) as { applied: unknown[]; failed: unknown[] });
    expect(results.flatMap((r) => r.failed)).toEqual([]);
    expect(results.reduce((n, r) => n + r.applied.length, 0)).toBe(ids.length);
    for (const t of ids) {
      expect(await counterOf(t)).toBe(1);
      expect(await recordedOf(t)).toEqual(['kill-1']);
    }
  });
});
