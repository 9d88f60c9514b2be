import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { ConfigError, type PolyMongoOptions } from '../src/index.js';
import { FakePort } from './fakePort.js';

const URI = 'mongodb://127.0.0.1:27017';
const core = (options: Partial<PolyMongoOptions> = {}) => new PolyMongoCore({ uri: URI, ...options }, new FakePort());

describe('tenantForDatabase', () => {
  test('identity naming maps a database name to the tenant of the same name', () => {
    const c = core();
    expect(c.tenantForDatabase('acme')).toBe('acme');
    expect(c.tenantForDatabase(c.route('globex').dbName)).toBe('globex');
  });

  test('system databases are never tenants, in any case and even when reserved names are allowed', () => {
    for (const c of [core(), core({ allowReservedDatabases: true })]) {
      for (const name of ['admin', 'local', 'config']) expect(c.tenantForDatabase(name)).toBeUndefined();
    }
  });

  test('names that are not valid tenant databases give undefined', () => {
    const c = core();
    for (const name of ['', 'a.b', 'a b', 'a'.repeat(64), 'a\0b']) expect(c.tenantForDatabase(name)).toBeUndefined();
  });

  test('prefix naming strips the prefix and ignores databases outside it', () => {
    const c = core({ tenantDb: { prefix: 'tenant_' } });
    expect(c.tenantForDatabase('tenant_acme')).toBe('acme');
    expect(c.tenantForDatabase(c.route('admin').dbName)).toBe('admin');
    expect(c.tenantForDatabase('tenant_')).toBeUndefined();
    expect(c.tenantForDatabase('other_acme')).toBeUndefined();
    expect(c.tenantForDatabase('acme')).toBeUndefined();
    expect(c.tenantForDatabase('admin')).toBeUndefined();
  });

  test('a function naming without an inverse maps nothing back', () => {
    const c = core({ tenantDb: (id: string) => `t-${id}` });
    expect(c.tenantForDatabase('t-acme')).toBeUndefined();
  });

  test('a function naming with tenantDbInverse maps back through it, and only names that round-trip', () => {
    const c = core({
      tenantDb: (id: string) => `t-${id.toLowerCase()}`,
      tenantDbInverse: (db: string) => (db.startsWith('t-') ? db.slice(2).toUpperCase() : undefined),
    });
    expect(c.tenantForDatabase('t-acme')).toBe('ACME');
    expect(c.route(c.tenantForDatabase('t-acme')).dbName).toBe('t-acme');
    expect(c.tenantForDatabase('acme')).toBeUndefined();
    // An inverse that names a different database than the one asked about is not trusted.
    const liar = core({ tenantDb: (id: string) => `t-${id}`, tenantDbInverse: () => 'acme' });
    expect(liar.tenantForDatabase('t-globex')).toBeUndefined();
    expect(liar.tenantForDatabase('t-acme')).toBe('acme');
  });

  test('an inverse that throws or returns an invalid id gives undefined', () => {
    const throwing = core({
      tenantDb: (id: string) => `t-${id}`,
      tenantDbInverse: () => {
        throw new Error('boom');
      },
    });
    expect(throwing.tenantForDatabase('t-acme')).toBeUndefined();
    const invalid = core({ tenantDb: (id: string) => `t-${id}`, tenantDbInverse: () => 'a.b' });
    expect(invalid.tenantForDatabase('t-a.b')).toBeUndefined();
  });

  test('strict: an error of tenantDbInverse or tenantDb is rethrown; an invalid id is still undefined', () => {
    const throwingInverse = core({
      tenantDb: (id: string) => `t-${id}`,
      tenantDbInverse: () => {
        throw new RangeError('inverse bug');
      },
    });
    expect(() => throwingInverse.tenantForDatabase('t-acme', { strict: true })).toThrow(RangeError);
    const throwingNaming = core({
      tenantDb: (id: string) => {
        if (id === 'acme') throw new TypeError('naming bug');
        return `t-${id}`;
      },
      tenantDbInverse: (db: string) => db.slice(2),
    });
    expect(() => throwingNaming.tenantForDatabase('t-acme', { strict: true })).toThrow(TypeError);
    expect(throwingNaming.tenantForDatabase('t-acme')).toBeUndefined();
    expect(throwingNaming.tenantForDatabase('t-globex', { strict: true })).toBe('globex');
    const invalid = core({ tenantDb: (id: string) => `t-${id}`, tenantDbInverse: () => 'a.b' });
    expect(invalid.tenantForDatabase('t-a.b', { strict: true })).toBeUndefined();
    expect(core().tenantForDatabase('a b', { strict: true })).toBeUndefined();
  });

  test('tenantDbInverse with identity or prefix naming is CONFIG_INVALID naming the option', () => {
    expect(() => core({ tenantDbInverse: (db: string) => db })).toThrow(ConfigError);
    expect(() => core({ tenantDb: { prefix: 'p_' }, tenantDbInverse: (db: string) => db })).toThrow(/tenantDbInverse/);
  });
});
