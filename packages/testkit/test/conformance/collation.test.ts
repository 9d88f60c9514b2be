import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Collation with locale 'en' at strengths 1 (base letters), 2 (accents) and 3 (case), per operation.
const env = useMongo();

async function seeded(label: string) {
  const coll = env.client.db(uniqueDbName(label)).collection('c');
  await coll.insertMany([
    { _id: 1 as never, name: 'cafe' },
    { _id: 2 as never, name: 'Cafe' },
    { _id: 3 as never, name: 'café' },
    { _id: 4 as never, name: 'tea' },
  ]);
  return coll;
}

const ids = (docs: Array<{ _id: unknown }>) => docs.map((d) => d._id).sort();

describe('collation (locale en)', () => {
  test('strength 1 ignores case and accents, 2 ignores case, 3 is exact', async () => {
    const coll = await seeded('coll-find');
    expect(ids(await coll.find({ name: 'cafe' }, { collation: { locale: 'en', strength: 1 } }).toArray())).toEqual([1, 2, 3]);
    expect(ids(await coll.find({ name: 'cafe' }, { collation: { locale: 'en', strength: 2 } }).toArray())).toEqual([1, 2]);
    expect(ids(await coll.find({ name: 'cafe' }, { collation: { locale: 'en', strength: 3 } }).toArray())).toEqual([1]);
  });

  test('count, distinct, update and delete honour the collation', async () => {
    const coll = await seeded('coll-ops');
    const ci = { locale: 'en', strength: 2 };
    expect(await coll.countDocuments({ name: 'CAFE' }, { collation: ci })).toBe(2);
    expect((await coll.distinct('name', {}, { collation: { locale: 'en', strength: 1 } })).length).toBe(2);
    await coll.updateMany({ name: 'CAFE' }, { $set: { hit: true } }, { collation: ci });
    expect(await coll.countDocuments({ hit: true })).toBe(2);
    await coll.deleteMany({ name: 'CAFÉ' }, { collation: ci });
    expect(ids(await coll.find({}).toArray())).toEqual([1, 2, 4]);
  });

  test('sort orders strings by the locale rather than by code point', async () => {
    const coll = await seeded('coll-sort');
    const names = (await coll.find({}).sort({ name: 1 }).collation({ locale: 'en' }).toArray()).map((d) => d.name);
    expect(names.indexOf('cafe')).toBeLessThan(names.indexOf('Cafe'));
    expect(names.indexOf('Cafe')).toBeLessThan(names.indexOf('tea'));
  });
});
