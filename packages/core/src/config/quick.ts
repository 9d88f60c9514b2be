import { parseMongoUri } from './uri.js';

/**
 * The options a typical client passes (a URI, pool sizes, flags), validated by hand: zod's first parse builds its
 * schemas lazily and costs about as much as the rest of construction. Returns exactly what the zod schema returns for
 * the same input (a test compares them), or undefined for anything else — any other option, any value the schema
 * might refuse — and then the schema decides, with its messages. So this path never accepts what the schema refuses.
 */
export function quickParse(input: unknown): Record<string, unknown> | undefined {
  if (!isPlain(input)) return undefined;
  const o = input as Record<string, unknown>;
  // The schema's own walk: for...in, so an inherited enumerable key counts as given too.
  for (const key in o) if (!QUICK_KEYS.has(key)) return undefined;
  const out: Record<string, unknown> = {};
  if (typeof o.uri !== 'string' || typeof parseMongoUri(o.uri) === 'string') return undefined;
  out.uri = o.uri;
  for (const [key, check, fallback] of FIELDS) {
    const value = o[key];
    if (value === undefined) {
      if (fallback !== undefined) out[key] = typeof fallback === 'function' ? fallback() : fallback;
      else if (key in o) out[key] = undefined;
      continue;
    }
    const parsed = check(value);
    if (parsed === NO) return undefined;
    out[key] = parsed;
  }
  return out;
}

const NO = Symbol('refused');
type Check = (value: unknown) => unknown;

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && Object.getOwnPropertySymbols(v).length === 0;
};
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? v : NO;
const bool: Check = (v) => (typeof v === 'boolean' ? v : NO);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v as string) ? v : NO;
/** A strict object of optional fields: a new object with the keys given (undefined kept), as zod builds it. */
const strictObject =
  (fields: Record<string, Check>, defaults: Record<string, unknown> = {}): Check =>
  (v) => {
    if (!isPlain(v)) return NO;
    for (const key in v) if (!Object.hasOwn(fields, key)) return NO;
    const out: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(fields)) {
      const value = v[key];
      if (value === undefined) {
        if (key in defaults) out[key] = defaults[key];
        else if (key in v) out[key] = undefined;
        continue;
      }
      const parsed = check(value);
      if (parsed === NO) return NO;
      out[key] = parsed;
    }
    return out;
  };

const poolObject = strictObject({ maxPoolSize: int(1, 10_000), minPoolSize: int(0, 10_000), maxIdleTimeMS: int(0) });
const pool: Check = (v) => {
  const p = poolObject(v) as { minPoolSize?: number; maxPoolSize?: number } | typeof NO;
  if (p === NO) return NO;
  return p.minPoolSize === undefined || p.maxPoolSize === undefined || p.minPoolSize <= p.maxPoolSize ? p : NO;
};
const RETRY_DEFAULTS = { attempts: 5, initialDelayMS: 100, maxDelayMS: 5_000 };
const retry = strictObject({ attempts: int(1, 1000), initialDelayMS: int(0, 600_000), maxDelayMS: int(0, 3_600_000) }, RETRY_DEFAULTS);
const prefixNaming = strictObject({ prefix: (v) => (typeof v === 'string' && v.length <= 62 ? v : NO) });
const tenantDb: Check = (v) => {
  if (v === 'identity' || typeof v === 'function') return v;
  if (!isPlain(v) || v.prefix === undefined) return NO;
  return prefixNaming(v);
};
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const logger: Check = (v) => {
  if (typeof v !== 'object' || v === null) return NO;
  const l = v as Record<string, unknown>;
  let other = false;
  for (const key in l) if (key !== 'level') other = true;
  // { level }: the schema's first branch, a new object.
  if (!other) return isPlain(l) && LEVELS.includes(l.level as string) ? { level: l.level } : NO;
  // A pino logger: the { level } branch refuses it for its other keys, the second branch takes it as it is.
  return typeof l.child === 'function' && typeof l.info === 'function' ? v : NO;
};
// A record: own enumerable keys copied (the two keys the schema treats apart are left to it).
const driverOptions: Check = (v) => (isPlain(v) && !Object.hasOwn(v, '__proto__') && !Object.hasOwn(v, 'constructor') ? { ...v } : NO);

// Every field of the quick path but uri, in the schema's order, with its default (a function: a fresh object).
const FIELDS: Array<[string, Check, unknown]> = [
  ['profile', oneOf('default', 'serverless', 'high-throughput'), 'default'],
  ['defaultTenant', (v) => (typeof v === 'string' && v.length >= 1 ? v : NO), undefined],
  ['tenantDb', tenantDb, 'identity'],
  ['pool', pool, undefined],
  ['dedicated', () => NO, () => []],
  ['maxDedicatedPools', int(1, 100_000), 100],
  ['maxCachedTenants', int(1, 10_000_000), 10_000],
  ['coldStart', bool, true],
  ['strictTenancy', bool, false],
  ['allowReservedDatabases', bool, false],
  ['tenantCase', oneOf('reject', 'lower', 'preserve'), 'reject'],
  ['retry', retry, () => ({ ...RETRY_DEFAULTS })],
  ['logger', logger, undefined],
  ['slowOperationMS', int(0), undefined],
  ['monitorOperations', bool, false],
  ['topTenantsTracked', int(1, 100_000), 1_000],
  ['driverOptions', driverOptions, undefined],
];
const QUICK_KEYS = new Set(['uri', ...FIELDS.map(([key]) => key)]);
