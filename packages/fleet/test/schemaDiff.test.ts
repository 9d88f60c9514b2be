import { ObjectId } from 'mongodb';
import mongoose from 'mongoose';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createFleet } from '../src/index.js';
import { unique, useServer } from './helpers.js';

const env = useServer();

async function seed(tenant: string) {
  const ids = Array.from({ length: 6 }, () => new ObjectId());
  await env.observer
    .db(tenant)
    .collection('users')
    .insertMany([
      { _id: ids[0], email: 'a@x', age: 30, profile: { city: 'Oslo' } },
      { _id: ids[1], email: 'b@x', age: 31, profile: { city: 'Rome' } },
      { _id: ids[2], email: 'c@x', age: 'old', profile: { city: 'Bonn' } },
      { _id: ids[3], age: 40, profile: { city: 'Lyon' } },
      { _id: ids[4], email: 'e@x', age: 22, profile: { city: 'Graz', zip: '8010' }, legacy: true },
      { _id: ids[5], email: 'f@x', age: 23, profile: { city: 'Linz' } },
    ]);
  return ids;
}

describe('schemaDiff', () => {
  test('counts missing, extra and wrong-type fields against a zod schema, with example _ids', async () => {
    const tenant = unique('sd');
    const ids = await seed(tenant);
    const schema = z.object({ email: z.string(), age: z.number(), profile: z.object({ city: z.string() }) });
    const diff = await createFleet(env.make()).schemaDiff(tenant, { collection: 'users', schema });
    expect(diff).toMatchObject({ checked: 6, valid: 3, invalid: 3 });
    expect(diff.fields).toEqual([
      { path: 'age', missing: 0, extra: 0, wrongType: 1 },
      { path: 'email', missing: 1, extra: 0, wrongType: 0 },
      { path: 'legacy', missing: 0, extra: 1, wrongType: 0 },
      { path: 'profile.zip', missing: 0, extra: 1, wrongType: 0 },
    ]);
    expect(diff.examples.map((e) => String(e._id)).sort()).toEqual([ids[2], ids[3], ids[4]].map(String).sort());
  });

  test('the same against a Mongoose schema, and the sample bounds what is read', async () => {
    const tenant = unique('sdm');
    await seed(tenant);
    const schema = new mongoose.Schema({ email: { type: String, required: true }, age: Number, profile: { city: String } });
    const fleet = createFleet(env.make());
    const diff = await fleet.schemaDiff(tenant, { collection: 'users', schema });
    expect(diff.fields).toEqual([
      { path: 'age', missing: 0, extra: 0, wrongType: 1 },
      { path: 'email', missing: 1, extra: 0, wrongType: 0 },
      { path: 'legacy', missing: 0, extra: 1, wrongType: 0 },
      { path: 'profile.zip', missing: 0, extra: 1, wrongType: 0 },
    ]);
    expect((await fleet.schemaDiff(tenant, { collection: 'users', schema, sample: 2 })).checked).toBe(2);
  });

  test('bad input is refused before any network call', async () => {
    const fleet = createFleet(env.make());
    await expect(fleet.schemaDiff('bad.tenant', { collection: 'c', schema: z.object({}) })).rejects.toMatchObject({
      code: 'INVALID_TENANT',
    });
    await expect(fleet.schemaDiff('ok', { collection: 'c', schema: {} as never })).rejects.toMatchObject({ code: 'FLEET_SPEC_INVALID' });
  });
});
