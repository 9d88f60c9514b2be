import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { defineRepository, ValidationError } from '../src/index.js';
import { tenantId, useServer } from './helpers.js';

const env = useServer();

const Accounts = defineRepository({
  collection: 'accounts',
  schema: z.object({
    name: z.string().min(1),
    balance: z.number().default(0),
    tags: z.array(z.string()).default([]),
    nickname: z.string().optional(),
    profile: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
  }),
});

async function refused(promise: Promise<unknown>, message?: RegExp): Promise<ValidationError> {
  const err = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).code).toBe('VALIDATION_FAILED');
  expect((err as ValidationError).message).toMatch(/validate: false/);
  if (message) expect((err as ValidationError).message).toMatch(message);
  return err as ValidationError;
}

async function accounts() {
  const poly = env.make();
  const repo = poly.tenant(tenantId('acc')).repo(Accounts);
  await repo.insertOne({ name: 'ada', profile: { city: 'London' } });
  const stored = async () => repo.collection.find({}, { projection: { _id: 0 } }).toArray();
  return { poly, repo, stored };
}

describe('every update operator is validated or refused', () => {
  test('$inc on a string field is refused and writes nothing; $inc on a number passes', async () => {
    const { repo, stored } = await accounts();
    const before = await stored();
    await refused(repo.updateOne({ name: 'ada' }, { $inc: { name: 1 } as never }), /name/);
    await refused(repo.updateOne({ name: 'ada' }, { $inc: { balance: 'ten' } as never }), /needs a number/);
    expect(await stored()).toEqual(before);
    await repo.updateOne({ name: 'ada' }, { $inc: { balance: 5 } });
    expect((await repo.findOne({ name: 'ada' }))?.balance).toBe(5);
  });

  test('$unset of a required field is refused; of an optional one it passes', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.updateOne({ name: 'ada' }, { $unset: { name: '' } }), /required/);
    await refused(repo.updateOne({ name: 'ada' }, { $unset: { 'profile.city': '' } }), /profile\.city/);
    expect((await stored())[0]).toMatchObject({ name: 'ada', profile: { city: 'London' } });
    await repo.updateOne({ name: 'ada' }, { $unset: { profile: '' } });
    expect((await stored())[0]?.profile).toBeUndefined();
  });

  test('$push and $addToSet validate the pushed elements, $each included', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.updateOne({ name: 'ada' }, { $push: { tags: 5 } as never }));
    await refused(repo.updateOne({ name: 'ada' }, { $push: { tags: { $each: ['ok', 3] } } as never }));
    await refused(repo.updateOne({ name: 'ada' }, { $addToSet: { balance: 1 } as never }));
    expect((await stored())[0]?.tags).toEqual([]);
    await repo.updateOne({ name: 'ada' }, { $push: { tags: { $each: ['a', 'b'] } } });
    expect((await stored())[0]?.tags).toEqual(['a', 'b']);
  });

  test('dotted and positional $set paths are validated inside the field', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.updateOne({ name: 'ada' }, { $set: { 'profile.city': 7 } as never }), /profile\.city/);
    await refused(repo.updateOne({ name: 'ada' }, { $set: { 'tags.$[]': 7 } as never }));
    await repo.updateOne({ name: 'ada' }, { $set: { 'profile.city': 'Paris' } });
    expect((await stored())[0]?.profile).toEqual({ city: 'Paris' });
  });

  test('pipeline updates and $rename are refused, with the deliberate bypass named', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.updateOne({ name: 'ada' }, [{ $set: { balance: '$name' } }]), /pipeline/);
    await refused(repo.updateOne({ name: 'ada' }, { $rename: { name: 'nickname' } } as never), /\$rename/);
    expect((await stored())[0]).toMatchObject({ name: 'ada', balance: 0 });
    await repo.updateOne({ name: 'ada' }, [{ $set: { nickname: 'countess' } }], { validate: false });
    expect((await stored())[0]?.nickname).toBe('countess');
  });

  test('an upsert validates the document it would insert, fields from the filter included', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.updateOne({ name: 42 } as never, { $set: { balance: 1 } }, { upsert: true }), /upsert would insert/);
    await refused(repo.updateOne({ balance: 3 }, { $set: { nickname: 'x' } }, { upsert: true }), /name/);
    expect(await stored()).toHaveLength(1);
    await repo.updateOne({ name: 'bob' }, { $inc: { balance: 3 } }, { upsert: true });
    // Schema defaults of fields the update does not set are inserted with the document.
    expect(await repo.collection.findOne({ name: 'bob' }, { projection: { _id: 0 } })).toEqual({ name: 'bob', balance: 3, tags: [] });
  });

  test('findOneAndUpdate validates like updateOne and returns the document', async () => {
    const { repo } = await accounts();
    await refused(repo.findOneAndUpdate({ name: 'ada' }, { $inc: { name: 1 } as never }));
    const after = await repo.findOneAndUpdate({ name: 'ada' }, { $set: { nickname: 'a' } }, { returnDocument: 'after' });
    expect(after).toMatchObject({ name: 'ada', nickname: 'a' });
  });

  test('findOneAndReplace validates the replacement whole', async () => {
    const { repo, stored } = await accounts();
    await refused(repo.findOneAndReplace({ name: 'ada' }, { name: '' }));
    await repo.findOneAndReplace({ name: 'ada' }, { name: 'ada2' });
    expect(await stored()).toEqual([{ name: 'ada2', balance: 0, tags: [] }]);
  });

  test('bulkWrite validates every operation before sending any: one bad operation writes nothing', async () => {
    const { repo, stored } = await accounts();
    const before = await stored();
    await refused(
      repo.bulkWrite(
        [
          { insertOne: { document: { name: 'cy', balance: 0, tags: [] } } },
          { updateOne: { filter: { name: 'ada' }, update: { $set: { nickname: 'ok' } } } },
          { updateMany: { filter: {}, update: { $inc: { name: 1 } as never } } },
        ],
        { ordered: false },
      ),
      /operation 2/,
    );
    await refused(repo.bulkWrite([{ replaceOne: { filter: { name: 'ada' }, replacement: { name: '' } as never } }]));
    await refused(repo.bulkWrite([{ updateOne: { filter: { name: 5 } as never, update: { $set: { balance: 1 } }, upsert: true } }]));
    expect(await stored()).toEqual(before);
    const result = await repo.bulkWrite([
      { insertOne: { document: { name: 'cy' } as never } },
      { updateOne: { filter: { name: 'ada' }, update: { $set: { nickname: 'ok' } } } },
      { deleteMany: { filter: { name: 'nobody' } } },
    ]);
    expect(result.insertedCount).toBe(1);
    expect(await repo.collection.findOne({ name: 'cy' }, { projection: { _id: 0 } })).toEqual({ name: 'cy', balance: 0, tags: [] });
  });
});

