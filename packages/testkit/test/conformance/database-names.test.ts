import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { useMongo } from '../helpers.js';

// mongod refuses a database whose name differs from an existing one only in case (13297 DatabaseDifferCase).
const env = useMongo();

describe('database names that differ only in case', () => {
  test('writing to a second database differing only in case fails with DatabaseDifferCase', async () => {
    const suffix = randomBytes(4).toString('hex');
    await env.client.db(`pmtk_Case_${suffix}`).collection('c').insertOne({ first: true });
    const err = await env.client
      .db(`pmtk_case_${suffix}`)
      .collection('c')
      .insertOne({ second: true })
      .catch((e) => e);
    expect(err.code).toBe(13297);
    expect(err.codeName).toBe('DatabaseDifferCase');
    await expect(env.client.db(`PMTK_CASE_${suffix}`).createCollection('d')).rejects.toMatchObject({ code: 13297 });
    const names = (await env.client.db('admin').admin().listDatabases({ nameOnly: true })).databases.map((d) => d.name);
    expect(names.filter((n) => n.toLowerCase() === `pmtk_case_${suffix}`)).toEqual([`pmtk_Case_${suffix}`]);
  });

  test('once the first database is dropped, the other spelling can be created', async () => {
    const suffix = randomBytes(4).toString('hex');
    await env.client.db(`pmtk_Drop_${suffix}`).collection('c').insertOne({ first: true });
    await env.client.db(`pmtk_Drop_${suffix}`).dropDatabase();
    await env.client.db(`pmtk_drop_${suffix}`).collection('c').insertOne({ second: true });
    expect(await env.client.db(`pmtk_drop_${suffix}`).collection('c').countDocuments()).toBe(1);
  });
});
