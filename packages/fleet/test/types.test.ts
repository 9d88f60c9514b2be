// Checked by the package typecheck (tsc includes test/); at run time expectTypeOf does nothing.
import type { PolyMongoErrorCode } from '@polymongo/core';
import { describe, expectTypeOf, test } from 'vitest';
import type {
  CopyOptions,
  DuplicateMigrationError,
  ForEachResult,
  IndexDrift,
  MigrateResult,
  MigrationStatus,
  PlanResult,
  SchemaDiffResult,
  TenantNotEmptyError,
  ValidatorDrift,
} from '../src/index.js';

describe('fleet result types', () => {
  test('forEach and migrate results are the settled plain objects', () => {
    expectTypeOf<ForEachResult>().toEqualTypeOf<{
      done: number;
      failed: Array<{ tenant: string; error: { name: string; code?: string | number; message: string } }>;
      skipped: number;
    }>();
    expectTypeOf<MigrateResult['applied']>().toEqualTypeOf<Array<{ tenant: string; id: string }>>();
    expectTypeOf<MigrateResult['dryRun']>().toEqualTypeOf<boolean>();
    expectTypeOf<MigrationStatus>().toEqualTypeOf<{
      tenant: string;
      applied: string[];
      pending: string[];
      error?: { name: string; code?: string | number; message: string };
    }>();
  });

  test('plans list drift per tenant and collection; schema diffs count fields', () => {
    expectTypeOf<PlanResult<IndexDrift>>().toEqualTypeOf<{ tenants: number; drift: IndexDrift[] }>();
    expectTypeOf<PlanResult<ValidatorDrift>>().toEqualTypeOf<{ tenants: number; drift: ValidatorDrift[] }>();
    expectTypeOf<ValidatorDrift['extra']>().toEqualTypeOf<boolean>();
    expectTypeOf<CopyOptions['bypassDocumentValidation']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<IndexDrift>().toHaveProperty('missing');
    expectTypeOf<SchemaDiffResult['fields'][number]>().toEqualTypeOf<{ path: string; missing: number; extra: number; wrongType: number }>();
  });

  test('fleet errors carry codes of the PolyMongoErrorCode union', () => {
    expectTypeOf<TenantNotEmptyError['code']>().toEqualTypeOf<PolyMongoErrorCode>();
    expectTypeOf<'TENANT_NOT_EMPTY'>().toExtend<PolyMongoErrorCode>();
    expectTypeOf<'DUPLICATE_MIGRATION'>().toExtend<PolyMongoErrorCode>();
    expectTypeOf<DuplicateMigrationError['migrationId']>().toEqualTypeOf<string>();
  });
});