describe('any Standard Schema validator', () => {
  // A hand-written validator implementing only the Standard Schema interface: no zod anywhere.
  const plain = {
    '~standard': {
      version: 1 as const,
      vendor: 'test',
      validate(value: unknown) {
        const v = value as { title?: unknown; pages?: unknown };
        const issues: Array<{ message: string; path: PropertyKey[] }> = [];
        if (typeof v?.title !== 'string') issues.push({ message: 'title must be a string', path: ['title'] });
        if (v?.pages !== undefined && typeof v.pages !== 'number') issues.push({ message: 'pages must be a number', path: ['pages'] });
        return issues.length ? { issues } : { value: v as { title: string; pages?: number } };
      },
      types: undefined as unknown as { input: { title: string; pages?: number }; output: { title: string; pages?: number } },
    },
  };
  const Books = defineRepository({ collection: 'books', schema: plain });

  test('validates inserts and each update field with it', async () => {
    const poly = env.make();
    const books = poly.tenant(tenantId('std')).repo(Books);
    await refused(books.insertOne({ pages: 3 } as never));
    await books.insertOne({ title: 'Dune', pages: 412 });
    await refused(books.updateOne({ title: 'Dune' }, { $set: { pages: 'many' } as never }));
    await refused(books.updateOne({ title: 'Dune' }, { $unset: { title: '' } }));
    await books.updateOne({ title: 'Dune' }, { $inc: { pages: 1 } });
    expect((await books.findOne({ title: 'Dune' }))?.pages).toBe(413);
  });

  test('a schema that is not a validator is CONFIG_INVALID at definition', () => {
    expect(() => defineRepository({ collection: 'x', schema: { parse() {} } as never })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
