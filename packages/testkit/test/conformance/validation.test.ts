import { MongoServerError } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { uniqueDbName, useMongo } from '../helpers.js';

// Collection validators ($jsonSchema and query operators) as mongod 7.0 enforces them.
const env = useMongo();
const schema = {
  $jsonSchema: {
    bsonType: 'object',
    required: ['name', 'age'],
    properties: { name: { bsonType: 'string' }, age: { bsonType: 'int', minimum: 0 } },
  },
};

async function collectionWith(label: string, options: Record<string, unknown>) {
  const db = env.client.db(uniqueDbName(label));
  await db.createCollection('people', options);
  return db.collection('people');
}

describe('$jsonSchema validators', () => {
  test('an insert that breaks the schema fails with DocumentValidationFailure (121) and errInfo', async () => {
    const coll = await collectionWith('val-insert', { validator: schema });
    await coll.insertOne({ name: 'ada', age: 36 });
    const err = await coll.insertOne({ _id: 'bad' as never, name: 'bob' }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(121);
    expect(err.errInfo?.failingDocumentId).toBe('bad');
    expect(err.errInfo?.details?.operatorName).toBe('$jsonSchema');
    expect(await coll.countDocuments()).toBe(1);
  });

  test('bsonType distinguishes int from double', async () => {
    const coll = await collectionWith('val-type', { validator: schema });
    await expect(coll.insertOne({ name: 'eve', age: 36.5 })).rejects.toMatchObject({ code: 121 });
  });

  test('updates and replacements are validated', async () => {
    const coll = await collectionWith('val-update', { validator: schema });
    await coll.insertOne({ _id: 1 as never, name: 'ada', age: 36 });
    await expect(coll.updateOne({ _id: 1 as never }, { $set: { age: -1 } })).rejects.toMatchObject({ code: 121 });
    await expect(coll.replaceOne({ _id: 1 as never }, { name: 'ada' })).rejects.toMatchObject({ code: 121 });
    await expect(coll.findOneAndUpdate({ _id: 1 as never }, { $unset: { name: '' } })).rejects.toMatchObject({ code: 121 });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, name: 'ada', age: 36 });
  });

  test('an upsert that would insert an invalid document fails', async () => {
    const coll = await collectionWith('val-upsert', { validator: schema });
    await expect(coll.updateOne({ name: 'zed' }, { $set: { age: 'old' } }, { upsert: true })).rejects.toMatchObject({ code: 121 });
    expect(await coll.countDocuments()).toBe(0);
  });

  test('bypassDocumentValidation skips the validator', async () => {
    const coll = await collectionWith('val-bypass', { validator: schema });
    await coll.insertOne({ anything: true }, { bypassDocumentValidation: true });
    expect(await coll.countDocuments()).toBe(1);
  });

  test('an unsupported $jsonSchema keyword is refused at create', async () => {
    const db = env.client.db(uniqueDbName('val-keyword'));
    await expect(db.createCollection('c', { validator: { $jsonSchema: { bsonType: 'object', format: 'email' } } })).rejects.toBeInstanceOf(
      MongoServerError,
    );
  });
});

describe('query-operator validators and collMod', () => {
  test('a query-operator validator is enforced', async () => {
    const coll = await collectionWith('val-query', { validator: { status: { $in: ['active', 'closed'] } } });
    await coll.insertOne({ status: 'active' });
    await expect(coll.insertOne({ status: 'unknown' })).rejects.toMatchObject({ code: 121 });
  });

  test('collMod sets a validator on an existing collection, enforced from then on', async () => {
    const db = env.client.db(uniqueDbName('val-collmod'));
    const coll = db.collection('people');
    await coll.insertOne({ legacy: true });
    await db.command({ collMod: 'people', validator: schema });
    await expect(coll.insertOne({ name: 'no-age' })).rejects.toMatchObject({ code: 121 });
    const [info] = await db.listCollections({ name: 'people' }).toArray();
    expect((info as { options: Record<string, unknown> }).options.validator).toEqual(schema);
  });

  test("validationLevel 'moderate' lets updates of already-invalid documents through; 'strict' does not", async () => {
    const db = env.client.db(uniqueDbName('val-level'));
    const coll = db.collection('people');
    await coll.insertOne({ _id: 1 as never, legacy: true });
    await db.command({ collMod: 'people', validator: schema, validationLevel: 'moderate' });
    await coll.updateOne({ _id: 1 as never }, { $set: { touched: true } });
    await db.command({ collMod: 'people', validationLevel: 'strict' });
    await expect(coll.updateOne({ _id: 1 as never }, { $set: { again: true } })).rejects.toMatchObject({ code: 121 });
  });

  test("validationAction 'warn' accepts invalid documents", async () => {
    const coll = await collectionWith('val-warn', { validator: schema, validationAction: 'warn' });
    await coll.insertOne({ name: 'no-age' });
    expect(await coll.countDocuments()).toBe(1);
  });

  test("validationLevel 'off' disables the validator", async () => {
    const coll = await collectionWith('val-off', { validator: schema, validationLevel: 'off' });
    await coll.insertOne({ name: 'no-age' });
    expect(await coll.countDocuments()).toBe(1);
  });
});
