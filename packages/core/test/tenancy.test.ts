import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { InvalidTenantError, type PolyMongoOptions, TenantRequiredError } from '../src/index.js';
import { FakePort } from './fakePort.js';

const URI = 'mongodb://127.0.0.1:27017';
const core = (options: Partial<PolyMongoOptions> = {}) => new PolyMongoCore({ uri: URI, ...options }, new FakePort());

const badTenantIds: Array<[string, unknown, string]> = [
  ['empty string', '', 'empty'],
  ['a dot', 'acme.corp', 'characters'],
  ['a slash', 'acme/corp', 'characters'],
  ['a backslash', 'acme\\corp', 'characters'],
  ['a double quote', 'acme"', 'characters'],
  ['a dollar', '$admin', 'characters'],
  ['an asterisk', 'acme*', 'characters'],
  ['a less-than', 'a<b', 'characters'],
  ['a greater-than', 'a>b', 'characters'],
  ['a colon', 'a:b', 'characters'],
  ['a pipe', 'a|b', 'characters'],
  ['a question mark', 'a?b', 'characters'],
  ['a space', 'acme corp', 'characters'],
  ['a NUL byte', 'acme\0', 'control'],
  ['a path traversal', '../../etc', 'characters'],
  ['SQL-ish text', 'db; drop database', 'characters'],
  ['64 ASCII characters', 'a'.repeat(64), 'length'],
  ['multi-byte characters over 63 bytes', 'é'.repeat(32), 'length'],
  ['the admin database', 'admin', 'reserved'],
  ['the local database', 'local', 'reserved'],
  ['the config database', 'config', 'reserved'],
  ['a number', 42, 'type'],
  ['an object', { tenant: 'a' }, 'type'],
  ['an array', ['a'], 'type'],
  ['a boolean', true, 'type'],
  ['a dot in an id that a prefix would not fix', 'x.y', 'characters'],
  ['an unpaired high surrogate', 'a\ud800', 'unicode'],
  ['an unpaired low surrogate', 'a\udc00', 'unicode'],
  ['a newline', 'acme\nadmin', 'control'],
  ['a tab', 'acme\t', 'control'],
  ['an escape sequence', 'acme\u001b[31m', 'control'],
  ['a DEL', 'acme\u007f', 'control'],
  ['a zero-width space', 'ac\u200bme', 'control'],
  ['a right-to-left override', 'acme\u202e', 'control'],
  ['a byte-order mark', '\ufeffacme', 'control'],
  ['a no-break space', 'acme\u00a0corp', 'characters'],
  ['an em space', 'acme\u2003', 'characters'],
  ['a line separator', 'acme\u2028', 'characters'],
  ['upper-case ASCII', 'ACME', 'case'],
  ['mixed case', 'Acme', 'case'],
  ['upper-case non-ASCII', 'Ünïcödé', 'case'],
  ['the Kelvin sign', '\u212aelvin', 'case'],
  ['Admin, reserved in any case', 'Admin', 'case'],
];

describe('tenant ids', () => {
  test.each(badTenantIds)('rejects %s with INVALID_TENANT (%s)', (_label, id, rule) => {
    const c = core();
    let error: unknown;
    try {
      c.route(id as string);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidTenantError);
    expect((error as InvalidTenantError).code).toBe('INVALID_TENANT');
    expect((error as InvalidTenantError).rule).toBe(rule);
  });

  test('an invalid tenant touches no pool', () => {
    const port = new FakePort();
    const c = new PolyMongoCore({ uri: URI }, port);
    expect(() => c.acquire('bad.tenant')).toThrow(InvalidTenantError);
    expect(port.created).toHaveLength(0);
  });

  test('accepts 63-byte names, unicode and punctuation MongoDB allows', () => {
    const c = core();
    for (const id of ['a'.repeat(63), 'tenant-1', 'tenant_1', 'ünïcödé', 'a+b=c', 'a,b', "o'brien", '#hash']) {
      expect(c.route(id).dbName).toBe(id);
    }
  });

  test('counts UTF-8 bytes at the 63-byte limit whatever the id is made of', () => {
    const c = core();
    // Three-byte characters: 21 fit exactly, 22 do not (names of up to 21 UTF-16 units skip the byte count).
    expect(c.route('€'.repeat(21)).dbName).toBe('€'.repeat(21));
    expect(() => c.route('€'.repeat(22))).toThrow(/longer than 63 bytes/);
    // Four-byte characters take two UTF-16 units each: 15 (60 bytes) fit, 16 (64 bytes) do not.
    expect(c.route('😀'.repeat(15)).dbName).toBe('😀'.repeat(15));
    expect(() => c.route('😀'.repeat(16))).toThrow(/longer than 63 bytes/);
  });

  test('allowReservedDatabases permits admin, local and config', () => {
    expect(core({ allowReservedDatabases: true }).route('admin').dbName).toBe('admin');
  });

  test('validates the database name after the naming strategy', () => {
    const prefixed = core({ tenantDb: { prefix: 'tenant_' } });
    expect(prefixed.route('acme').dbName).toBe('tenant_acme');
    // "admin" is only reserved as a database name; prefixed it is fine.
    expect(prefixed.route('admin').dbName).toBe('tenant_admin');
    expect(() => prefixed.route('a'.repeat(60))).toThrow(/longer than 63 bytes/);
    const fn = core({ tenantDb: (id: string) => `t-${id.toLowerCase()}` });
    expect(fn.route('ACME').dbName).toBe('t-acme');
    // The default tenant is resolved at construction, so a naming function that produces bad names fails early.
    expect(() => core({ tenantDb: (id: string) => `${id}.db` })).toThrow(InvalidTenantError);
  });

  test('resolve returns the same route object on a cache hit', () => {
    const c = core();
    const first = c.route('acme');
    expect(c.route('acme')).toBe(first);
    expect(first).toEqual({ tenantId: 'acme', dbName: 'acme', clusterId: 'default', poolKey: 'cluster:default' });
  });
});

