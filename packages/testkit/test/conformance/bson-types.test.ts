import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Every BSON type reads back exactly as written, and numbers compare and sort by value across types.
const env = useMongo();
const raw = { promoteValues: false, promoteLongs: false, promoteBuffers: false } as const;
const typeOf = (v: unknown) => (v !== null && typeof v === 'object' ? (v as { _bsontype?: string })._bsontype : typeof v);

describe('BSON types survive storage', () => {
  test('Int32, Double, Long, Decimal128, Timestamp, MinKey and MaxKey read back with their types', async () => {
    const coll = env.client.db(uniqueDbName('bson')).collection('c');
    await coll.insertOne({
      _id: 1 as never,
      int: new Int32(5),
      wholeDouble: new Double(5),
      smallLong: Long.fromNumber(5),
      bigLong: Long.fromString('9007199254740993'),
      decimal: Decimal128.fromString('1.10'),
      ts: new Timestamp({ t: 100, i: 7 }),
      min: new MinKey(),
      max: new MaxKey(),
      nested: { list: [new Double(1), Long.fromNumber(2), new Int32(3)] },
    });
    const doc = (await coll.findOne({ _id: 1 as never }, raw)) as Record<string, unknown>;
    expect(typeOf(doc.int)).toBe('Int32');
    expect(typeOf(doc.wholeDouble)).toBe('Double');
    expect(typeOf(doc.smallLong)).toBe('Long');
    expect(String(doc.bigLong)).toBe('9007199254740993');
    expect(String(doc.decimal)).toBe('1.10');
    expect((doc.ts as Timestamp).equals(new Timestamp({ t: 100, i: 7 }))).toBe(true);
    expect(typeOf(doc.min)).toBe('MinKey');
    expect(typeOf(doc.max)).toBe('MaxKey');
    expect((doc.nested as { list: unknown[] }).list.map(typeOf)).toEqual(['Double', 'Long', 'Int32']);
  });

  test('Binary subtypes are kept', async () => {
    const coll = env.client.db(uniqueDbName('bson-bin')).collection('c');
    const uuid = new UUID();
    await coll.insertOne({ _id: 1 as never, generic: new Binary(Buffer.from('ab'), 0), uuid, user: new Binary(Buffer.from('cd'), 128) });
    const doc = (await coll.findOne({ _id: 1 as never }, raw)) as Record<string, Binary>;
    expect(doc.generic?.sub_type).toBe(0);
    expect(doc.uuid?.sub_type).toBe(4);
    expect(doc.uuid?.toString('hex')).toBe(uuid.toString('hex'));
    expect(doc.user?.sub_type).toBe(128);
  });

  test('an update keeps the types of the fields it does not touch, and $set stores the given type', async () => {
    const coll = env.client.db(uniqueDbName('bson-upd')).collection('c');
    await coll.insertOne({ _id: 1 as never, keep: new Double(2), other: 1 });
    await coll.updateOne({ _id: 1 as never }, { $set: { other: Long.fromNumber(3) } });
    const doc = (await coll.findOne({ _id: 1 as never }, raw)) as Record<string, unknown>;
    expect(typeOf(doc.keep)).toBe('Double');
    expect(typeOf(doc.other)).toBe('Long');
  });

  test('$inc keeps MongoDB result types: Long stays Long, Double stays Double, Int32 overflows into Long', async () => {
    const coll = env.client.db(uniqueDbName('bson-inc')).collection('c');
    await coll.insertOne({ _id: 1 as never, long: Long.fromNumber(1), double: new Double(1), int: new Int32(2147483647) });
    await coll.updateOne({ _id: 1 as never }, { $inc: { long: 1, double: 1, int: 1 } });
    const doc = (await coll.findOne({ _id: 1 as never }, raw)) as Record<string, unknown>;
    expect(typeOf(doc.long)).toBe('Long');
    expect(String(doc.long)).toBe('2');
    expect(typeOf(doc.double)).toBe('Double');
    expect(typeOf(doc.int)).toBe('Long');
    expect(String(doc.int)).toBe('2147483648');
  });
});

