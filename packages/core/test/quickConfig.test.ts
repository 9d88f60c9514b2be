import { describe, expect, test } from 'vitest';
import { quickParse } from '../src/config/quick.js';
import { parseOptions } from '../src/config/schema.js';
import { ConfigError } from '../src/index.js';

// resolveConfig validates common options by hand (quickParse) and leaves everything else to the zod schema. These
// tests hold the hand-written path to the schema: whatever it accepts, the schema accepts with the same result.

const URI = 'mongodb://127.0.0.1:27017/app';
const logger = { child: () => logger, info: () => undefined, level: 'info', extra: 1 };
const naming = (t: string) => `t_${t}`;

/** The schema's verdict: its parsed options, or the ConfigError issues. */
function schema(input: unknown): unknown {
  try {
    return parseOptions(input);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

function sameAsSchema(input: unknown): boolean {
  const quick = quickParse(input);
  if (quick === undefined) return false;
  const parsed = schema(input);
  expect(parsed).not.toBeInstanceOf(ConfigError);
  expect(quick).toStrictEqual(parsed);
  return true;
}

describe('quick option parsing', () => {
  test.each<[string, object]>([
    ['a URI alone', { uri: URI }],
    ['pool sizes', { uri: URI, pool: { maxPoolSize: 32 } }],
    [
      'every quick field',
      {
        uri: URI,
        profile: 'serverless',
        defaultTenant: 'acme',
        tenantDb: { prefix: 'tenant_' },
        pool: { maxPoolSize: 10, minPoolSize: 10, maxIdleTimeMS: 0 },
        maxDedicatedPools: 100_000,
        maxCachedTenants: 1,
        coldStart: false,
        strictTenancy: true,
        allowReservedDatabases: true,
        tenantCase: 'lower',
        retry: { attempts: 1, maxDelayMS: 3_600_000 },
        logger: { level: 'silent' },
        slowOperationMS: 0,
        monitorOperations: true,
        topTenantsTracked: 100_000,
        driverOptions: { appName: 'x', serverSelectionTimeoutMS: 500, nested: { a: 1 } },
      },
    ],
    ['undefined values', { uri: URI, pool: undefined, retry: undefined, logger: undefined, profile: undefined, driverOptions: undefined }],
    ['undefined inside objects', { uri: URI, pool: { maxPoolSize: undefined }, retry: { attempts: undefined } }],
    ['a function naming', { uri: URI, tenantDb: naming }],
    ['a pino-like logger', { uri: URI, logger }],
    ['a null-prototype object', Object.assign(Object.create(null), { uri: URI, coldStart: true })],
  ])('takes %s, with the schema’s result', (_label, input) => {
    expect(sameAsSchema(input)).toBe(true);
  });

  test.each<[string, unknown]>([
    ['no options', undefined],
    ['no uri', { pool: { maxPoolSize: 2 } }],
    ['a bad uri', { uri: 'http://x' }],
    ['a uri with a bad port', { uri: 'mongodb://h:99999' }],
    ['an unknown option', { uri: URI, poolsize: 3 }],
    ['an option it leaves to the schema', { uri: URI, clusters: { eu: { uri: URI } } }],
    ['dedicated pools', { uri: URI, dedicated: [] }],
    ['a non-integer', { uri: URI, maxCachedTenants: 1.5 }],
    ['a number out of range', { uri: URI, pool: { maxPoolSize: 10_001 } }],
    ['NaN', { uri: URI, slowOperationMS: Number.NaN }],
    ['minPoolSize above maxPoolSize', { uri: URI, pool: { maxPoolSize: 2, minPoolSize: 5 } }],
    ['an unknown pool key', { uri: URI, pool: { size: 2 } }],
    ['a bad level', { uri: URI, logger: { level: 'loud' } }],
    ['a logger without child', { uri: URI, logger: { info: () => undefined, extra: 1 } }],
    ['a prefix too long', { uri: URI, tenantDb: { prefix: 'p'.repeat(63) } }],
    ['an array', [URI]],
    [
      'a class instance',
      new (class {
        uri = URI;
      })(),
    ],
    ['an inherited option', Object.assign(Object.create({ poolsize: 3 }), { uri: URI })],
    ['a __proto__ key', JSON.parse(`{"uri":"${URI}","__proto__":{"x":1}}`)],
  ])('leaves %s to the schema', (_label, input) => {
    expect(quickParse(input)).toBeUndefined();
  });

  test('over generated option sets, never accepts what the schema refuses, nor differs from it', () => {
    // Each field drawn from valid, boundary and invalid values; a fixed seed keeps the run reproducible.
    const values: Record<string, unknown[]> = {
      profile: ['default', 'serverless', 'high-throughput', 'turbo', undefined],
      defaultTenant: ['acme', '', 3, undefined],
      tenantDb: ['identity', 'other', { prefix: '' }, { prefix: 'x', more: 1 }, naming, 7, undefined],
      pool: [
        {},
        { maxPoolSize: 1 },
        { maxPoolSize: 0 },
        { minPoolSize: 10_000, maxPoolSize: 10_000 },
        { minPoolSize: 3, maxPoolSize: 2 },
        { maxIdleTimeMS: -1 },
        null,
        undefined,
      ],
      maxDedicatedPools: [1, 100_000, 100_001, 0, undefined],
      maxCachedTenants: [1, 10_000_000, 10_000_001, 2 ** 53, Number.POSITIVE_INFINITY, '5', undefined],
      coldStart: [true, false, 'yes', 0, undefined],
      tenantCase: ['reject', 'lower', 'preserve', 'upper', undefined],
      retry: [{}, { attempts: 1000 }, { attempts: 1001 }, { initialDelayMS: 0, maxDelayMS: 0 }, { delay: 1 }, [], undefined],
      logger: [{ level: 'trace' }, { level: 'verbose' }, {}, logger, { level: 'info', other: true }, 'info', undefined],
      slowOperationMS: [0, -1, 0.5, 1e9, undefined],
      topTenantsTracked: [1, 100_000, 100_001, undefined],
      driverOptions: [{}, { a: undefined }, [], 'x', null, undefined],
    };
    let seed = 12;
    // mulberry32
    const next = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let accepted = 0;
    for (let i = 0; i < 3_000; i++) {
      const input: Record<string, unknown> = { uri: next(10) === 0 ? 'mongodb://h:0' : URI };
      for (const [key, options] of Object.entries(values)) {
        if (next(3) !== 0) continue;
        const value = options[next(options.length)];
        if (value !== undefined || next(2) === 0) input[key] = value;
      }
      const quick = quickParse(input);
      if (quick === undefined) continue;
      accepted += 1;
      expect(quick, JSON.stringify(input)).toStrictEqual(schema(input));
    }
    // The comparison must have covered a good share of accepted sets, not only refusals.
    expect(accepted).toBeGreaterThan(300);
  });
});
