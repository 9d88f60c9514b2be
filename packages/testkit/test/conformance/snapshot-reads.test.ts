import { type CommandSucceededEvent, type Document, Timestamp } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Snapshot reads outside transactions (MongoDB 5.0+): a session with `snapshot: true` reads every find, aggregate and
// distinct at the cluster time of its first read, which the server reports as `atClusterTime`; writes in such a
// session fail with InvalidOptions (72).
const env = useMongo({ monitorCommands: true });

async function seeded(label: string) {
  const coll = env.client.db(uniqueDbName(label)).collection<{ _id: number; x: number }>('c');
  await coll.insertMany([
    { _id: 1, x: 11 },
    { _id: 2, x: 11 },
  ]);
  return coll;
}

/** Replies of the commands named `name` while `fn` runs. */
async function repliesOf(name: string, fn: () => Promise<unknown>): Promise<Document[]> {
  const replies: Document[] = [];
  const listener = (event: CommandSucceededEvent) => {
    if (event.commandName === name) replies.push(event.reply as Document);
  };
  env.client.on('commandSucceeded', listener);
  try {
    await fn();
  } finally {
    env.client.off('commandSucceeded', listener);
  }
  return replies;
}

describe('snapshot sessions', () => {
  test('find reads at the time of the first read; later writes are invisible to it', async () => {
    const coll = await seeded('snap-find');
    const session = env.client.startSession({ snapshot: true });
    try {
      const [first] = await repliesOf('find', async () => {
        expect(await coll.find({ _id: 1 }, { session }).toArray()).toEqual([{ _id: 1, x: 11 }]);
      });
      expect((first?.cursor as Document | undefined)?.atClusterTime?._bsontype).toBe('Timestamp');
      await coll.updateOne({ _id: 1 }, { $inc: { x: 1 } });
      await coll.insertOne({ _id: 3, x: 33 });
      await coll.deleteOne({ _id: 2 });
      expect(await coll.find({}, { session }).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, x: 11 },
        { _id: 2, x: 11 },
      ]);
      expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, x: 12 },
        { _id: 3, x: 33 },
      ]);
    } finally {
      await session.endSession();
    }
  });

  test('aggregate and distinct read at the same snapshot; distinct replies with atClusterTime at the top level', async () => {
    const coll = await seeded('snap-agg');
    const session = env.client.startSession({ snapshot: true });
    try {
      const [first] = await repliesOf('distinct', async () => {
        expect(await coll.distinct('x', {}, { session })).toEqual([11]);
      });
      expect((first?.atClusterTime as Timestamp | undefined)?._bsontype).toBe('Timestamp');
      await coll.updateOne({ _id: 2 }, { $set: { x: 12 } });
      await coll.insertOne({ _id: 3, x: 33 });
      expect(await coll.distinct('x', {}, { session })).toEqual([11]);
      expect((await coll.distinct('x')).sort()).toEqual([11, 12, 33]);
      const grouped = await coll.aggregate([{ $group: { _id: null, n: { $sum: 1 } } }], { session }).toArray();
      expect(grouped).toEqual([{ _id: null, n: 2 }]);
      expect(await coll.countDocuments({}, { session })).toBe(2);
    } finally {
      await session.endSession();
    }
  });

  test('each snapshot session reads at its own time', async () => {
    const coll = await seeded('snap-two');
    const early = env.client.startSession({ snapshot: true });
    const late = env.client.startSession({ snapshot: true });
    try {
      await coll.find({ _id: 1 }, { session: early }).toArray();
      await coll.updateOne({ _id: 1 }, { $inc: { x: 1 } });
      await coll.find({ _id: 1 }, { session: late }).toArray();
      await coll.updateOne({ _id: 1 }, { $inc: { x: 1 } });
      expect(await coll.findOne({ _id: 1 }, { session: early })).toEqual({ _id: 1, x: 11 });
      expect(await coll.findOne({ _id: 1 }, { session: late })).toEqual({ _id: 1, x: 12 });
      expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, x: 13 });
    } finally {
      await early.endSession();
      await late.endSession();
    }
  });

  test('writes in a snapshot session fail with InvalidOptions', async () => {
    const coll = await seeded('snap-write');
    const session = env.client.startSession({ snapshot: true });
    try {
      await expect(coll.insertOne({ _id: 5, x: 1 }, { session })).rejects.toMatchObject({ code: 72 });
      await expect(coll.updateOne({ _id: 1 }, { $set: { x: 0 } }, { session })).rejects.toMatchObject({ code: 72 });
      await expect(coll.deleteOne({ _id: 1 }, { session })).rejects.toMatchObject({ code: 72 });
      await expect(coll.findOneAndUpdate({ _id: 1 }, { $set: { x: 0 } }, { session })).rejects.toMatchObject({ code: 72 });
      await expect(coll.listIndexes({ session }).toArray()).rejects.toMatchObject({ code: 72 });
      expect(await coll.find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 1, x: 11 },
        { _id: 2, x: 11 },
      ]);
    } finally {
      await session.endSession();
    }
  });
});

describe('readConcern snapshot with atClusterTime', () => {
  test('find, aggregate and distinct at an earlier operationTime see the data as of then', async () => {
    const coll = await seeded('snap-at');
    const db = env.client.db(coll.dbName);
    const written = await db.command({ update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { x: 20 } } }] });
    const at = written.operationTime as Timestamp;
    await coll.updateOne({ _id: 1 }, { $set: { x: 30 } });
    await coll.insertOne({ _id: 3, x: 40 });
    const readConcern = { level: 'snapshot', atClusterTime: at };

    const found = await db.command({ find: 'c', filter: {}, sort: { _id: 1 }, readConcern });
    expect(found.cursor.firstBatch).toEqual([
      { _id: 1, x: 20 },
      { _id: 2, x: 11 },
    ]);
    expect((found.cursor.atClusterTime as Timestamp).equals(at)).toBe(true);

    const aggregated = await db.command({ aggregate: 'c', pipeline: [{ $match: { x: { $gte: 20 } } }], cursor: {}, readConcern });
    expect(aggregated.cursor.firstBatch).toEqual([{ _id: 1, x: 20 }]);

    const distinct = await db.command({ distinct: 'c', key: 'x', readConcern });
    expect([...distinct.values].sort()).toEqual([11, 20]);
    expect((distinct.atClusterTime as Timestamp).equals(at)).toBe(true);
  });

  test('a later atClusterTime than the server has seen, and snapshot reads by other commands, fail with InvalidOptions', async () => {
    const coll = await seeded('snap-bad');
    const db = env.client.db(coll.dbName);
    const { operationTime } = await db.command({ ping: 1 });
    const future = new Timestamp({ t: (operationTime as Timestamp).t + 3600, i: 1 });
    await expect(db.command({ find: 'c', readConcern: { level: 'snapshot', atClusterTime: future } })).rejects.toMatchObject({ code: 72 });
    await expect(db.command({ count: 'c', readConcern: { level: 'snapshot' } })).rejects.toMatchObject({ code: 72 });
    await expect(db.command({ find: 'c', readConcern: { level: 'local', atClusterTime: operationTime } })).rejects.toMatchObject({
      code: 72,
    });
  });
});
