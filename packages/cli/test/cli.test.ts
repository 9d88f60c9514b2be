import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { cli, configDir, seed as seedTenants, unique, useServer } from './helpers.js';

const env = useServer();
const seed = (prefix: string, count: number) => seedTenants(env.observer, prefix, count);

const INDEX_CONFIG = `export default {
  indexes: [{ collection: 'orders', indexes: [{ key: { total: 1 } }] }],
  migrations: [
    { id: '2026-01-a', up: async ({ db, session }) => db.collection('counters').updateOne({ _id: 'a' }, { $inc: { n: 1 } }, { upsert: true, session }),
      down: async ({ db, session }) => db.collection('counters').updateOne({ _id: 'a' }, { $inc: { n: -1 } }, { session }) },
  ],
};
`;

describe('polymongo CLI', () => {
  test('--help works for the program and every command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('tenants');
    for (const command of [['tenants', 'drop'], ['indexes', 'plan'], ['migrate', 'up'], ['export'], ['copy']]) {
      const help = await cli([...command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: polymongo');
    }
  });

  test('usage errors and missing configuration exit 2 without a stack trace', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    const noUri = await cli(['tenants', 'list']);
    expect(noUri.code).toBe(2);
    expect(noUri.stderr).toContain('no MongoDB URI');
    expect(noUri.stderr).not.toMatch(/\n\s+at /);
    const noSpec = await cli(['--uri', env.mongo.uri, 'indexes', 'plan']);
    expect(noSpec.code).toBe(2);
    expect(noSpec.stderr).toContain('indexes');
  });

  test('tenants drop without --yes exits 2 and touches nothing', async () => {
    const [t] = (await seed(unique('keep'), 1)) as [string];
    const result = await cli(['--uri', env.mongo.uri, 'tenants', 'drop', t]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--yes');
    expect(await env.observer.db(t).collection('orders').countDocuments()).toBe(1);
    const dropped = await cli(['--uri', env.mongo.uri, '--json', 'tenants', 'drop', t, '--yes']);
    expect(dropped.code).toBe(0);
    expect(JSON.parse(dropped.stdout)).toEqual({ dropped: t });
    expect((await env.observer.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name)).not.toContain(t);
  });

  test('tenants drop is audited with the CLI user as actor, into the sink the config names', async () => {
    const [t] = (await seed(unique('aud'), 1)) as [string];
    const sink = unique('ops');
    const cwd = configDir('polymongo.config.mjs', `export default { client: { audit: { sink: { tenant: '${sink}' } } } };`);
    expect((await cli(['--uri', env.mongo.uri, 'tenants', 'drop', t, '--yes'], { cwd })).code).toBe(0);
    const events = await env.observer.db(sink).collection('audit').find().toArray();
    expect(events).toMatchObject([{ action: 'tenant.drop', tenant: t, outcome: 'success', actor: expect.stringMatching(/^cli/) }]);
  });

  test('indexes plan and sync over a subset print exactly the result object with --json', async () => {
    const ids = await seed(unique('cix'), 3);
    const cwd = configDir('polymongo.config.mjs', INDEX_CONFIG);
    const subset = ['--tenant', ids[0] as string, '--tenant', ids[1] as string];
    const plan = await cli(['--uri', env.mongo.uri, '--json', 'indexes', 'plan', ...subset], { cwd });
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout);
    expect(parsed.tenants).toBe(2);
    expect(parsed.drift.map((d: { tenant: string }) => d.tenant)).toEqual([ids[0], ids[1]]);
    expect((await cli(['--uri', env.mongo.uri, 'indexes', 'plan', '--exit-code', ...subset], { cwd })).code).toBe(1);
    const dry = await cli(['--uri', env.mongo.uri, 'indexes', 'sync', '--dry-run', ...subset], { cwd });
    expect(dry.stdout).toContain('dry run');
    expect(
      (
        await env.observer
          .db(ids[0] as string)
          .collection('orders')
          .listIndexes()
          .toArray()
      ).map((i) => i.name),
    ).toEqual(['_id_']);
    const file = join(cwd, 'tenants.txt');
    writeFileSync(file, `${ids.join('\n')}\n`);
    const sync = await cli(['--uri', env.mongo.uri, '--json', 'indexes', 'sync', '--tenants-from', file], { cwd });
    expect(JSON.parse(sync.stdout)).toMatchObject({ tenants: 3, created: 3, dryRun: false, failed: [] });
    expect((await cli(['--uri', env.mongo.uri, 'indexes', 'plan', '--exit-code', '--tenants-from', file], { cwd })).code).toBe(0);
  });

  test('migrate up, status and down from a TypeScript config, with MONGODB_URI', async () => {
    const ids = await seed(unique('cmig'), 2);
    const cwd = configDir(
      'polymongo.config.ts',
      `${INDEX_CONFIG.replace('export default {', 'const config: Record<string, unknown> = {')}export default config;\n`,
    );
    const uriEnv = { MONGODB_URI: env.mongo.uri };
    const tenants = ids.flatMap((id) => ['--tenant', id]);
    const dry = await cli(['--json', 'migrate', 'up', '--dry-run', ...tenants], { cwd, env: uriEnv });
    expect(JSON.parse(dry.stdout)).toEqual({
      applied: ids.map((tenant) => ({ tenant, id: '2026-01-a' })),
      failed: [],
      skipped: 0,
      dryRun: true,
    });
    const up = await cli(['--json', 'migrate', 'up', ...tenants], { cwd, env: uriEnv });
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).applied).toHaveLength(2);
    const status = await cli(['--json', 'migrate', 'status', ...tenants], { cwd, env: uriEnv });
    expect(JSON.parse(status.stdout)).toEqual(ids.map((tenant) => ({ tenant, applied: ['2026-01-a'], pending: [] })));
    const unknown = await cli(['migrate', 'down', '--to', 'nope', ...tenants], { cwd, env: uriEnv });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('UNKNOWN_MIGRATION');
    const down = await cli(['migrate', 'down', ...tenants], { cwd, env: uriEnv });
    expect(down.code).toBe(0);
    expect(
      (
        await env.observer
          .db(ids[0] as string)
          .collection('counters')
          .findOne({ _id: 'a' as never })
      )?.n,
    ).toBe(0);
  });

  test('migrate status: a tenant whose state cannot be read is named, the others listed, exit 1; --json has its error', async () => {
    const ids = await seed(unique('cstf'), 3);
    const broken = ids[1] as string;
    const cwd = configDir('polymongo.config.mjs', INDEX_CONFIG);
    const tenants = ids.flatMap((id) => ['--tenant', id]);
    const admin = env.observer.db('admin');
    await admin.command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['find'], errorCode: 13, namespace: `${broken}._polymongo_migrations` },
    });
    try {
      const human = await cli(['--uri', env.mongo.uri, 'migrate', 'status', ...tenants], { cwd });
      expect(human.code).toBe(1);
      const lines = human.stdout.trim().split('\n');
      expect(lines.filter((l) => l.includes('pending: 2026-01-a')).map((l) => l.split('\t')[0])).toEqual([ids[0], ids[2]]);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^✗ ${broken}: 13: `)));
      const json = await cli(['--uri', env.mongo.uri, '--json', 'migrate', 'status', ...tenants], { cwd });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual([
        { tenant: ids[0], applied: [], pending: ['2026-01-a'] },
        { tenant: broken, applied: [], pending: ['2026-01-a'], error: { name: 'MongoServerError', code: 13, message: expect.any(String) } },
        { tenant: ids[2], applied: [], pending: ['2026-01-a'] },
      ]);
    } finally {
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  test('a failing tenant exits 1 and is named', async () => {
    const [t] = (await seed(unique('cfail'), 1)) as [string];
    const cwd = configDir(
      'polymongo.config.mjs',
      `export default { migrations: [{ id: 'boom', up: async ({ tenant }) => { throw new Error('cannot migrate ' + tenant); } }] };`,
    );
    const result = await cli(['--uri', env.mongo.uri, 'migrate', 'up', '--tenant', t], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${t} (boom): cannot migrate ${t}`);
  });

  test('an invalid tenant id is a usage error', async () => {
    const result = await cli(['--uri', env.mongo.uri, 'export', 'bad.tenant']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('INVALID_TENANT');
  });

  test('credentials never appear in what it prints', async () => {
    const uri = 'mongodb://admin:hunter2@127.0.0.1:1/?serverSelectionTimeoutMS=300';
    const cwd = configDir('polymongo.config.mjs', `export default { client: { driverOptions: { serverSelectionTimeoutMS: 300 } } };`);
    const result = await cli(['--uri', uri, 'tenants', 'list'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  test('export and import through files, and copy', async () => {
    const [from] = (await seed(unique('cexp'), 1)) as [string];
    const to = unique('cimp');
    const dir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
    const file = join(dir, 'dump.ejson');
    expect((await cli(['--uri', env.mongo.uri, 'export', from, '--out', file])).code).toBe(0);
    const imported = await cli(['--uri', env.mongo.uri, '--json', 'import', to, '--in', file]);
    expect(JSON.parse(imported.stdout)).toEqual({ tenant: to, collections: 1, documents: 1, indexes: 0 });
    const again = await cli(['--uri', env.mongo.uri, 'import', to, '--in', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('TENANT_NOT_EMPTY');
    const copied = await cli(['--uri', env.mongo.uri, '--json', 'copy', from, unique('ccopy')]);
    expect(JSON.parse(copied.stdout)).toMatchObject({ documents: 1 });
  });

  const bin = fileURLToPath(new URL('../bin/polymongo.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../dist/bin.js', import.meta.url)));
  // The spawned binary runs the build (dist/); `pnpm test` builds before it runs vitest.
  test.runIf(built)('the built binary lists tenants as one JSON document and exits 0', async () => {
    const ids = await seed(unique('cbin'), 2);
    // Asynchronous: the embedded server may live in this very process.
    const result = await promisify(execFile)(process.execPath, [bin, '--json', 'tenants', 'list'], {
      env: { ...process.env, MONGODB_URI: env.mongo.uri },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(result.stdout)).toEqual(expect.arrayContaining(ids));
  });
});
