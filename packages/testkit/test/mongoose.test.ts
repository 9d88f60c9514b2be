import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningMongo, startMongo } from '../src/index.js';
import { uniqueDbName } from './helpers.js';

let mongo: RunningMongo;
let conn: mongoose.Connection;

beforeAll(async () => {
  mongo = await startMongo({ quiet: true });
  conn = await mongoose.createConnection(mongo.uri, { dbName: uniqueDbName('mg'), serverSelectionTimeoutMS: 5000 }).asPromise();
});

afterAll(async () => {
  await conn?.close();
  await mongo?.stop();
});

const userSchema = new mongoose.Schema({ name: { type: String, required: true }, email: { type: String, unique: true } });

describe('Mongoose against the test server', () => {
  test('models create, query and enforce schema unique indexes', async () => {
    const User = conn.model('User', userSchema);
    await User.init();
    await User.create({ name: 'ada', email: 'ada@x.io' });
    const found = await User.findOne({ email: 'ada@x.io' }).lean();
    expect(found?.name).toBe('ada');
    const err = await User.create({ name: 'copy', email: 'ada@x.io' }).catch((e) => e);
    expect(err.code).toBe(11000);
  });

  test('useDb keeps each database apart over one connection', async () => {
    const a = conn.useDb(uniqueDbName('mga'), { useCache: true });
    const b = conn.useDb(uniqueDbName('mgb'), { useCache: true });
    const Ta = a.model('Thing', new mongoose.Schema({ v: Number }));
    const Tb = b.model('Thing', new mongoose.Schema({ v: Number }));
    await Ta.create({ v: 1 });
    await Tb.create([{ v: 2 }, { v: 3 }]);
    expect(await Ta.countDocuments()).toBe(1);
    expect((await Tb.find().sort({ v: 1 }).lean()).map((d) => d.v)).toEqual([2, 3]);
  });

  test('Mongoose transactions commit and abort', async () => {
    const Acc = conn.model('Acc', new mongoose.Schema({ n: Number }));
    await Acc.createCollection();
    await conn.transaction(async (session) => {
      await Acc.create([{ n: 1 }], { session });
    });
    await conn
      .transaction(async (session) => {
        await Acc.create([{ n: 2 }], { session });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect((await Acc.find().lean()).map((d) => d.n)).toEqual([1]);
  });

  test('validation errors write nothing', async () => {
    const Strict = conn.model('Strict', new mongoose.Schema({ name: { type: String, required: true } }));
    await expect(Strict.create({})).rejects.toThrow(/required/);
    expect(await Strict.countDocuments()).toBe(0);
  });
});