describe('tenant id rules', () => {
  test('a well-formed surrogate pair (an emoji) is accepted', () => {
    expect(core().route('rocket-\ud83d\ude80').dbName).toBe('rocket-\ud83d\ude80');
  });

  test('"a\\ud800", "a\\udc00" and "a\\ufffd" are not three tenants of one database', () => {
    const c = core();
    expect(() => c.route('a\ud800')).toThrow(InvalidTenantError);
    expect(() => c.route('a\udc00')).toThrow(InvalidTenantError);
    expect(c.route('a\ufffd').dbName).toBe('a\ufffd');
  });

  test('messages show control characters escaped, so an id cannot forge a log line', () => {
    const err = (() => {
      try {
        core().route('acme\nFATAL fake line\u001b[2J');
      } catch (e) {
        return e as InvalidTenantError;
      }
    })();
    expect(err?.message).toContain('acme\\u{a}FATAL fake line\\u{1b}[2J');
    expect(err?.message).not.toContain('\n');
    expect(err?.message).not.toContain('\u001b');
  });

  test('reserved names are reserved in any case under tenantCase preserve', () => {
    const c = core({ tenantCase: 'preserve' });
    for (const id of ['Admin', 'LOCAL', 'Config']) expect(() => c.route(id)).toThrow(expect.objectContaining({ rule: 'reserved' }));
    expect(c.route('ACME').dbName).toBe('ACME');
  });

  test('an upper-case id says how to fix it: the lower-case id or a tenantCase policy', () => {
    expect(() => core().route('ACME')).toThrow(/"acme".*tenantCase: 'lower'.*'preserve'/);
  });

  test("tenantCase 'lower' makes ACME, Acme and acme one tenant with one route", () => {
    const c = core({ tenantCase: 'lower' });
    const route = c.route('ACME');
    expect(route).toMatchObject({ tenantId: 'acme', dbName: 'acme' });
    expect(c.route('Acme')).toBe(route);
    expect(c.acquire('acme')).toBe(c.acquire('ACME'));
    expect(() => c.route('ADMIN')).toThrow(expect.objectContaining({ rule: 'reserved' }));
  });

  test("tenantCase 'lower' still checks what a naming function makes of the id", () => {
    const c = core({ strictTenancy: true, tenantCase: 'lower', tenantDb: (id: string) => `T-${id}` });
    expect(() => c.route('acme')).toThrow(expect.objectContaining({ rule: 'case' }));
  });

  test('a prefix may have upper-case letters; the id part may not', () => {
    const c = core({ tenantDb: { prefix: 'Tenant_' } });
    expect(c.route('acme').dbName).toBe('Tenant_acme');
    expect(() => c.route('ACME')).toThrow(expect.objectContaining({ rule: 'case' }));
  });

  test('an upper-case default tenant from the URI path fails at construction, naming the policy', () => {
    expect(() => core({ uri: `${URI}/MyApp` })).toThrow(/tenantCase/);
    expect(core({ uri: `${URI}/MyApp`, tenantCase: 'preserve' }).route().dbName).toBe('MyApp');
    expect(core({ uri: `${URI}/MyApp`, tenantCase: 'lower' }).route().dbName).toBe('myapp');
  });
});

describe('default tenant', () => {
  test('an explicit defaultTenant wins', () => {
    expect(core({ uri: `${URI}/fromuri`, defaultTenant: 'main' }).route().tenantId).toBe('main');
  });

  test('else the database in the URI path', () => {
    expect(core({ uri: `${URI}/fromuri` }).route(undefined).dbName).toBe('fromuri');
  });

  test("else 'default', as in PolyMongo 1.x", () => {
    expect(core().route(null).dbName).toBe('default');
  });

  test('strictTenancy turns a missing tenant into TENANT_REQUIRED', () => {
    const c = core({ strictTenancy: true, uri: `${URI}/fromuri` });
    expect(() => c.route()).toThrow(TenantRequiredError);
    expect(() => c.acquire(undefined)).toThrow(expect.objectContaining({ code: 'TENANT_REQUIRED' }));
    expect(c.route('acme').dbName).toBe('acme');
  });

  test('an invalid defaultTenant fails at construction', () => {
    expect(() => core({ defaultTenant: 'a.b' })).toThrow(InvalidTenantError);
  });
});

describe('naming functions', () => {
  test('a tenantDb function that returns no string is INVALID_TENANT naming the function', () => {
    const c = core({ strictTenancy: true, tenantDb: ((id: string) => (id === 'odd' ? 42 : id)) as unknown as (id: string) => string });
    expect(() => c.route('odd')).toThrow(
      expect.objectContaining({ code: 'INVALID_TENANT', rule: 'type', message: expect.stringMatching(/tenantDb function/) }),
    );
    expect(c.route('even').dbName).toBe('even');
  });
});
