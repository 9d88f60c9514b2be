import { defineRepository } from '@polymongo/native';
import type { Db, Document } from 'mongodb';
import mongoose from 'mongoose';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createFleet, FleetSpecError, type IndexSpec } from '../src/index.js';
import { listIndexes } from '../src/indexes/IndexFleet.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();

const Users = defineRepository({
  collection: 'users',
  schema: z.object({ email: z.string(), org: z.string() }),
  indexes: [{ key: { email: 1 }, unique: true }, { key: { org: 1, createdAt: -1 } }],
});
const Sessions = { collection: 'sessions', indexes: [{ key: { at: 1 }, expireAfterSeconds: 3600 }] };

async function indexNames(dbName: string, collection: string): Promise<string[]> {
  const list = await env.observer.db(dbName).collection(collection).listIndexes().toArray();
  return list.map((ix) => ix.name as string).sort();
}

describe('indexes', () => {
  test('plan detects drift exactly on the drifted subset of tenants, and sync fixes it', async () => {
    const ids = await seedTenants(env.observer, unique('ix'), 5);
    const fleet = createFleet(env.make());
    await fleet.indexes.sync([Users, Sessions], { tenants: ids });
    // Drift on two tenants: one index dropped, one extra, one with a different TTL.
    const [a, b] = ids as [string, string];
    await env.observer.db(a).collection('users').dropIndex('email_1');
    await env.observer.db(b).collection('users').createIndex({ nickname: 1 });
    await env.observer.db(b).command({ collMod: 'sessions', index: { name: 'at_1', expireAfterSeconds: 60 } });

    const plan = await fleet.indexes.plan([Users, Sessions], { tenants: ids });
    expect(plan.tenants).toBe(5);
    expect(Object.keys(plan).sort()).toEqual(['drift', 'tenants']); // the shape DESIGN.md settles
    expect(plan.drift.map((d) => [d.tenant, d.collection])).toEqual(
      [
        [a, 'users'],
        [b, 'sessions'],
        [b, 'users'],
      ].sort(),
    );
    const aUsers = plan.drift.find((d) => d.tenant === a);
    expect(aUsers?.missing.map((m) => m.name)).toEqual(['email_1']);
    const bSessions = plan.drift.find((d) => d.tenant === b && d.collection === 'sessions');
    expect(bSessions?.different).toEqual([expect.objectContaining({ name: 'at_1', fields: ['expireAfterSeconds'] })]);
    const bUsers = plan.drift.find((d) => d.tenant === b && d.collection === 'users');
    expect(bUsers?.extra.map((e) => e.name)).toEqual(['nickname_1']);

    // Without dropExtra / replaceDifferent, sync only creates.
    const synced = await fleet.indexes.sync([Users, Sessions], { tenants: ids });
    expect(synced.created).toBe(1);
    expect(await indexNames(b, 'users')).toContain('nickname_1');

    const full = await fleet.indexes.sync([Users, Sessions], { tenants: ids, dropExtra: true, replaceDifferent: true });
    expect(full).toMatchObject({ created: 0, dropped: 1, replaced: 1 });
    expect((await fleet.indexes.plan([Users, Sessions], { tenants: ids })).drift).toEqual([]);
    expect(await indexNames(b, 'users')).toEqual(['_id_', 'email_1', 'org_1_createdAt_-1']);
  });

  test('a synced text index is no drift (as mongod lists it: _fts/_ftsx and weights); new weights are replaced', async () => {
    const ids = await seedTenants(env.observer, unique('ixt'), 2);
    const fleet = createFleet(env.make());
    const articles = (weights: Record<string, number>): IndexSpec => [
      { collection: 'articles', indexes: [{ key: { org: 1, title: 'text', body: 'text' }, weights, default_language: 'english' }] },
    ];
    expect(await fleet.indexes.sync(articles({ title: 5 }), { tenants: ids })).toMatchObject({ created: 2 });
    const listed = await env.observer
      .db(ids[0] as string)
      .collection('articles')
      .listIndexes()
      .toArray();
    expect(listed.find((ix) => ix.name !== '_id_')?.key).toEqual({ org: 1, _fts: 'text', _ftsx: 1 });
    expect((await fleet.indexes.plan(articles({ title: 5 }), { tenants: ids })).drift).toEqual([]);
    expect(await fleet.indexes.sync(articles({ title: 5 }), { tenants: ids, replaceDifferent: true })).toMatchObject({
      replaced: 0,
      created: 0,
    });

    const plan = await fleet.indexes.plan(articles({ title: 2 }), { tenants: ids });
    expect(plan.drift.map((d) => d.different.map((x) => x.fields))).toEqual([[['weights']], [['weights']]]);
    expect(await fleet.indexes.sync(articles({ title: 2 }), { tenants: ids, replaceDifferent: true })).toMatchObject({ replaced: 2 });
    expect((await fleet.indexes.plan(articles({ title: 2 }), { tenants: ids })).drift).toEqual([]);
  });

  test('a text index replaced by one with other key fields is different, not extra + missing (one text index per collection)', async () => {
    const ids = await seedTenants(env.observer, unique('ixtr'), 2);
    const fleet = createFleet(env.make());
    const oldSpec: IndexSpec = [{ collection: 'articles', indexes: [{ key: { org: 1, title: 'text' } }] }];
    // New non-text key fields and another text field: another name, and mongod refuses a second text index (85).
    const newSpec: IndexSpec = [{ collection: 'articles', indexes: [{ key: { org: 1, region: 1, title: 'text', body: 'text' } }] }];
    expect(await fleet.indexes.sync(oldSpec, { tenants: ids })).toMatchObject({ created: 2, failed: [] });

    const plan = await fleet.indexes.plan(newSpec, { tenants: ids });
    expect(plan.drift).toHaveLength(2);
    for (const drift of plan.drift) {
      expect(drift.missing).toEqual([]);
      expect(drift.extra).toEqual([]);
      expect(drift.different).toEqual([
        expect.objectContaining({
          name: 'org_1_title_text',
          fields: ['key', 'weights'],
          expected: expect.objectContaining({ name: 'org_1_region_1_title_text_body_text' }),
        }),
      ]);
    }
    // Without replaceDifferent: reported, left as it is, and no tenant fails.
    const kept = await fleet.indexes.sync(newSpec, { tenants: ids });
    expect(kept).toMatchObject({ created: 0, replaced: 0, dropped: 0, failed: [], tenants: 2 });
    expect(await indexNames(ids[0] as string, 'articles')).toEqual(['_id_', 'org_1_title_text']);

    const replaced = await fleet.indexes.sync(newSpec, { tenants: ids, replaceDifferent: true });
    expect(replaced).toMatchObject({ created: 0, replaced: 2, dropped: 0, failed: [] });
    for (const id of ids) expect(await indexNames(id, 'articles')).toEqual(['_id_', 'org_1_region_1_title_text_body_text']);
    expect((await fleet.indexes.plan(newSpec, { tenants: ids })).drift).toEqual([]);
  });

  test('a dry run reports and changes nothing', async () => {
    const [t] = await seedTenants(env.observer, unique('ixdry'), 1);
    await env.observer.db(t).collection('users').createIndex({ stray: 1 });
    const result = await createFleet(env.make()).indexes.sync([Users], { tenants: [t as string], dryRun: true, dropExtra: true });
    expect(result).toMatchObject({ dryRun: true, created: 2, dropped: 1, replaced: 0 });
    expect(result.drift[0]?.missing).toHaveLength(2);
    expect(result.drift[0]?.extra.map((e) => e.name)).toEqual(['stray_1']);
    expect(await indexNames(t as string, 'users')).toEqual(['_id_', 'stray_1']);
    expect(await indexNames(t as string, 'sessions').catch(() => 'no collection')).toEqual('no collection');
  });

  test('never drops _id_, and compares unique, partial filters and collation', async () => {
    const [t] = (await seedTenants(env.observer, unique('ixopt'), 1)) as [string];
    const spec: IndexSpec = [
      {
        collection: 'items',
        indexes: [
          { key: { sku: 1 }, unique: true, partialFilterExpression: { active: true } },
          { key: { name: 1 }, collation: { locale: 'en', strength: 2 } },
        ],
      },
    ];
    const fleet = createFleet(env.make());
    await fleet.indexes.sync(spec, { tenants: [t], dropExtra: true });
    expect(await indexNames(t, 'items')).toEqual(['_id_', 'name_1', 'sku_1']);
    expect((await fleet.indexes.plan(spec, { tenants: [t] })).drift).toEqual([]);
    const changed: IndexSpec = [
      { collection: 'items', indexes: [{ key: { sku: 1 }, partialFilterExpression: { active: false } }, { key: { name: 1 } }] },
    ];
    const plan = await fleet.indexes.plan(changed, { tenants: [t] });
    expect(plan.drift[0]?.different.map((d) => [d.name, d.fields])).toEqual([
      ['sku_1', ['unique', 'partialFilterExpression']],
      ['name_1', ['collation']],
    ]);
  });

  test('sync sends one listIndexes, one dropIndexes and one createIndexes per drifted collection', async () => {
    const [t] = (await seedTenants(env.observer, unique('ixtrip'), 1)) as [string];
    const users = env.observer.db(t).collection('users');
    await users.createIndexes([{ key: { nickname: 1 } }, { key: { legacy: 1 } }, { key: { email: 1 } }]); // 2 extra, 1 different
    const poly = env.make({ monitorOperations: true } as never);
    const commands: string[] = [];
    poly.client().on('commandStarted', (e) => {
      if (e.databaseName === t) commands.push(e.commandName);
    });
    const result = await createFleet(poly).indexes.sync([Users], { tenants: [t], dropExtra: true, replaceDifferent: true });
    expect(result).toMatchObject({ created: 1, dropped: 2, replaced: 1, failed: [] });
    expect(commands).toEqual(['listIndexes', 'dropIndexes', 'createIndexes']);
    expect(await indexNames(t, 'users')).toEqual(['_id_', 'email_1', 'org_1_createdAt_-1']);
    expect((await users.listIndexes().toArray()).find((ix) => ix.name === 'email_1')?.unique).toBe(true);
  });

  test('reads indexes from Mongoose models without a connection', async () => {
    const [t] = (await seedTenants(env.observer, unique('ixmg'), 1)) as [string];
    const schema = new mongoose.Schema({ handle: { type: String, index: true }, team: String });
    schema.index({ team: 1, handle: 1 }, { unique: true });
    const Member = mongoose.model(unique('Member'), schema, 'members');
    await createFleet(env.make()).indexes.sync([Member], { tenants: [t] });
    expect(await indexNames(t, 'members')).toEqual(['_id_', 'handle_1', 'team_1_handle_1']);
  });

  test('a tenant that cannot be compared is counted as failed, not in tenants or drift: compared + failed + skipped = all', async () => {
    const ids = await seedTenants(env.observer, unique('ixf'), 3);
    const appName = unique('ixfail');
    const fleet = createFleet(env.make({ driverOptions: { appName } } as never));
    const failNext = () =>
      env.observer.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['listIndexes'], errorCode: 13, appName },
      });
    try {
      // One tenant at a time: the first one's listIndexes fails, the two others are compared (all drift).
      await failNext();
      expect(await fleet.indexes.plan([Users], { tenants: ids, concurrency: 1 })).toEqual({
        tenants: 2,
        drift: ids.slice(1).map((tenant) => expect.objectContaining({ tenant, collection: 'users' })),
      });
      await failNext();
      const dry = await fleet.indexes.sync([Users], { tenants: ids, concurrency: 1, dryRun: true });
      expect(dry).toMatchObject({ tenants: 2, skipped: 0, failed: [{ tenant: ids[0], error: expect.objectContaining({ code: 13 }) }] });
      expect(dry.drift.map((d) => d.tenant)).toEqual(ids.slice(1));
    } finally {
      await env.observer.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  });

  test('listIndexes reads the first batch of one command; a cursor the server leaves open is killed, then read through the driver', async () => {
    const [t] = (await seedTenants(env.observer, unique('ixread'), 1)) as [string];
    await env.observer
      .db(t)
      .collection('users')
      .createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }]);
    const all = await env.observer.db(t).collection('users').listIndexes().toArray();
    const sent: Document[] = [];
    const real = env.observer.db(t);
    // A server whose first batch holds one index (no MongoDB does for at most 64 indexes): the command is the same,
    // with a batch size of 1 added.
    const small = Object.create(real, {
      command: {
        value: (command: Document) => {
          sent.push(command);
          return real.command('listIndexes' in command ? { ...command, cursor: { batchSize: 1 } } : command);
        },
      },
    }) as Db;
    expect(await listIndexes(small, 'users')).toEqual(all);
    expect(sent.map((c) => Object.keys(c)[0])).toEqual(['listIndexes', 'killCursors']);
    sent.length = 0;
    const plain = Object.create(real, {
      command: {
        value: (command: Document) => {
          sent.push(command);
          return real.command(command);
        },
      },
    }) as Db;
    expect(await listIndexes(plain, 'users')).toEqual(all);
    expect(await listIndexes(plain, 'missing')).toEqual([]);
    expect(sent).toEqual([{ listIndexes: 'users' }, { listIndexes: 'missing' }]);
  });

  test('a malformed spec is refused before any tenant is touched', async () => {
    const fleet = createFleet(env.make());
    await expect(fleet.indexes.plan([{ collection: 'x', indexes: [{ key: {} }] }])).rejects.toBeInstanceOf(FleetSpecError);
    await expect(fleet.indexes.plan({} as never)).rejects.toMatchObject({ code: 'FLEET_SPEC_INVALID' });
  });
});
