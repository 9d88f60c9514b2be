import { Readable } from 'node:stream';
import { Binary, BSON, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { createFleet } from '../src/index.js';
import { unique, useServer } from './helpers.js';

const env = useServer();
const { EJSON } = BSON;

async function snapshot(dbName: string) {
  const db = env.observer.db(dbName);
  const collections = (await db.listCollections().toArray()).map((c) => c.name).sort();
  const out: Record<string, unknown> = {};
  for (const name of collections) {
    const docs = await db
      .collection(name)
      .find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false })
      .sort({ _id: 1 })
      .toArray();
    const indexes = (await db.collection(name).listIndexes().toArray()).map(({ v: _v, ns: _ns, ...ix }) => ix);
    out[name] = { docs: EJSON.stringify(docs, { relaxed: false }), indexes };
  }
  return out;
}

async function text(readable: Readable): Promise<string> {
  let all = '';
  for await (const chunk of readable) all += chunk.toString();
  return all;
}

describe('export, import, copy', () => {
  test('export then import round-trips documents with their BSON types, collection options and indexes', async () => {
    const [from, to] = [unique('exp'), unique('imp')];
    const db = env.observer.db(from);
    await db.createCollection('capped', { capped: true, size: 65536 });
    await db.collection('things').insertMany([
      {
        _id: new ObjectId(),
        at: new Date('2026-11-23T01:02:03.004Z'),
        price: Decimal128.fromString('19.99'),
        big: Long.fromString('9007199254740993'),
        int: new Int32(7),
        dbl: new Double(2),
        bin: new Binary(Buffer.from([1, 2, 3]), 0x80),
        uuid: new Binary(Buffer.alloc(16, 7), 4),
        nested: { list: [1, 'two', { three: new Date(0) }] },
      },
      ...Array.from({ length: 25 }, (_, i) => ({ _id: new ObjectId(), i })),
    ]);
    await db.collection('things').createIndex({ at: -1 }, { name: 'by_at' });
    await db.collection('things').createIndex({ i: 1 }, { unique: true, partialFilterExpression: { i: { $exists: true } } });
    await db.collection('capped').insertOne({ note: 'capped' });
    const fleet = createFleet(env.make());
    const stream = fleet.exportTenant(from);
    expect(stream).toBeInstanceOf(Readable);
    const result = await fleet.importTenant(to, stream, { batchSize: 10 });
    expect(result).toEqual({ collections: 2, documents: 27, indexes: 2 });
    expect(await snapshot(to)).toEqual(await snapshot(from));
    const [capped] = await env.observer.db(to).listCollections({ name: 'capped' }).toArray();
    expect((capped as { options: { capped?: boolean } }).options.capped).toBe(true);
  });

  test('every export line is canonical Extended JSON', async () => {
    const from = unique('lines');
    await env.observer
      .db(from)
      .collection('c')
      .insertOne({ n: Long.fromString('9007199254740993'), d: new Date(0) });
    const lines = (await text(createFleet(env.make()).exportTenant(from))).trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: 'polymongo-tenant-export', version: { $numberInt: '1' }, tenant: from });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ collection: 'c', type: 'collection', indexes: [] });
    expect(JSON.parse(lines[2] as string).doc).toMatchObject({
      n: { $numberLong: '9007199254740993' },
      d: { $date: { $numberLong: '0' } },
    });
  });

  test('import into a tenant with data is refused before writing, unless drop', async () => {
    const [from, to] = [unique('src'), unique('dst')];
    await env.observer.db(from).collection('a').insertOne({ from: true });
    await env.observer.db(to).collection('b').insertOne({ keep: true });
    const fleet = createFleet(env.make());
    await expect(fleet.importTenant(to, fleet.exportTenant(from))).rejects.toMatchObject({ code: 'TENANT_NOT_EMPTY' });
    expect((await env.observer.db(to).listCollections().toArray()).map((c) => c.name)).toEqual(['b']);
    await fleet.importTenant(to, fleet.exportTenant(from), { drop: true });
    expect((await env.observer.db(to).listCollections().toArray()).map((c) => c.name)).toEqual(['a']);
  });

  test('export of an invalid tenant fails as a stream error; import of garbage is refused', async () => {
    const fleet = createFleet(env.make());
    const stream = fleet.exportTenant('bad.tenant');
    await expect(text(stream)).rejects.toMatchObject({ code: 'INVALID_TENANT' });
    await expect(fleet.importTenant(unique('garbage'), Readable.from(['{"hello":1}\n']))).rejects.toMatchObject({
      code: 'FLEET_SPEC_INVALID',
    });
  });

  test('copyTenant copies data and indexes, also to another client', async () => {
    const [from, to, far] = [unique('cpa'), unique('cpb'), unique('cpc')];
    await env.observer
      .db(from)
      .collection('users')
      .insertMany([{ email: 'a@x' }, { email: 'b@x' }]);
    await env.observer.db(from).collection('users').createIndex({ email: 1 }, { unique: true });
    const fleet = createFleet(env.make());
    expect(await fleet.copyTenant(from, to)).toEqual({ collections: 1, documents: 2, indexes: 1 });
    expect(await snapshot(to)).toEqual(await snapshot(from));
    const other = env.make({ tenantDb: { prefix: 'far_' } });
    await fleet.copyTenant(from, far, { target: other, indexes: false });
    const names = (await env.observer.db(`far_${far}`).collection('users').listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
    expect(await env.observer.db(`far_${far}`).collection('users').countDocuments()).toBe(2);
  });

  test('a copy whose documents the target validator refuses fails with VALIDATION_FAILED, and succeeds with bypassDocumentValidation', async () => {
    const [from, to] = [unique('cvs'), unique('cvt')];
    // Old documents predate the validator the collection has now (moderate: existing invalid documents stay).
    await env.observer
      .db(from)
      .collection('users')
      .insertMany([{ email: 'a@x' }, { legacy: true }]);
    const validator = { $jsonSchema: { bsonType: 'object', required: ['email'] } };
    await env.observer.db(from).command({ collMod: 'users', validator, validationLevel: 'moderate' });
    const fleet = createFleet(env.make());
    // The copy creates the target collection with the source's validator; strict on insert, it refuses { legacy }.
    await expect(fleet.copyTenant(from, to)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', message: /bypassDocumentValidation/ });
    expect(await fleet.copyTenant(from, to, { drop: true, bypassDocumentValidation: true })).toEqual({
      collections: 1,
      documents: 2,
      indexes: 0,
    });
    expect(await env.observer.db(to).collection('users').countDocuments({ legacy: true })).toBe(1);
    const [info] = await env.observer.db(to).listCollections({ name: 'users' }).toArray();
    expect((info as { options: { validator?: unknown } }).options.validator).toEqual(validator);
  });
});
