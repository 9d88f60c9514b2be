import type { AnyBulkWriteOperation, BulkWriteResult, Document, ObjectId, UpdateResult, WithId } from 'mongodb';
import { describe, expectTypeOf, test } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod3';
import { type DocumentOf, defineRepository, type InputOf, type NativeOptions, type Repository } from '../src/index.js';

const Users = defineRepository({
  collection: 'users',
  schema: z.object({ email: z.string(), age: z.number().optional(), plan: z.enum(['free', 'pro']).default('free') }),
});
const Users3 = defineRepository({
  collection: 'users',
  schema: z3.object({ email: z3.string(), age: z3.number().optional(), plan: z3.enum(['free', 'pro']).default('free') }),
});
const Logs = defineRepository({ collection: 'logs' });

type UserRepo = Repository<typeof Users>;

describe('repository types', () => {
  test('inputs are the schema input: defaults optional, required fields required', () => {
    expectTypeOf<InputOf<typeof Users>>().toEqualTypeOf<{ email: string; age?: number | undefined; plan?: 'free' | 'pro' | undefined }>();
    expectTypeOf<Parameters<UserRepo['insertOne']>[0]>().toEqualTypeOf<InputOf<typeof Users>>();
    // @ts-expect-error email is required
    expectTypeOf<Parameters<UserRepo['insertOne']>[0]>().toMatchTypeOf<{ age: number }>();
  });

  test('outputs are the schema output with _id', () => {
    expectTypeOf<DocumentOf<typeof Users>>().toMatchTypeOf<{ email: string; plan: 'free' | 'pro' }>();
    expectTypeOf<Awaited<ReturnType<UserRepo['findOne']>>>().toEqualTypeOf<WithId<DocumentOf<typeof Users>> | null>();
    expectTypeOf<NonNullable<Awaited<ReturnType<UserRepo['findOne']>>>['_id']>().toEqualTypeOf<ObjectId>();
    expectTypeOf<NonNullable<Awaited<ReturnType<UserRepo['findOne']>>>['plan']>().toEqualTypeOf<'free' | 'pro'>();
    expectTypeOf<Awaited<ReturnType<UserRepo['findOneAndUpdate']>>>().toEqualTypeOf<WithId<DocumentOf<typeof Users>> | null>();
  });

  test('zod 3 schemas give the same types', () => {
    expectTypeOf<InputOf<typeof Users3>>().toEqualTypeOf<{ email: string; age?: number | undefined; plan?: 'free' | 'pro' | undefined }>();
    expectTypeOf<DocumentOf<typeof Users3>['plan']>().toEqualTypeOf<'free' | 'pro'>();
  });

  test('writes take typed filters and updates, and a per-call validate option', () => {
    expectTypeOf<UserRepo['updateOne']>().returns.toEqualTypeOf<Promise<UpdateResult<DocumentOf<typeof Users>>>>();
    expectTypeOf<NonNullable<Parameters<UserRepo['updateOne']>[2]>['validate']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<Parameters<UserRepo['bulkWrite']>[0]>().toEqualTypeOf<AnyBulkWriteOperation<DocumentOf<typeof Users>>[]>();
    expectTypeOf<UserRepo['bulkWrite']>().returns.toEqualTypeOf<Promise<BulkWriteResult>>();
  });

  test('update operators are typed against the document', () => {
    const typed = (users: UserRepo) => {
      void users.updateOne({ email: 'a' }, { $set: { plan: 'pro' }, $inc: { age: 1 }, $unset: { age: '' } });
      // @ts-expect-error not a plan
      void users.updateOne({ email: 'a' }, { $set: { plan: 'gold' } });
      // @ts-expect-error email is a string
      void users.findOne({ email: 42 });
    };
    expectTypeOf(typed).toBeFunction();
  });

  test('without a schema, documents are any Document', () => {
    expectTypeOf<InputOf<typeof Logs>>().toEqualTypeOf<Document>();
    expectTypeOf<DocumentOf<typeof Logs>>().toEqualTypeOf<Document>();
  });

  test('defineRepository refuses a schema that is not a Standard Schema validator', () => {
    // @ts-expect-error not a validator
    defineRepository({ collection: 'x', schema: { parse: () => 1 } });
  });
});

describe('option types', () => {
  test('tenant options are typed', () => {
    expectTypeOf<NativeOptions['tenantCase']>().toEqualTypeOf<'reject' | 'lower' | 'preserve' | undefined>();
    expectTypeOf<NativeOptions['tenantDbInverse']>().toEqualTypeOf<((dbName: string) => string | undefined) | undefined>();
  });
});
