import { createRequire } from 'node:module';
import { MongoClient } from 'mongodb';
import mongoose, { Schema } from 'mongoose';
import { describe, expect, test } from 'vitest';
import { createMongooseAdapter } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();
// Mongoose 8's types declare an ambient 'mongoose' module, so its copy is loaded untyped and seen through 9's types.
const mongoose8 = createRequire(import.meta.url)('mongoose8') as typeof mongoose;

describe('one mongodb driver copy for PolyMongo and Mongoose', () => {
  test('native builds its pools from the driver module given as `mongodb`', async () => {
    class TracedClient extends MongoClient {}
    const poly = env.make({ mongodb: { MongoClient: TracedClient } });
    expect(poly.client()).toBeInstanceOf(TracedClient);
    await poly.db(tenantId('drv')).collection('c').insertOne({ a: 1 });
  });

  test('the adapter builds its pools from mongoose.mongo, so another Mongoose copy (8.x, driver 6.x) works', async () => {
    const m8 = new mongoose8.Mongoose();
    const adapter = createMongooseAdapter({ uri: env.mongo.uri, logger: { level: 'silent' }, mongoose: m8 });
    env.cleanup.push(() => adapter.close());
    const User = adapter.wrapModel(m8.model('DriverCopyUser', new m8.Schema({ name: String })));
    const t = tenantId('m8');
    await User.db(t).create({ name: 'Ada' });
    expect((await User.db(t).find().lean()).map((u) => u.name)).toEqual(['Ada']);
    expect(await env.observer.db(t).collection('drivercopyusers').countDocuments()).toBe(1);
  });

  test('a client of another driver copy fails at adapter creation with DRIVER_MISMATCH, not a buffering timeout', () => {
    const poly = env.make({ mongodb: { MongoClient } }); // the 7.x driver this package resolves
    const m8 = new mongoose8.Mongoose(); // Mongoose 8 on its 6.x driver
    expect(() => createMongooseAdapter({ poly, mongoose: m8 })).toThrow(
      expect.objectContaining({ code: 'DRIVER_MISMATCH', message: expect.stringMatching(/mongoose\.mongo/) }),
    );
  });

  test('wrapModel rejects an object without modelName or schema at once with INVALID_MODEL', () => {
    const adapter = createMongooseAdapter({ poly: env.make() });
    const model = mongoose.model('DriverCopyValid', new Schema({ a: Number }));
    expect(() => adapter.wrapModel(model)).not.toThrow();
    for (const bad of [{}, { modelName: 'X' }, { schema: model.schema }, null, undefined, 'User']) {
      expect(() => adapter.wrapModel(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_MODEL' }));
    }
  });
});
