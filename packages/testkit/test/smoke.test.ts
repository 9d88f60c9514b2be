import { MongoClient } from 'mongodb';
import { expect, test } from 'vitest';
import { EmbeddedMongo } from '../src/index.js';

test('smoke', async () => {
  const server = await new EmbeddedMongo().start();
  const client = await new MongoClient(server.uri, { serverSelectionTimeoutMS: 3000 }).connect();
  const c = client.db('a').collection('x');
  await c.insertOne({ _id: 1 as never, v: 1 });
  expect(await c.findOne({ _id: 1 as never })).toEqual({ _id: 1, v: 1 });
  await client.close();
  await server.stop();
});
