import { Readable } from 'node:stream';
import type { AuditEvent, NativeOptions, PolyMongo } from '@polymongo/native';
import { describe, expect, test } from 'vitest';
import { createFleet, defineMigration } from '../src/index.js';
import { seedTenants, unique, useServer } from './helpers.js';

const env = useServer();

function audited(options: Partial<NativeOptions> = {}): { poly: PolyMongo; events: AuditEvent[] } {
  const poly = env.make(options);
  const events: AuditEvent[] = [];
  poly.on('audit', (e) => events.push(e));
  return { poly, events };
}

async function drain(readable: Readable): Promise<string> {
  let all = '';
  for await (const chunk of readable) all += chunk.toString();
  return all;
}

describe('fleet audit events', () => {
  test('migrate emits one event with its counts; a failing tenant makes it partial', async () => {
    const { poly, events } = audited();
    const tenants = await seedTenants(env.observer, unique('fam'), 2);
    const ok = defineMigration({ id: '2026-01-ok', up: async ({ db }) => void (await db.collection('x').insertOne({ a: 1 })) });
    await createFleet(poly).migrate({ migrations: [ok], tenants });
    const bad = defineMigration({
      id: '2026-02-bad',
      up: async ({ tenant }) => {
        if (tenant === tenants[0]) throw new Error('boom');
      },
    });
    await createFleet(poly).migrate({ migrations: [bad], tenants });
    expect(events).toMatchObject([
      { action: 'fleet.migrate', tenant: undefined, outcome: 'success', details: { direction: 'up', applied: 2, failed: 0 } },
      { action: 'fleet.migrate', outcome: 'partial', details: { applied: 1, failed: 1 } },
    ]);
  });

  test('a migrate that throws before running (duplicate ids) is a failure; a dry run emits nothing', async () => {
    const { poly, events } = audited();
    const tenants = await seedTenants(env.observer, unique('fad'), 1);
    const m = defineMigration({ id: '2026-01-dup', up: async () => undefined });
    await expect(createFleet(poly).migrate({ migrations: [m, m], tenants })).rejects.toThrow();
    await createFleet(poly).migrate({ migrations: [m], tenants, dryRun: true });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'fleet.migrate', outcome: 'failure' });
    expect(events[0]?.error?.message).toBeTruthy();
  });

  test('indexes.sync and validators.sync emit one event each; plans emit none', async () => {
    const { poly, events } = audited();
    const tenants = await seedTenants(env.observer, unique('fai'), 2);
    const fleet = createFleet(poly);
    await fleet.indexes.plan([{ collection: 'seed', indexes: [{ key: { n: 1 } }] }], { tenants });
    await fleet.indexes.sync([{ collection: 'seed', indexes: [{ key: { n: 1 } }] }], { tenants });
    const validator = { $jsonSchema: { bsonType: 'object', properties: { n: { bsonType: 'int' } } } };
    await fleet.validators.sync([{ collection: 'seed', validator }], { tenants });
    expect(events).toMatchObject([
      { action: 'fleet.indexes.sync', outcome: 'success', details: { created: 2, tenants: 2, failed: 0, dropExtra: false } },
      { action: 'fleet.validators.sync', outcome: 'success', details: { modified: 2, tenants: 2, failed: 0 } },
    ]);
  });

  test('exportTenant emits on the end of its stream; importTenant and copyTenant emit success and failure', async () => {
    const { poly, events } = audited();
    const [from] = (await seedTenants(env.observer, unique('fax'), 1)) as [string];
    const fleet = createFleet(poly);
    const dump = await drain(fleet.exportTenant(from));
    const into = unique('fay');
    await fleet.importTenant(into, Readable.from([dump]));
    await expect(fleet.importTenant(into, Readable.from([dump]))).rejects.toMatchObject({
      code: 'TENANT_NOT_EMPTY',
    });
    const copy = unique('faz');
    await fleet.copyTenant(from, copy);
    await expect(fleet.copyTenant(from, 'bad.tenant')).rejects.toMatchObject({ code: 'INVALID_TENANT' });
    expect(events).toMatchObject([
      { action: 'fleet.export', tenant: from, outcome: 'success' },
      { action: 'fleet.import', tenant: into, outcome: 'success', details: { drop: false } },
      { action: 'fleet.import', tenant: into, outcome: 'failure', error: { code: 'TENANT_NOT_EMPTY' } },
      { action: 'fleet.copy', tenant: copy, outcome: 'success', details: { from } },
      { action: 'fleet.copy', tenant: 'bad.tenant', outcome: 'failure', error: { code: 'INVALID_TENANT' } },
    ]);
    expect(JSON.stringify(events)).not.toContain('seeded');
  });

  test('an export that fails is a failure event', async () => {
    const { poly, events } = audited();
    await expect(drain(createFleet(poly).exportTenant('bad.tenant'))).rejects.toMatchObject({ code: 'INVALID_TENANT' });
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ action: 'fleet.export', outcome: 'failure', error: { code: 'INVALID_TENANT' } });
  });

  test('fleet events reach the sink collection', async () => {
    const sink = unique('fops');
    const { poly } = audited({ audit: { sink: { tenant: sink } } });
    const tenants = await seedTenants(env.observer, unique('fas'), 1);
    await createFleet(poly).indexes.sync([{ collection: 'seed', indexes: [{ key: { m: 1 } }] }], { tenants });
    expect(
      await env.observer
        .db(sink)
        .collection('audit')
        .find({}, { projection: { _id: 0, action: 1 } })
        .toArray(),
    ).toEqual([{ action: 'fleet.indexes.sync' }]);
  });
});
