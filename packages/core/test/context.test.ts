import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { currentTenant, runWithTenant } from '../src/index.js';
import { FakePort } from './fakePort.js';

describe('tenant context', () => {
  test('currentTenant is undefined outside runWithTenant', () => {
    expect(currentTenant()).toBeUndefined();
  });

  test('nested runs: the innermost tenant wins, the outer one comes back', async () => {
    await runWithTenant('outer', async () => {
      expect(currentTenant()).toBe('outer');
      await runWithTenant('inner', async () => {
        await delay(1);
        expect(currentTenant()).toBe('inner');
      });
      expect(currentTenant()).toBe('outer');
    });
  });

  test('interleaved requests with timers and promises each keep their own tenant', async () => {
    const seen: Array<[string, string | undefined]> = [];
    const request = (tenant: string, steps: number[]) =>
      runWithTenant(tenant, async () => {
        for (const ms of steps) {
          await delay(ms);
          seen.push([tenant, currentTenant()]);
          await Promise.resolve();
          await new Promise<void>((resolve) => setImmediate(resolve));
          seen.push([tenant, currentTenant()]);
        }
      });
    await Promise.all([request('a', [5, 1, 3]), request('b', [1, 4, 1]), request('c', [2, 2, 2]), request('d', [0, 0, 6])]);
    expect(seen).toHaveLength(24);
    for (const [expected, actual] of seen) expect(actual).toBe(expected);
  });

  test('callbacks scheduled inside a run see its tenant', async () => {
    const fromTimer = await runWithTenant(
      'timer-tenant',
      () => new Promise<string | undefined>((resolve) => setTimeout(() => resolve(currentTenant()), 2)),
    );
    expect(fromTimer).toBe('timer-tenant');
  });

  test('the core uses the context tenant when no argument is given, and an argument overrides it', () => {
    const core = new PolyMongoCore({ uri: 'mongodb://127.0.0.1:1', strictTenancy: true }, new FakePort());
    runWithTenant('ctx', () => {
      expect(core.route().tenantId).toBe('ctx');
      expect(core.route('explicit').tenantId).toBe('explicit');
    });
  });
});
