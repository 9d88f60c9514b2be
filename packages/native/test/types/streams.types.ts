// Type tests, checked by `pnpm typecheck` (tsc over test/): a wrong expectTypeOf fails the build. Not a .test-d.ts yet
// because the root has no tsconfig.json for `vitest --typecheck`.
import type { ChangeStream, ChangeStreamDocument, Document } from 'mongodb';
import { describe, expectTypeOf, test } from 'vitest';
import type { CommitMode, NativeStats, PolyMongo, StreamStats, TenantFanOut } from '../../src/index.js';

declare const poly: PolyMongo;

describe('change stream types', () => {
  test('watch with a handler still returns the driver stream; the handler gets a change document', () => {
    const stream = poly.watch('acme', {
      collection: 'orders',
      maxInFlight: 4,
      handler: async (change) => {
        expectTypeOf(change).toEqualTypeOf<ChangeStreamDocument<Document>>();
      },
    });
    expectTypeOf(stream).toEqualTypeOf<ChangeStream>();
  });

  test('watchAll handlers get the tenant id first; fan-out events are typed', () => {
    const fan = poly.watchAll({
      handler: (tenantId, _change) => {
        expectTypeOf(tenantId).toBeString();
      },
    });
    expectTypeOf(fan).toEqualTypeOf<TenantFanOut>();
    fan.on('change', (e) => expectTypeOf(e.tenantId).toBeString());
    fan.on('unrouted', (e) => expectTypeOf(e.dbName).toBeString());
    fan.on('error', (e) => expectTypeOf(e).toEqualTypeOf<Error>());
  });

  test('commit modes and stream stats', () => {
    expectTypeOf<CommitMode>().toEqualTypeOf<'handled' | 'delivered' | 'manual'>();
    expectTypeOf<NativeStats['streams']>().toEqualTypeOf<StreamStats>();
    expectTypeOf<StreamStats>().toEqualTypeOf<{ open: number; errors: number; unrouted: number }>();
  });
});
