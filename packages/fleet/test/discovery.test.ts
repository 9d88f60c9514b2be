import { InvalidTenantError } from '@polymongo/native';
import { startMongo } from '@polymongo/testkit';
import { MongoClient } from 'mongodb';
import { describe, expect, test, vi } from 'vitest';
import { createFleet, FleetSpecError, fileCheckpoint, type SkippedDatabase } from '../src/index.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out;
}

/** A logger (the LoggerLike shape PolyMongo takes) that keeps every line. */
function captureLogs() {
  const lines: Array<{ level: string; obj: object; msg: string | undefined }> = [];
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj, msg });
  };
  const logger = {
    child: () => logger,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { lines, logger };
}

describe('discovery', () => {
  test('listDatabases discovery yields prefixed tenants only, never other apps or system databases', async () => {
    const prefix = unique('pfx');
    const ids = ['acme', 'globex', 'initech'];
    await Promise.all(ids.map((id) => env.observer.db(`${prefix}_${id}`).collection('c').insertOne({ x: 1 })));
    await env.observer.db(unique('otherapp')).collection('c').insertOne({ x: 1 });
    const poly = env.make({ tenantDb: { prefix: `${prefix}_` } });
    const found = await collect(createFleet(poly).tenants());
    expect(found.sort()).toEqual(ids);
  });

  test('identity naming yields every non-system database', async () => {
    const prefix = unique('idn');
    const ids = await seedTenants(env.observer, prefix, 3);
    const found = await collect(createFleet(env.make()).tenants());
    expect(found.filter((id) => id.startsWith(prefix)).sort()).toEqual(ids);
    expect(found).not.toContain('admin');
    expect(found).not.toContain('local');
    expect(found).not.toContain('config');
  });

  test('discovery works under strictTenancy, where the client has no default tenant', async () => {
    const prefix = unique('strict');
    const ids = await seedTenants(env.observer, prefix, 2);
    const found = await collect(createFleet(env.make({ strictTenancy: true })).tenants());
    expect(found.filter((id) => id.startsWith(prefix)).sort()).toEqual(ids);
  });

  test('listDatabases discovery covers every cluster and yields each tenant where it is placed, once', async () => {
    const other = await startMongo({ quiet: true });
    const otherClient = await new MongoClient(other.uri).connect();
    try {
      const prefix = unique('mc');
      const [home, away, moved] = [`${prefix}home`, `${prefix}away`, `${prefix}moved`];
      await env.observer.db(home).collection('c').insertOne({ x: 1 });
      await otherClient.db(away).collection('c').insertOne({ x: 1 });
      // `moved` now lives on the second cluster; a stale copy is left on the default one.
      await otherClient.db(moved).collection('c').insertOne({ x: 1 });
      await env.observer.db(moved).collection('c').insertOne({ stale: true });
      const poly = env.make({ clusters: { eu: { uri: other.uri } }, routing: { tenants: { [away]: 'eu', [moved]: 'eu' } } });
      const fleet = createFleet(poly);
      const skips: SkippedDatabase[] = [];
      const found = (await collect(fleet.tenants({ onSkip: (s) => skips.push(s) }))).filter((id) => id.startsWith(prefix));
      expect(found.sort()).toEqual([away, home, moved]);
      // The stale copy is reported, as is `away`'s name nowhere else: only the copy left behind.
      expect(skips.filter((s) => s.database.startsWith(prefix))).toEqual([
        { database: moved, cluster: 'default', reason: 'placed-elsewhere' },
      ]);
      // And the fleet acts on each where it lives.
      const seen: string[] = [];
      const result = await fleet.forEach(async (scope) => {
        if (!scope.id.startsWith(prefix)) return;
        const doc = await scope.collection('c').findOne({});
        seen.push(`${scope.id}:${doc?.stale === true ? 'stale' : 'live'}`);
      });
      expect(result.failed).toEqual([]);
      expect(seen.sort()).toEqual([`${away}:live`, `${home}:live`, `${moved}:live`]);
    } finally {
      await otherClient.close();
      await other.stop();
    }
  });

  test('databases discovery skips are logged (debug) and passed to onSkip; system databases are not counted', async () => {
    const prefix = unique('skp');
    await env.observer.db(`${prefix}_acme`).collection('c').insertOne({ x: 1 });
    const other = unique('otherapp');
    await env.observer.db(other).collection('c').insertOne({ x: 1 });
    const logs = captureLogs();
    const poly = env.make({ tenantDb: { prefix: `${prefix}_` }, logger: logs.logger });
    const skips: SkippedDatabase[] = [];
    const found = await collect(createFleet(poly).tenants({ onSkip: (s) => skips.push(s) }));
    expect(found).toEqual(['acme']);
    expect(skips).toContainEqual({ database: other, cluster: 'default', reason: 'not-a-tenant' });
    for (const system of ['admin', 'local', 'config']) expect(skips.map((s) => s.database)).not.toContain(system);
    expect(skips.every((s) => s.reason === 'not-a-tenant')).toBe(true);
    expect(logs.lines).toContainEqual({
      level: 'debug',
      obj: { database: other, cluster: 'default', reason: 'not-a-tenant' },
      msg: expect.any(String),
    });
    expect(logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  test('a tenant lookup that throws is a warn line with its code (never its message), and the others are still yielded', async () => {
    const prefix = unique('skt');
    const ids = await seedTenants(env.observer, prefix, 3);
    const logs = captureLogs();
    const poly = env.make({ logger: logs.logger });
    const broken = ids[1] as string;
    const lookup = poly.tenantForDatabase.bind(poly);
    vi.spyOn(poly, 'tenantForDatabase').mockImplementation((name) => {
      if (name === broken) throw Object.assign(new Error('lookup failed for mongodb://ops:s3cret@db.internal'), { code: 'LOOKUP_BROKE' });
      return lookup(name);
    });
    const skips: SkippedDatabase[] = [];
    const found = await collect(createFleet(poly).tenants({ onSkip: (s) => skips.push(s) }));
    expect(found.filter((id) => id.startsWith(prefix)).sort()).toEqual([ids[0], ids[2]]);
    expect(skips.filter((s) => s.database.startsWith(prefix))).toEqual([
      { database: broken, cluster: 'default', reason: 'lookup-failed', code: 'LOOKUP_BROKE' },
    ]);
    const warns = logs.lines.filter((l) => l.level === 'warn');
    expect(warns).toEqual([
      {
        level: 'warn',
        obj: { database: broken, cluster: 'default', reason: 'lookup-failed', code: 'LOOKUP_BROKE' },
        msg: expect.any(String),
      },
    ]);
    expect(JSON.stringify(logs.lines)).not.toContain('s3cret');
  });

  test('a tenantDbInverse that throws makes its database a lookup-failed skip (warn), not "not a tenant"', async () => {
    const prefix = unique('ski');
    await Promise.all(['acme', 'broken', 'globex'].map((id) => env.observer.db(`${prefix}_${id}`).collection('c').insertOne({ x: 1 })));
    const logs = captureLogs();
    const poly = env.make({
      logger: logs.logger,
      tenantDb: (id: string) => `${prefix}_${id}`,
      tenantDbInverse: (db: string) => {
        if (db === `${prefix}_broken`) throw new TypeError('naming bug');
        return db.startsWith(`${prefix}_`) ? db.slice(prefix.length + 1) : undefined;
      },
    });
    // Outside discovery the lookup stays lenient: a database it cannot map is not a tenant database.
    expect(poly.tenantForDatabase(`${prefix}_broken`)).toBeUndefined();
    expect(() => poly.tenantForDatabase(`${prefix}_broken`, { strict: true })).toThrow(TypeError);
    const skips: SkippedDatabase[] = [];
    const found = await collect(createFleet(poly).tenants({ onSkip: (s) => skips.push(s) }));
    expect(found.sort()).toEqual(['acme', 'globex']);
    expect(skips.filter((s) => s.database.startsWith(prefix))).toEqual([
      { database: `${prefix}_broken`, cluster: 'default', reason: 'lookup-failed', code: 'TypeError' },
    ]);
    expect(logs.lines.filter((l) => l.level === 'warn').map((l) => l.obj)).toEqual([
      { database: `${prefix}_broken`, cluster: 'default', reason: 'lookup-failed', code: 'TypeError' },
    ]);
    expect(JSON.stringify(logs.lines)).not.toContain('naming bug');
  });

  test('a registry collection lists the tenants', async () => {
    const registry = unique('registry');
    await env.observer
      .db(registry)
      .collection('tenants')
      .insertMany([{ _id: 'b' as never }, { _id: 'a' as never }, { _id: 'c' as never, active: false }]);
    const fleet = createFleet(env.make(), { discover: { tenant: registry, collection: 'tenants', filter: { active: { $ne: false } } } });
    expect(await collect(fleet.tenants())).toEqual(['a', 'b']);
  });

  test('a user function lists the tenants, and an invalid id from it fails that tenant only', async () => {
    const fleet = createFleet(env.make(), {
      discover: async function* () {
        yield 'one';
        yield 'bad.id';
        yield 'two';
      },
    });
    const seen: string[] = [];
    const result = await fleet.forEach(async (scope) => void seen.push(scope.id), { concurrency: 1 });
    expect(seen).toEqual(['one', 'two']);
    expect(result.done).toBe(2);
    expect(result.failed).toEqual([{ tenant: 'bad.id', error: expect.objectContaining({ code: 'INVALID_TENANT' }) }]);
  });

  test('a bad discover option is refused at construction', () => {
    expect(() => createFleet(env.make(), { discover: 'everything' as never })).toThrow(FleetSpecError);
  });

  test('an invalid id in a tenants list is refused before any tenant runs', async () => {
    const fleet = createFleet(env.make());
    const seen: string[] = [];
    await expect(fleet.forEach(async (s) => void seen.push(s.id), { tenants: ['ok', 'not/ok'] })).rejects.toBeInstanceOf(
      InvalidTenantError,
    );
    expect(seen).toEqual([]);
  });
});

describe('forEach', () => {
  test('a callback that is not a function is FLEET_SPEC_INVALID before anything runs', () => {
    const fleet = createFleet(env.make());
    expect(() => fleet.forEach('nope' as never)).toThrow(FleetSpecError);
    expect(() => fleet.forEach(undefined as never)).toThrow(expect.objectContaining({ code: 'FLEET_SPEC_INVALID' }));
  });

  test('a concurrency that is not a whole number of at least 1 is FLEET_SPEC_INVALID, and nothing runs', async () => {
    const fleet = createFleet(env.make());
    let ran = 0;
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      const work = async () => {
        ran += 1;
      };
      await expect(fleet.forEach(work, { tenants: ['c0'], concurrency })).rejects.toMatchObject({
        code: 'FLEET_SPEC_INVALID',
      });
    }
    expect(ran).toBe(0);
  });

  test('never runs more than `concurrency` tenants at once and collects failures without stopping', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
    let running = 0;
    let peak = 0;
    const result = await createFleet(env.make()).forEach(
      async (scope) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running--;
        if (scope.id === 't7') throw new Error('boom in t7');
      },
      { tenants: ids, concurrency: 3 },
    );
    expect(peak).toBeLessThanOrEqual(3);
    expect(result.done).toBe(19);
    expect(result.failed).toEqual([{ tenant: 't7', error: { name: 'Error', message: 'boom in t7' } }]);
    expect(result.skipped).toBe(0);
  });

  test('an aborted signal resolves, counting tenants never started as skipped', async () => {
    const controller = new AbortController();
    const ids = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const result = await createFleet(env.make()).forEach(
      async (scope) => {
        if (scope.id === 'a2') controller.abort();
      },
      { tenants: ids, concurrency: 1, signal: controller.signal },
    );
    expect(result).toEqual({ done: 3, failed: [], skipped: 7 });
  });

  test('progress reports done, failed, total, rate and ETA', async () => {
    const reports: Array<{ done: number; failed: number; total: number | undefined; rate: number; etaMS: number | undefined }> = [];
    await createFleet(env.make()).forEach(
      async (scope) => {
        if (scope.id === 'p1') throw new Error('no');
      },
      { tenants: ['p0', 'p1', 'p2', 'p3'], concurrency: 1, onProgress: (p) => reports.push(p) },
    );
    expect(reports.map((r) => [r.done, r.failed])).toEqual([
      [1, 0],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(reports.every((r) => r.total === 4 && r.rate >= 0)).toBe(true);
    expect(reports.at(-1)?.etaMS).toBe(0);
  });

  test('a checkpoint makes a rerun skip tenants already done', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'fleet-')), 'done.txt');
    const fleet = createFleet(env.make());
    const ids = ['c0', 'c1', 'c2', 'c3'];
    const first = await fleet.forEach(
      async (scope) => {
        if (scope.id === 'c2') throw new Error('transient');
      },
      { tenants: ids, checkpoint: fileCheckpoint(file) },
    );
    expect(first.done).toBe(3);
    const rerun: string[] = [];
    const second = await fleet.forEach(async (scope) => void rerun.push(scope.id), { tenants: ids, checkpoint: fileCheckpoint(file) });
    expect(rerun).toEqual(['c2']);
    expect(second).toEqual({ done: 1, failed: [], skipped: 3 });
  });
});