describe('numbers compare across BSON types', () => {
  test('an equality query matches equal numbers of every numeric type', async () => {
    const coll = env.client.db(uniqueDbName('bson-eq')).collection('c');
    await coll.insertMany([
      { _id: 1 as never, v: new Int32(5) },
      { _id: 2 as never, v: new Double(5) },
      { _id: 3 as never, v: Long.fromNumber(5) },
      { _id: 4 as never, v: Decimal128.fromString('5') },
      { _id: 5 as never, v: new Double(5.5) },
    ]);
    const ids = (await coll.find({ v: 5 }).toArray()).map((d) => d._id);
    expect(ids.sort()).toEqual([1, 2, 3, 4]);
    expect(await coll.countDocuments({ v: { $gt: Decimal128.fromString('5.1') } })).toBe(1);
  });

  test('sort orders numbers by value whatever their type', async () => {
    const coll = env.client.db(uniqueDbName('bson-sort')).collection('c');
    await coll.insertMany([
      { _id: 'a' as never, v: Long.fromNumber(3) },
      { _id: 'b' as never, v: new Double(2.5) },
      { _id: 'c' as never, v: new Int32(1) },
      { _id: 'd' as never, v: Decimal128.fromString('4') },
    ]);
    const order = (await coll.find({}).sort({ v: 1 }).toArray()).map((d) => d._id);
    expect(order).toEqual(['c', 'b', 'a', 'd']);
  });

  test('equal numbers of different types are one _id and one distinct value', async () => {
    const coll = env.client.db(uniqueDbName('bson-id')).collection('c');
    await coll.insertOne({ _id: new Int32(7) as never, v: Long.fromNumber(1) });
    await expect(coll.insertOne({ _id: Long.fromNumber(7) as never })).rejects.toMatchObject({ code: 11000 });
    await coll.insertOne({ _id: 8 as never, v: new Double(1) });
    expect(await coll.distinct('v')).toHaveLength(1);
  });
});

describe('aggregation results keep MongoDB numeric types', () => {
  test('$match and $sort return documents with their stored types', async () => {
    const coll = env.client.db(uniqueDbName('bson-agg-pass')).collection('c');
    await coll.insertOne({ _id: 1 as never, d: new Double(5), l: Long.fromNumber(6), i: new Int32(7) });
    const [doc] = (await coll.aggregate([{ $match: { d: 5 } }, { $sort: { _id: 1 } }], raw).toArray()) as Array<Record<string, unknown>>;
    expect([typeOf(doc?.d), typeOf(doc?.l), typeOf(doc?.i)]).toEqual(['Double', 'Long', 'Int32']);
  });

  test('$sum of Int32 values is Int32 and becomes Long on overflow; with a Double it is Double; $avg is Double', async () => {
    const coll = env.client.db(uniqueDbName('bson-agg-sum')).collection('c');
    await coll.insertMany([
      { _id: 1 as never, g: 'small', v: new Int32(2) },
      { _id: 2 as never, g: 'small', v: new Int32(4) },
      { _id: 3 as never, g: 'big', v: new Int32(2147483647) },
      { _id: 4 as never, g: 'big', v: new Int32(1) },
      { _id: 5 as never, g: 'mixed', v: new Int32(1) },
      { _id: 6 as never, g: 'mixed', v: new Double(2) },
    ]);
    const rows = (await coll
      .aggregate([{ $group: { _id: '$g', sum: { $sum: '$v' }, avg: { $avg: '$v' }, n: { $sum: 1 }, max: { $max: '$v' } } }], raw)
      .toArray()) as Array<Record<string, unknown>>;
    const by = Object.fromEntries(rows.map((r) => [String(r._id), r]));
    expect(typeOf(by.small?.sum)).toBe('Int32');
    expect(String(by.small?.sum)).toBe('6');
    expect(typeOf(by.small?.avg)).toBe('Double');
    expect(typeOf(by.small?.n)).toBe('Int32');
    expect(typeOf(by.big?.sum)).toBe('Long');
    expect(String(by.big?.sum)).toBe('2147483648');
    expect(typeOf(by.mixed?.sum)).toBe('Double');
    expect(typeOf(by.mixed?.max)).toBe('Double');
  });

  test('$out writes documents with their stored types', async () => {
    const db = env.client.db(uniqueDbName('bson-agg-out'));
    await db.collection('src').insertOne({ _id: 1 as never, d: new Double(3), l: Long.fromNumber(4) });
    await db
      .collection('src')
      .aggregate([{ $match: {} }, { $out: 'dst' }])
      .toArray();
    const doc = (await db.collection('dst').findOne({}, raw)) as Record<string, unknown>;
    expect([typeOf(doc.d), typeOf(doc.l)]).toEqual(['Double', 'Long']);
  });
});

