import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, configDir, seed, unique, useServer } from './helpers.js';

const env = useServer();

const VALIDATOR = { $jsonSchema: { bsonType: 'object', required: ['total'] } };
const VALIDATOR_CONFIG = `export default { validators: [{ collection: 'orders', validator: ${JSON.stringify(VALIDATOR)} }] };\n`;

async function validatorOf(db: string, collection: string): Promise<unknown> {
  const [info] = await env.observer.db(db).listCollections({ name: collection }).toArray();
  return (info as { options?: { validator?: unknown } } | undefined)?.options?.validator;
}

describe('every command', () => {
  const commands = [
    ['tenants', 'list'],
    ['tenants', 'stats'],
    ['tenants', 'drop'],
    ['indexes', 'plan'],
    ['indexes', 'sync'],
    ['validators', 'plan'],
    ['validators', 'sync'],
    ['migrate', 'status'],
    ['migrate', 'up'],
    ['migrate', 'down'],
    ['export'],
    ['import'],
    ['copy'],
    ['health'],
    ['stats'],
  ];
  test.each(commands)('%s %s --help prints its usage and options on stdout and exits 0', async (...command) => {
    const help = await cli([...command.filter(Boolean), '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`Usage: polymongo ${command.filter(Boolean).join(' ')}`);
    expect(help.stdout).toContain('-h, --help');
    expect(help.stderr).toBe('');
  });

  test('the flags DESIGN.md lists appear in their commands’ help', async () => {
    const flags: Array<[string[], string[]]> = [
      [['tenants', 'drop'], ['--yes']],
      [
        ['indexes', 'plan'],
        ['--exit-code', '--tenant', '--tenants-from'],
      ],
      [
        ['indexes', 'sync'],
        ['--drop-extra', '--dry-run', '--replace-different'],
      ],
      [
        ['validators', 'sync'],
        ['--drop-extra', '--dry-run'],
      ],
      [
        ['migrate', 'up'],
        ['--to', '--dry-run'],
      ],
      [
        ['migrate', 'down'],
        ['--to', '--dry-run'],
      ],
      [['export'], ['--out']],
      [['import'], ['--in', '--drop', '--bypass-document-validation']],
      [['copy'], ['--drop', '--no-indexes', '--bypass-document-validation']],
    ];
    for (const [command, expected] of flags) {
      const { stdout } = await cli([...command, '--help']);
      for (const flag of expected) expect({ command, has: stdout.includes(flag) }).toEqual({ command, has: true });
    }
    const top = await cli(['--help']);
    for (const flag of ['--uri', '--config', '--json', '--concurrency']) expect(top.stdout).toContain(flag);
  });
});

describe('tenants', () => {
  test('list prints one id a line, or one JSON array with --json', async () => {
    const ids = await seed(env.observer, unique('tl'), 2);
    const human = await cli(['--uri', env.mongo.uri, 'tenants', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')).toEqual(expect.arrayContaining(ids));
    const subset = await cli(['--uri', env.mongo.uri, '--json', 'tenants', 'list', '--tenant', ids[1] as string]);
    expect(JSON.parse(subset.stdout)).toEqual([ids[1]]);
  });

  test('list says on stderr how many databases it skipped as not tenants; stdout holds only the ids', async () => {
    const prefix = unique('tsk');
    await env.observer.db(`${prefix}_acme`).collection('orders').insertOne({ total: 1 });
    await env.observer.db(unique('otherapp')).collection('orders').insertOne({ total: 1 });
    const cwd = configDir('polymongo.config.mjs', `export default { tenantDb: { prefix: '${prefix}_' } };`);
    const human = await cli(['--uri', env.mongo.uri, 'tenants', 'list'], { cwd });
    expect(human.code).toBe(0);
    expect(human.stdout).toBe('acme\n');
    // Every other database of the shared server but admin/local/config (the other app's among them).
    const { databases } = await env.observer.db('admin').admin().listDatabases({ nameOnly: true });
    const others = databases.filter((d) => !['admin', 'local', 'config', `${prefix}_acme`].includes(d.name)).length;
    expect(human.stderr).toBe(`${others} database${others === 1 ? '' : 's'} skipped (not tenants)\n`);
    const json = await cli(['--uri', env.mongo.uri, '--json', 'tenants', 'list'], { cwd });
    expect([json.code, JSON.parse(json.stdout), json.stderr]).toEqual([0, ['acme'], '']);
  });

  test('list names a database whose tenant lookup threw (a buggy tenantDbInverse), counts it apart, and exits 1', async () => {
    const prefix = unique('tlf');
    for (const id of ['acme', 'broken']) await env.observer.db(`${prefix}_${id}`).collection('orders').insertOne({ total: 1 });
    const cwd = configDir(
      'polymongo.config.mjs',
      `export default {
        tenantDb: (id) => '${prefix}_' + id,
        client: {
          tenantDbInverse: (db) => {
            if (db === '${prefix}_broken') throw new TypeError('naming bug');
            return db.startsWith('${prefix}_') ? db.slice(${prefix.length + 1}) : undefined;
          },
        },
      };`,
    );
    const run = await cli(['--uri', env.mongo.uri, 'tenants', 'list'], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('acme\n');
    const { databases } = await env.observer.db('admin').admin().listDatabases({ nameOnly: true });
    const others = databases.filter((d) => !['admin', 'local', 'config', `${prefix}_acme`, `${prefix}_broken`].includes(d.name)).length;
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${others + 1} databases skipped (${others} not tenants, 1 lookup failed)`);
    expect(lines).toContain(`✗ ${prefix}_broken (cluster default): tenant lookup failed: TypeError`);
    expect(run.stderr).not.toContain('naming bug');
  });

  test('stats reports collections, documents and sizes per tenant', async () => {
    const ids = await seed(env.observer, unique('ts'), 2);
    const args = ['--uri', env.mongo.uri, 'tenants', 'stats', ...ids.flatMap((id) => ['--tenant', id])];
    const json = await cli(['--json', ...args.slice(2)], { env: { MONGODB_URI: env.mongo.uri } });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      tenants: ids.map((tenant) => ({ tenant, collections: 1, objects: 1, dataSize: expect.any(Number), indexes: 1 })),
      failed: [],
    });
    const human = await cli(args);
    expect(human.stdout).toContain(`${ids[0]}\t1 collections\t1 documents`);
  });

  test('a progress bar goes to a terminal stderr only, never into stdout or --json', async () => {
    const ids = await seed(env.observer, unique('tp'), 3);
    const subset = ids.flatMap((id) => ['--tenant', id]);
    const tty = await cli(['--uri', env.mongo.uri, 'tenants', 'stats', ...subset], { tty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('3/3 tenants');
    expect(tty.stdout).not.toContain('tenants |');
    const json = await cli(['--uri', env.mongo.uri, '--json', 'tenants', 'stats', ...subset], { tty: true });
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout).tenants).toHaveLength(3);
  });
});

describe('validators', () => {
  test('plan prints exactly { tenants, drift }, names extra validators, and sync --drop-extra removes them', async () => {
    const [t, u] = await seed(env.observer, unique('cv'), 2);
    await env.observer.db(t as string).createCollection('legacy', { validator: { $jsonSchema: { bsonType: 'object' } } });
    const cwd = configDir('polymongo.config.mjs', VALIDATOR_CONFIG);
    const subset = ['--tenant', t as string, '--tenant', u as string];
    const plan = await cli(['--uri', env.mongo.uri, '--json', 'validators', 'plan', ...subset], { cwd });
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout);
    expect(Object.keys(parsed).sort()).toEqual(['drift', 'tenants']);
    expect(parsed.drift.map((d: { tenant: string; collection: string; extra: boolean }) => [d.tenant, d.collection, d.extra])).toEqual([
      [t, 'legacy', true],
      [t, 'orders', false],
      [u, 'orders', false],
    ]);
    const human = await cli(['--uri', env.mongo.uri, 'validators', 'plan', '--exit-code', ...subset], { cwd });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${t}\tlegacy\textra validator`);
    expect(human.stdout).toContain(`${u}\torders\tmissing validator`);

    const dry = await cli(['--uri', env.mongo.uri, 'validators', 'sync', '--dry-run', '--drop-extra', ...subset], { cwd });
    expect(dry.stdout).toContain('would change: 0 created, 2 modified, 1 dropped (dry run: nothing written)');
    expect(await validatorOf(t as string, 'orders')).toBeUndefined();
    const synced = await cli(['--uri', env.mongo.uri, '--json', 'validators', 'sync', '--drop-extra', ...subset], { cwd });
    expect(JSON.parse(synced.stdout)).toMatchObject({ tenants: 2, created: 0, modified: 2, dropped: 1, failed: [], dryRun: false });
    expect(await validatorOf(u as string, 'orders')).toEqual(VALIDATOR);
    expect(Object.keys((await validatorOf(t as string, 'legacy')) ?? {})).toEqual([]);
    expect((await cli(['--uri', env.mongo.uri, 'validators', 'plan', '--exit-code', ...subset], { cwd })).code).toBe(0);
  });

  test('a tenant a plan cannot read exits 1 and is named on stderr, the JSON staying { tenants, drift }', async () => {
    const [t] = (await seed(env.observer, unique('cpf'), 1)) as [string];
    const appName = unique('cliplan');
    const cwd = configDir(
      'polymongo.config.mjs',
      `export default { indexes: [{ collection: 'orders', indexes: [{ key: { total: 1 } }] }], client: { driverOptions: { appName: '${appName}' } } };\n`,
    );
    await env.observer.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['listIndexes'], errorCode: 13, appName },
    });
    try {
      const result = await cli(['--uri', env.mongo.uri, '--json', 'indexes', 'plan', '--tenant', t], { cwd });
      expect(result.code).toBe(1);
      // The tenant was not compared: counted in neither `tenants` nor `drift`, named as failed.
      expect(JSON.parse(result.stdout)).toEqual({ tenants: 0, drift: [] });
      expect(result.stderr).toContain(`✗ ${t}: `);
      const human = await cli(['--uri', env.mongo.uri, 'indexes', 'plan', '--tenant', t], { cwd });
      expect(human.code).toBe(1);
      expect(human.stdout).toContain(`✗ ${t}: `);
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });
});

describe('transfer, health and stats', () => {
  test('export without --out writes the Extended JSON lines to stdout; import reads them back', async () => {
    const [from] = (await seed(env.observer, unique('cso'), 1)) as [string];
    const exported = await cli(['--uri', env.mongo.uri, 'export', from]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'polymongo-tenant-export', tenant: from });
    expect(lines.some((l) => l.includes('"total":{"$numberInt":"1"}'))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
    const file = join(dir, 'dump.ejson');
    writeFileSync(file, exported.stdout);
    const to = unique('csi');
    const json = await cli(['--uri', env.mongo.uri, '--json', 'export', from, '--out', join(dir, 'again.ejson')]);
    expect(JSON.parse(json.stdout)).toEqual({ tenant: from, out: join(dir, 'again.ejson') });
    expect(readFileSync(join(dir, 'again.ejson'), 'utf8').split('\n').length).toBe(lines.length + 1);
    const imported = await cli(['--uri', env.mongo.uri, 'import', to, '--in', file]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported 1 documents in 1 collections (0 indexes) into ${to}`);
  });

  test('copy into a validator the data violates exits 1 naming the flag; --bypass-document-validation copies it', async () => {
    const from = unique('cbv');
    await env.observer
      .db(from)
      .collection('orders')
      .insertMany([{ total: 1 }, { legacy: true }]);
    await env.observer.db(from).command({ collMod: 'orders', validator: VALIDATOR, validationLevel: 'moderate' });
    const to = unique('cbt');
    const refused = await cli(['--uri', env.mongo.uri, 'copy', from, to]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('VALIDATION_FAILED');
    expect(refused.stderr).toContain('--bypass-document-validation');
    const copied = await cli(['--uri', env.mongo.uri, '--json', 'copy', from, to, '--drop', '--bypass-document-validation']);
    expect(copied.code).toBe(0);
    expect(JSON.parse(copied.stdout)).toEqual({ from, to, collections: 1, documents: 2, indexes: 0 });
  });

  test('health and stats print one JSON document and exit 0 when the server answers', async () => {
    const health = await cli(['--uri', env.mongo.uri, '--json', 'health']);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, state: 'connected', latencyMS: expect.any(Number) });
    const human = await cli(['--uri', env.mongo.uri, 'health']);
    expect(human.stdout).toMatch(/^ok connected, ping [\d.]+ ms/);
    const stats = await cli(['--uri', env.mongo.uri, '--json', 'stats']);
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout).pools.length).toBeGreaterThan(0);
    expect((await cli(['--uri', env.mongo.uri, 'stats'])).stdout).toContain('"pools"');
  });

  test('health against an unreachable server exits 1 and prints no credentials', async () => {
    const cwd = configDir('polymongo.config.mjs', 'export default { client: { driverOptions: { serverSelectionTimeoutMS: 300 } } };\n');
    const result = await cli(['--uri', 'mongodb://ops:s3cr3t-pass@127.0.0.1:1/', '--json', 'health'], { cwd });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).ok).toBe(false);
    expect(result.stdout + result.stderr).not.toContain('s3cr3t-pass');
  });
});

describe('configuration and usage errors exit 2', () => {
  test.each([
    ['an unknown key in the config', 'polymongo.config.mjs', 'export default { uri: "x", indexs: [] };', 'CONFIG_INVALID'],
    ['a default export that is not an object', 'polymongo.config.mjs', 'export default 42;', 'CONFIG_INVALID'],
    ['a config that throws while loading', 'polymongo.config.mjs', 'throw new Error("broken config");', 'broken config'],
  ])('%s', async (_name, file, text, message) => {
    const result = await cli(['tenants', 'list'], { cwd: configDir(file, text) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--config naming no file, a bad --concurrency, an unreadable --tenants-from, no migrations', async () => {
    const noFile = await cli(['--config', 'nope.mjs', 'tenants', 'list']);
    expect([noFile.code, noFile.stderr]).toEqual([2, expect.stringContaining('--config: no file at')]);
    const concurrency = await cli(['--uri', env.mongo.uri, '--concurrency', '0', 'tenants', 'stats', '--tenant', 'a']);
    expect([concurrency.code, concurrency.stderr]).toEqual([2, expect.stringContaining('--concurrency')]);
    const from = await cli(['--uri', env.mongo.uri, 'tenants', 'list', '--tenants-from', join(tmpdir(), unique('missing'))]);
    expect([from.code, from.stderr]).toEqual([2, expect.stringContaining('--tenants-from: cannot read')]);
    const noMigrations = await cli(['--uri', env.mongo.uri, 'migrate', 'status']);
    expect([noMigrations.code, noMigrations.stderr]).toEqual([2, expect.stringContaining('no migrations')]);
    const noValidators = await cli(['--uri', env.mongo.uri, 'validators', 'sync']);
    expect([noValidators.code, noValidators.stderr]).toEqual([2, expect.stringContaining('no validator spec')]);
    const missingArgument = await cli(['--uri', env.mongo.uri, 'copy', 'only-one']);
    expect(missingArgument.code).toBe(2);
  });

  test('a malformed URI with a password is a usage error that never prints the password, with or without --json', async () => {
    for (const json of [[], ['--json']]) {
      const result = await cli(['--uri', 'mongodb://ops:pa55-w0rd@127.0.0.1:notaport/', ...json, 'tenants', 'list']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('CONFIG_INVALID');
      expect(result.stdout + result.stderr).not.toContain('pa55-w0rd');
    }
  });

  test('--tenants-from skips blank lines and # comments', async () => {
    const ids = await seed(env.observer, unique('tf'), 2);
    const dir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
    writeFileSync(join(dir, 'ids.txt'), `# canary\n${ids[0]}\n\n  ${ids[1]}  \n`);
    const result = await cli(['--uri', env.mongo.uri, '--json', 'tenants', 'list', '--tenants-from', join(dir, 'ids.txt')]);
    expect(JSON.parse(result.stdout)).toEqual(ids);
  });
});
