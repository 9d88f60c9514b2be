import type { CollationOptions, Document } from 'mongodb';
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

describe('collation of indexes and collections', () => {
  test('a unique index with strength 2 rejects case variants; queries use their own collation, not the index one', async () => {
    const coll = env.client.db(uniqueDbName('coll-index')).collection('c');
    await coll.createIndex({ name: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await coll.insertOne({ _id: 1 as never, name: 'Cafe' });
    await expect(coll.insertOne({ _id: 2 as never, name: 'cafe' })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.insertOne({ _id: 3 as never, name: 'CAFE' })).rejects.toMatchObject({ code: 11000 });
    await coll.insertOne({ _id: 4 as never, name: 'café' });
    expect(await coll.countDocuments({ name: 'cafe' })).toBe(0);
    expect(await coll.countDocuments({ name: 'cafe' }, { collation: { locale: 'en', strength: 2 } })).toBe(1);
    expect(await coll.countDocuments({ name: 'cafe' }, { collation: { locale: 'en', strength: 1 } })).toBe(2);
  });

  test("the _id index takes the collection's default collation: _id strings equal under it are duplicates", async () => {
    const db = env.client.db(uniqueDbName('coll-id'));
    await db.createCollection('c', { collation: { locale: 'en', strength: 2 } });
    const coll = db.collection<{ _id: string; n: number }>('c');
    await coll.insertOne({ _id: 'abc', n: 1 });
    await expect(coll.insertOne({ _id: 'ABC', n: 2 })).rejects.toMatchObject({ code: 11000 });
    expect(await coll.findOne({ _id: 'Abc' })).toEqual({ _id: 'abc', n: 1 });
  });

  test('indexes on the same key with different collations are different indexes', async () => {
    const coll = env.client.db(uniqueDbName('coll-two-indexes')).collection('c');
    await coll.createIndex({ name: 1 }, { name: 'name_ci', collation: { locale: 'en', strength: 2 } });
    await coll.createIndex({ name: 1 }, { name: 'name_binary' });
    expect((await coll.listIndexes().toArray()).map((ix) => ix.name).sort()).toEqual(['_id_', 'name_binary', 'name_ci']);
  });

  test("a collection's default collation applies to queries and indexes that name none; 'simple' overrides it", async () => {
    const db = env.client.db(uniqueDbName('coll-default'));
    await db.createCollection('c', { collation: { locale: 'en', strength: 2 } });
    const coll = db.collection('c');
    await coll.createIndex({ name: 1 }, { unique: true });
    await coll.insertOne({ _id: 1 as never, name: 'Tea' });
    await expect(coll.insertOne({ _id: 2 as never, name: 'TEA' })).rejects.toMatchObject({ code: 11000 });
    expect(await coll.countDocuments({ name: 'tea' })).toBe(1);
    expect(await coll.countDocuments({ name: 'tea' }, { collation: { locale: 'simple' } })).toBe(0);
    expect(await coll.aggregate([{ $match: { name: 'tea' } }]).toArray()).toHaveLength(1);
  });
});

describe('collation in comparisons and options', () => {
  test('range operators compare by the locale: lower case sorts before upper case at strength 3', async () => {
    const coll = await seeded('coll-range');
    await coll.insertMany([
      { _id: 5 as never, name: 'b' },
      { _id: 6 as never, name: 'B' },
    ]);
    expect(ids(await coll.find({ name: { $gt: 'b', $lt: 'c' } }).toArray())).toEqual([]);
    expect(ids(await coll.find({ name: { $gt: 'b', $lt: 'c' } }, { collation: { locale: 'en' } }).toArray())).toEqual([6]);
  });

  test('numericOrdering compares digit runs as numbers; caseLevel makes strength 1 case-sensitive', async () => {
    const coll = env.client.db(uniqueDbName('coll-opts')).collection('c');
    await coll.insertMany([
      { _id: 1 as never, v: 'item10' },
      { _id: 2 as never, v: 'item9' },
      { _id: 3 as never, v: 'item100' },
    ]);
    const numeric = { locale: 'en', numericOrdering: true };
    expect((await coll.find({}, { collation: numeric }).sort({ v: 1 }).toArray()).map((d) => d.v)).toEqual(['item9', 'item10', 'item100']);
    expect((await coll.find({}).sort({ v: 1 }).toArray()).map((d) => d.v)).toEqual(['item10', 'item100', 'item9']);
    expect(await coll.countDocuments({ v: { $lt: 'item20' } }, { collation: numeric })).toBe(2);

    const words = await seeded('coll-caselevel');
    const caseLevel = { locale: 'en', strength: 1, caseLevel: true };
    expect(ids(await words.find({ name: 'cafe' }, { collation: caseLevel }).toArray())).toEqual([1, 3]);
  });

  test("caseFirst 'upper' sorts upper case first; alternate 'shifted' ignores punctuation; backwards reads accents from the end", async () => {
    const coll = env.client.db(uniqueDbName('coll-more-opts')).collection('c');
    await coll.insertMany([
      { _id: 1 as never, v: 'a' },
      { _id: 2 as never, v: 'A' },
      { _id: 3 as never, v: 'a-b' },
      { _id: 4 as never, v: 'ab' },
      { _id: 5 as never, w: 'cote' },
      { _id: 6 as never, w: 'coté' },
      { _id: 7 as never, w: 'côte' },
      { _id: 8 as never, w: 'côté' },
    ]);
    const sorted = async (field: string, filter: Document, collation: CollationOptions) =>
      (
        await coll
          .find(filter, { collation })
          .sort({ [field]: 1 })
          .toArray()
      ).map((d) => d[field]);
    expect(await sorted('v', { v: { $in: ['a', 'A'] } }, { locale: 'en' })).toEqual(['a', 'A']);
    expect(await sorted('v', { v: { $in: ['a', 'A'] } }, { locale: 'en', caseFirst: 'upper' })).toEqual(['A', 'a']);
    expect(ids(await coll.find({ v: 'ab' }, { collation: { locale: 'en', alternate: 'shifted' } }).toArray())).toEqual([3, 4]);
    const words = { w: { $exists: true } };
    expect(await sorted('w', words, { locale: 'en' })).toEqual(['cote', 'coté', 'côte', 'côté']);
    expect(await sorted('w', words, { locale: 'en', backwards: true })).toEqual(['cote', 'côte', 'coté', 'côté']);
  });

  test('aggregate applies the collation to $match after other stages, to $sort and to $group keys', async () => {
    const coll = await seeded('coll-agg');
    const collation = { locale: 'en', strength: 2 };
    const matched = await coll
      .aggregate([{ $addFields: { n: 1 } }, { $match: { name: 'CAFE' } }, { $sort: { _id: 1 } }], { collation })
      .toArray();
    expect(matched.map((d) => d._id)).toEqual([1, 2]);
    const groups = await coll
      .aggregate([{ $group: { _id: '$name', n: { $sum: 1 } } }, { $sort: { n: -1, _id: 1 } }], { collation })
      .toArray();
    expect(groups.map((g) => g.n)).toEqual([2, 1, 1]);
    const sorted = await coll.aggregate([{ $sort: { name: 1, _id: 1 } }], { collation: { locale: 'en' } }).toArray();
    expect(sorted.map((d) => d.name)).toEqual(['cafe', 'Cafe', 'café', 'tea']);
  });
});

describe('collation in joins', () => {
  test('$lookup matches localField and foreignField under the aggregate collation', async () => {
    const db = env.client.db(uniqueDbName('coll-lookup'));
    await db.collection('orders').insertOne({ _id: 1 as never, item: 'CAFE' });
    await db.collection('items').insertMany([
      { _id: 1 as never, name: 'cafe' },
      { _id: 2 as never, name: 'tea' },
    ]);
    const pipeline = [{ $lookup: { from: 'items', localField: 'item', foreignField: 'name', as: 'found' } }];
    const [binary] = await db.collection('orders').aggregate(pipeline).toArray();
    expect(binary?.found).toEqual([]);
    const [collated] = await db
      .collection('orders')
      .aggregate(pipeline, { collation: { locale: 'en', strength: 2 } })
      .toArray();
    expect(collated?.found).toEqual([{ _id: 1, name: 'cafe' }]);
  });
});
