import { describe, expect, test } from 'vitest';
import { databaseNames, tenantId, useServer } from './helpers.js';

const env = useServer();

describe('poly.tenantForDatabase', () => {
  test('maps the listed databases back to the tenants that wrote them, and nothing else', async () => {
    const poly = env.make({ tenantDb: { prefix: 'pmn_tfd_' } });
    const tenants = [tenantId('one'), tenantId('two')];
    for (const t of tenants) await poly.db(t).collection('c').insertOne({ t });
    await env.observer.db('pmn_other_db').collection('c').insertOne({});
    const found = (await databaseNames(env.observer)).map((name) => poly.tenantForDatabase(name)).filter((t) => t !== undefined);
    expect(found.sort()).toEqual([...tenants].sort());
  });

  test('is the inverse of identity naming and excludes system databases', () => {
    const poly = env.make();
    expect(poly.tenantForDatabase(poly.tenant('acme').dbName)).toBe('acme');
    expect(poly.tenantForDatabase('admin')).toBeUndefined();
    expect(poly.tenantForDatabase('local')).toBeUndefined();
    expect(poly.tenantForDatabase('config')).toBeUndefined();
  });
});
