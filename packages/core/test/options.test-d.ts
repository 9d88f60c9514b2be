import { describe, expectTypeOf, test } from 'vitest';
import type { DedicatedOptions, PolyMongoOptions, PoolOptions, RetryOptions, TenantNaming } from '../src/index.js';

describe('option types', () => {
  test('a minimal configuration is a uri', () => {
    expectTypeOf({ uri: 'mongodb://h' }).toMatchTypeOf<PolyMongoOptions>();
    expectTypeOf({ clusters: { eu: { uri: 'mongodb://h' } } }).toMatchTypeOf<PolyMongoOptions>();
  });

  test('tenant options', () => {
    expectTypeOf<PolyMongoOptions['tenantDb']>().toEqualTypeOf<TenantNaming | undefined>();
    expectTypeOf<PolyMongoOptions['tenantDbInverse']>().toEqualTypeOf<((dbName: string) => string | undefined) | undefined>();
    expectTypeOf<PolyMongoOptions['tenantCase']>().toEqualTypeOf<'reject' | 'lower' | 'preserve' | undefined>();
    expectTypeOf<PolyMongoOptions['strictTenancy']>().toEqualTypeOf<boolean | undefined>();
  });

  test('nested options are their documented interfaces', () => {
    expectTypeOf<PolyMongoOptions['pool']>().toEqualTypeOf<PoolOptions | undefined>();
    expectTypeOf<PolyMongoOptions['retry']>().toEqualTypeOf<RetryOptions | undefined>();
    expectTypeOf<PolyMongoOptions['dedicated']>().toEqualTypeOf<DedicatedOptions[] | undefined>();
    expectTypeOf<DedicatedOptions['tenants']>().toEqualTypeOf<string | string[]>();
  });

  test('unknown options and wrong types do not compile', () => {
    // @ts-expect-error not an option
    const unknown: PolyMongoOptions = { uri: 'mongodb://h', poolsize: 3 };
    // @ts-expect-error maxPoolSize is a number
    const wrong: PolyMongoOptions = { uri: 'mongodb://h', pool: { maxPoolSize: '5' } };
    expectTypeOf(unknown).toEqualTypeOf(wrong);
  });
});
