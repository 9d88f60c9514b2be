import { expectTypeOf, test } from 'vitest';
import type { FairnessOptions, PolyMongoErrorCode, PolyMongoOptions, QuotaOptions, TenantQuotaExceededError } from '../src/index.js';

test('fairness and quotas options are the documented shapes', () => {
  expectTypeOf<NonNullable<PolyMongoOptions['fairness']>>().toExtend<FairnessOptions>();
  expectTypeOf<NonNullable<PolyMongoOptions['quotas']>>().toExtend<QuotaOptions>();
  expectTypeOf<FairnessOptions['weight']>().toEqualTypeOf<((tenant: string) => number) | undefined>();
  expectTypeOf<ReturnType<NonNullable<QuotaOptions['perTenant']>>>().toEqualTypeOf<{ opsPerSecond?: number; burst?: number } | undefined>();
});

test('the admission error codes are in the code union, and quota errors carry retryAfterMS', () => {
  expectTypeOf<'TENANT_OVERLOADED'>().toExtend<PolyMongoErrorCode>();
  expectTypeOf<'TENANT_QUOTA_EXCEEDED'>().toExtend<PolyMongoErrorCode>();
  expectTypeOf<TenantQuotaExceededError['retryAfterMS']>().toEqualTypeOf<number>();
});
