import { describe, expect, test } from 'vitest';
import { PolyMongoError, redactUri, resolveConfig } from '../src/index.js';
import { configError } from './configError.js';

const URI = 'mongodb://127.0.0.1:27017';

describe('configuration', () => {
  test('applies defaults and the default profile', () => {
    const c = resolveConfig({ uri: URI });
    expect(c.pool).toEqual({ maxPoolSize: 100, minPoolSize: 0, maxIdleTimeMS: 0 });
    expect(c.maxCachedTenants).toBe(10_000);
    expect(c.coldStart).toBe(true);
    expect(c.strictTenancy).toBe(false);
    expect(c.retry).toEqual({ attempts: 5, initialDelayMS: 100, maxDelayMS: 5000 });
    expect([...c.clusters.keys()]).toEqual(['default']);
  });

  test('the serverless profile keeps a small cold pool; explicit pool options win over the profile', () => {
    expect(resolveConfig({ uri: URI, profile: 'serverless' }).pool).toEqual({ maxPoolSize: 5, minPoolSize: 0, maxIdleTimeMS: 10_000 });
    expect(resolveConfig({ uri: URI, profile: 'high-throughput', pool: { maxPoolSize: 50 } }).pool.maxPoolSize).toBe(50);
  });

  test('reads the default database from the URI path', () => {
    expect(resolveConfig({ uri: 'mongodb://h:1/acme?retryWrites=true' }).uriDatabase).toBe('acme');
    expect(resolveConfig({ uri: 'mongodb://h:1/' }).uriDatabase).toBeUndefined();
  });

  const badOptionSets: Array<[string, unknown, string]> = [
    ['no uri and no clusters', {}, 'uri'],
    ['a non-MongoDB scheme', { uri: 'http://example.com' }, 'uri'],
    ['a javascript: URI', { uri: 'javascript:alert(1)' }, 'uri'],
    ['text that is no URI', { uri: 'not-a-valid-uri' }, 'uri'],
    ['a uri that is not a string', { uri: 42 }, 'uri'],
    ['a negative pool size', { uri: URI, pool: { maxPoolSize: -1 } }, 'pool.maxPoolSize'],
    ['minPoolSize above maxPoolSize', { uri: URI, pool: { maxPoolSize: 2, minPoolSize: 5 } }, 'pool'],
    ['an unknown option', { uri: URI, poolsize: 3 }, ''],
    ['an unknown profile', { uri: URI, profile: 'turbo' }, 'profile'],
    ['retry attempts of zero', { uri: URI, retry: { attempts: 0 } }, 'retry.attempts'],
    ['a routing rule naming an unknown cluster', { uri: URI, routing: { tenants: { acme: 'eu' } } }, 'routing.tenants.acme'],
    ['a bad cluster URI', { clusters: { eu: { uri: 'mysql://x' } } }, 'clusters.eu.uri'],
    ['a bad dedicated pool size', { uri: URI, dedicated: [{ tenants: 'a', maxConnections: 0 }] }, 'dedicated.0.maxConnections'],
    ['a logger that is not pino', { uri: URI, logger: { level: 'loud' } }, 'logger'],
    ['an unknown shutdown signal', { uri: URI, shutdown: { signals: ['SIGKILL'] } }, 'shutdown.signals.0'],
  ];

  test.each(badOptionSets)('rejects %s with CONFIG_INVALID naming the field', (_label, options, path) => {
    const err = configError(options);
    expect(err).toBeInstanceOf(PolyMongoError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues.map((i) => i.path)).toContain(path);
  });

  test('lists every bad field at once', () => {
    const err = configError({ uri: 'http://x', pool: { maxPoolSize: 0 }, maxCachedTenants: -5 });
    expect(err.issues.map((i) => i.path).sort()).toEqual(['maxCachedTenants', 'pool.maxPoolSize', 'uri']);
    expect(err.message).toMatch(/pool\.maxPoolSize/);
    expect(err.message).toMatch(/maxCachedTenants/);
  });

  test('never echoes a password from a bad URI', () => {
    const err = configError({ uri: 'mongodb://app:hunter2@', pool: { maxPoolSize: 0 } });
    expect(err.message).not.toContain('hunter2');
  });
});

describe('redactUri', () => {
  test.each([
    ['mongodb://app:hunter2@db.example.com/acme', 'mongodb://app:***@db.example.com/acme'],
    ['mongodb+srv://app:p%40ss@cluster0.example.net/?retryWrites=true', 'mongodb+srv://app:***@cluster0.example.net/?retryWrites=true'],
    ['mongodb://only-user@h:1', 'mongodb://only-user@h:1'],
    ['mongodb://h1:1,h2:2/db', 'mongodb://h1:1,h2:2/db'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUri(input)).toBe(expected);
  });
});