describe('BSON type order', () => {
  test('sorts order MinKey < null < numbers < strings < objects < ObjectId < booleans < dates < MaxKey', async () => {
    const coll = env.client.db(uniqueDbName('bson-order')).collection('c');
    await coll.insertMany([
      { _id: 'max' as never, v: new MaxKey() },
      { _id: 'date' as never, v: new Date(0) },
      { _id: 'bool' as never, v: false },
      { _id: 'oid' as never, v: new ObjectId() },
      { _id: 'obj' as never, v: { a: 1 } },
      { _id: 'str' as never, v: 'a' },
      { _id: 'num' as never, v: 5 },
      { _id: 'null' as never, v: null },
      { _id: 'min' as never, v: new MinKey() },
    ]);
    const order = ['min', 'null', 'num', 'str', 'obj', 'oid', 'bool', 'date', 'max'];
    expect((await coll.find({}).sort({ v: 1 }).toArray()).map((d) => d._id)).toEqual(order);
    expect((await coll.find({}).sort({ v: -1 }).toArray()).map((d) => d._id)).toEqual([...order].reverse());
    expect((await coll.aggregate([{ $sort: { v: 1 } }]).toArray()).map((d) => d._id)).toEqual(order);
  });

  test('$min and $max updates compare across types: MinKey is below and MaxKey above every value', async () => {
    const coll = env.client.db(uniqueDbName('bson-minmax')).collection('c');
    await coll.insertOne({ _id: 1 as never, low: 5, high: 5, text: 5 });
    await coll.updateOne({ _id: 1 as never }, { $min: { low: new MinKey() }, $max: { high: new MaxKey(), text: 'a' } });
    const doc = (await coll.findOne({ _id: 1 as never }, raw)) as Record<string, unknown>;
    expect([typeOf(doc.low), typeOf(doc.high), doc.text]).toEqual(['MinKey', 'MaxKey', 'a']);
  });
});

describe('comparisons with MinKey and MaxKey', () => {
  test('every value is above MinKey and below MaxKey, whatever its type', async () => {
    const coll = env.client.db(uniqueDbName('bson-extremes')).collection('c');
    await coll.insertMany([
      { _id: 'num' as never, v: 5 },
      { _id: 'str' as never, v: 'a' },
      { _id: 'date' as never, v: new Date(0) },
      { _id: 'min' as never, v: new MinKey() },
      { _id: 'max' as never, v: new MaxKey() },
    ]);
    const ids = async (filter: object) => (await coll.find(filter).toArray()).map((d) => d._id).sort();
    expect(await ids({ v: { $gt: new MinKey() } })).toEqual(['date', 'max', 'num', 'str']);
    expect(await ids({ v: { $gte: new MinKey() } })).toEqual(['date', 'max', 'min', 'num', 'str']);
    expect(await ids({ v: { $lt: new MaxKey() } })).toEqual(['date', 'min', 'num', 'str']);
    expect(await ids({ v: { $lt: new MinKey() } })).toEqual([]);
    expect(await ids({ v: { $gt: new MinKey(), $lt: 10 } })).toEqual(['num']);
    expect(await ids({ v: new MaxKey() })).toEqual(['max']);
  });
});

describe('aggregation carries stored documents through joins and groups', () => {
  test('$lookup joins documents with their types, and $push of $$ROOT keeps them', async () => {
    const db = env.client.db(uniqueDbName('bson-lookup'));
    await db.collection('orders').insertOne({ _id: 1 as never, item: 'a', qty: new Double(2) });
    await db.collection('items').insertOne({ _id: 'a' as never, price: Long.fromNumber(7) });
    const [joined] = (await db
      .collection('orders')
      .aggregate([{ $lookup: { from: 'items', localField: 'item', foreignField: '_id', as: 'items' } }], raw)
      .toArray()) as Array<Record<string, unknown>>;
    expect(typeOf(joined?.qty)).toBe('Double');
    expect(typeOf((joined?.items as Array<Record<string, unknown>> | undefined)?.[0]?.price)).toBe('Long');
    const [grouped] = (await db
      .collection('orders')
      .aggregate([{ $group: { _id: null, all: { $push: '$$ROOT' } } }], raw)
      .toArray()) as Array<Record<string, unknown>>;
    expect(typeOf((grouped?.all as Array<Record<string, unknown>> | undefined)?.[0]?.qty)).toBe('Double');
  });
});
