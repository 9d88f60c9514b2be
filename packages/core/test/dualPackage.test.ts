// An app that loads PolyMongo through both `import` and `require` holds two copies of every module. The tenant
// context and error identity must not split between them.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test, vi } from 'vitest';
import * as esm from '../src/index.js';

const require = createRequire(import.meta.url);

/** A second, independent instance of the source modules (as a second copy of the package would be). */
async function secondCopy(): Promise<typeof esm> {
  vi.resetModules();
  const path = '../src/index.js';
  const copy = (await import(/* @vite-ignore */ path)) as typeof esm;
  expect(copy.PolyMongoError).not.toBe(esm.PolyMongoError);
  return copy;
}

describe('two copies of @polymongo/core in one process', () => {
  test('runWithTenant in one copy is seen by currentTenant of the other', async () => {
    const other = await secondCopy();
    expect(esm.runWithTenant('acme', () => other.currentTenant())).toBe('acme');
    expect(other.runWithTenant('globex', () => esm.currentTenant())).toBe('globex');
  });

  test('instanceof PolyMongoError and its subclasses holds across copies', async () => {
    const other = await secondCopy();
    const closed = new other.ClientClosedError();
    expect(closed).toBeInstanceOf(esm.PolyMongoError);
    expect(closed).toBeInstanceOf(esm.ClientClosedError);
    expect(closed).not.toBeInstanceOf(esm.AuthFailedError);
    expect(new esm.TenantRequiredError()).toBeInstanceOf(other.PolyMongoError);
  });

  test('plain errors and look-alikes without the brand are not PolyMongoErrors', () => {
    expect(new Error('x')).not.toBeInstanceOf(esm.PolyMongoError);
    expect(Object.assign(new Error('x'), { name: 'ClientClosedError', code: 'CLIENT_CLOSED' })).not.toBeInstanceOf(esm.ClientClosedError);
    expect(esm.PolyMongoError[Symbol.hasInstance](null)).toBe(false);
  });

  test('the CommonJS build and the ES module source share the tenant context and error identity', () => {
    // `pnpm test` builds before it tests; the build is what `require('@polymongo/core')` loads.
    const cjs = require('../dist/index.cjs') as typeof esm;
    expect(cjs.runWithTenant('acme', () => esm.currentTenant())).toBe('acme');
    expect(new cjs.ClientClosedError()).toBeInstanceOf(esm.ClientClosedError);
    expect(new esm.ConfigError([])).toBeInstanceOf(cjs.PolyMongoError);
  });
});

describe('the public entry', () => {
  test('exports no core internals', () => {
    for (const internal of ['PolyMongoCore', 'LruCache', 'HashRing', 'ClusterRouter', 'TenantRouter', 'PoolRegistry', 'TenantHandles']) {
      expect(Object.keys(esm)).not.toContain(internal);
    }
    expect(typeof esm.createCore).toBe('function');
  });

  test('no package reaches past the entry into core (no deep or relative imports of core files)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(path);
        } else if (/\.(ts|mts|cts|tsx)$/.test(entry.name)) {
          const text = readFileSync(path, 'utf8');
          if (/from ['"](@polymongo\/core\/|[./]+\/core\/src)/.test(text)) offenders.push(path.slice(root.length));
        }
      }
    };
    for (const pkg of readdirSync(root)) if (pkg !== 'core') walk(join(root, pkg, 'src'));
    expect(offenders).toEqual([]);
  });

  test('every error code has its own subclass, and every subclass carries its code', () => {
    const samples: esm.PolyMongoError[] = [
      new esm.ClientClosedError(),
      new esm.CloseTimeoutError(10, 1),
      new esm.PingTimeoutError(10, 'retrying'),
      new esm.InvalidClientError(),
      new esm.TenantRequiredError(),
      new esm.AuthFailedError('mongodb://h'),
      new esm.ConnectionFailedError('mongodb://h', 1, 'down'),
      new esm.ActionFailedError('Failed to export database: down'),
    ];
    expect(samples.map((e) => [e.name, e.code])).toEqual([
      ['ClientClosedError', 'CLIENT_CLOSED'],
      ['CloseTimeoutError', 'CLOSE_TIMEOUT'],
      ['PingTimeoutError', 'PING_TIMEOUT'],
      ['InvalidClientError', 'INVALID_CLIENT'],
      ['TenantRequiredError', 'TENANT_REQUIRED'],
      ['AuthFailedError', 'AUTH_FAILED'],
      ['ConnectionFailedError', 'CONNECTION_FAILED'],
      ['ActionFailedError', 'ACTION_FAILED'],
    ]);
  });
});
