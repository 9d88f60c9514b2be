import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// `let` variables, visible as $$name in $expr, in every command that takes them (MongoDB 5.0+).
const env = useMongo();

async function seeded(label: string) {
  const coll = env.client.db(uniqueDbName(label)).collection('c');
  await coll.insertMany([
    { _id: 1 as never, status: 'open', n: 1 },
    { _id: 2 as never, status: 'closed', n: 2 },
  ]);
  return coll;
}

const isTarget = { $expr: { $eq: ['$status', '$$target'] } };

describe('let', () => {
  test('in find', async () => {
    const coll = await seeded('let-find');
    const docs = await coll.find(isTarget, { let: { target: 'open' } }).toArray();
    expect(docs.map((d) => d._id)).toEqual([1]);
  });

  test('in aggregate', async () => {
    const coll = await seeded('let-agg');
    const docs = await coll
      .aggregate([{ $match: isTarget }, { $project: { _id: 1, label: '$$target' } }], { let: { target: 'closed' } })
      .toArray();
    expect(docs).toEqual([{ _id: 2, label: 'closed' }]);
  });

  test('in update, with a pipeline update using the variable', async () => {
    const coll = await seeded('let-update');
    await coll.updateMany(isTarget, [{ $set: { reason: '$$why' } }], { let: { target: 'open', why: 'because' } });
    expect(await coll.findOne({ _id: 1 as never })).toMatchObject({ reason: 'because' });
    expect(await coll.findOne({ _id: 2 as never })).not.toHaveProperty('reason');
  });

  test('in delete', async () => {
    const coll = await seeded('let-delete');
    await coll.deleteMany(isTarget, { let: { target: 'closed' } });
    expect((await coll.find({}).toArray()).map((d) => d._id)).toEqual([1]);
  });

  test('in findAndModify', async () => {
    const coll = await seeded('let-fam');
    const before = await coll.findOneAndUpdate(isTarget, { $set: { seen: true } }, { let: { target: 'closed' } });
    expect(before?._id).toBe(2);
  });

  test('in bulk writes', async () => {
    const coll = await seeded('let-bulk');
    await coll.bulkWrite([{ updateMany: { filter: isTarget, update: { $set: { bulk: true } } } }], { let: { target: 'open' } });
    expect(await coll.countDocuments({ bulk: true })).toBe(1);
  });
});
