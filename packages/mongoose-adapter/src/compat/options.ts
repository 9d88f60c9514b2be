import { ConfigError, type ConfigIssue, configIssues, parseMongoUri } from '@polymongo/core';
import type { NativeOptions } from '@polymongo/native';
import { z } from 'zod';
import { withMessage } from './errors.js';

const scaleOptions = z
  .object({
    mongoURI: z.string().optional(),
    maxConnections: z.number().int().min(1).optional(),
    autoClose: z.boolean().optional(),
    ttl: z.number().int().min(1).optional(),
    coldStart: z.boolean().optional(),
  })
  .strip();

const debugOptions = z.union([
  z.boolean(),
  z
    .object({
      log: z.boolean().optional(),
      logPath: z.string().optional(),
      logHandler: z.custom<(line: string) => void>((v) => typeof v === 'function', 'must be a function').optional(),
    })
    .strip(),
]);

/** The PolyMongo 1.x `createWrapper` options. */
export const wrapperOptionsSchema = z
  .object({
    mongoURI: z.string({ error: 'mongoURI is required: the MongoDB connection string' }).superRefine((uri, ctx) => {
      const parsed = parseMongoUri(uri);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `mongoURI ${parsed}` });
    }),
    defaultDB: z.string().optional(),
    maxPoolSize: z.number().int().min(1).optional(),
    minFreeConnections: z.number().int().min(0).optional(),
    idleTimeoutMS: z.number().int().min(0).optional(),
    debug: debugOptions.optional(),
    logPath: z.string().optional(),
    coldStart: z.boolean().optional(),
    preferURI: z.boolean().optional(),
    /** PolyMongo 2 addition: false leaves SIGINT/SIGTERM/SIGUSR2 to the application (1.x always handled them). */
    gracefulShutdown: z.boolean().optional(),
    retry: z
      .union([
        // 1.3: the interval between reconnection attempts in ms; 0 retries at once.
        z.number().int().min(0),
        z
          .object({
            attempts: z.number().int().min(1).optional(),
            initialDelayMS: z.number().int().min(0).optional(),
            maxDelayMS: z.number().int().min(0).optional(),
          })
          .strict(),
      ])
      .optional(),
    dbSpecific: z
      .array(z.object({ dbName: z.string(), mongoURI: z.string().optional(), options: scaleOptions.optional() }).strip())
      .optional(),
  })
  // 1.3 ignores options it does not know; so does the compat entry (with a process warning naming them).
  .strip()
  .refine((o) => o.minFreeConnections === undefined || o.maxPoolSize === undefined || o.minFreeConnections <= o.maxPoolSize, {
    message: 'minFreeConnections cannot be greater than maxPoolSize',
    path: ['minFreeConnections'],
  });

export type WrapperOptions = z.input<typeof wrapperOptionsSchema>;
export type ScaleOptions = z.input<typeof scaleOptions>;

/**
 * polymongo@1.3.0's own option checks, in its order and with its messages (it threw `Failed to initialize
 * PolyMongoWrapper: <message>`). Returns the first failure, or undefined. A `retry` object is PolyMongo 2's form.
 */
function legacyOptionIssue(o: Record<string, unknown>): ConfigIssue | undefined {
  const negative = (v: unknown, min: number) => v !== undefined && (typeof v !== 'number' || v < min);
  if (!o.mongoURI) return { path: 'mongoURI', message: 'mongoURI is required' };
  if (typeof o.mongoURI !== 'string') return { path: 'mongoURI', message: 'mongoURI must be a string' };
  if (!o.mongoURI.startsWith('mongodb://') && !o.mongoURI.startsWith('mongodb+srv://'))
    return { path: 'mongoURI', message: 'mongoURI must start with mongodb:// or mongodb+srv://' };
  if (negative(o.maxPoolSize, 1)) return { path: 'maxPoolSize', message: 'maxPoolSize must be a positive number' };
  if (negative(o.minFreeConnections, 0)) return { path: 'minFreeConnections', message: 'minFreeConnections must be a non-negative number' };
  if (negative(o.idleTimeoutMS, 0)) return { path: 'idleTimeoutMS', message: 'idleTimeoutMS must be a non-negative number' };
  if (typeof o.retry !== 'object' && negative(o.retry, 0)) return { path: 'retry', message: 'retry must be a non-negative number' };
  if (typeof o.minFreeConnections === 'number' && typeof o.maxPoolSize === 'number' && o.minFreeConnections > o.maxPoolSize)
    return { path: 'minFreeConnections', message: 'minFreeConnections cannot be greater than maxPoolSize' };
  const debug = o.debug as Record<string, unknown> | null | undefined;
  if (debug !== undefined && typeof debug !== 'boolean') {
    if (typeof debug !== 'object' || debug === null) return { path: 'debug', message: 'debug must be a boolean or an object' };
    if (debug.log !== undefined && typeof debug.log !== 'boolean') return { path: 'debug.log', message: 'debug.log must be a boolean' };
    if (debug.logPath !== undefined && typeof debug.logPath !== 'string')
      return { path: 'debug.logPath', message: 'debug.logPath must be a string' };
    if (debug.logHandler !== undefined && typeof debug.logHandler !== 'function')
      return { path: 'debug.logHandler', message: 'debug.logHandler must be a function' };
  }
  if (o.logPath !== undefined && typeof o.logPath !== 'string') return { path: 'logPath', message: 'logPath must be a string' };
  return undefined;
}

/**
 * Validates `createWrapper` options. What 1.3.0 rejected is rejected with its message (`Failed to initialize
 * PolyMongoWrapper: ...`, as a ConfigError with `issues`); what it ignored (unknown names) is ignored with a process
 * warning; the rest (PolyMongo 2's stricter checks: integers, URI syntax, dbSpecific shapes) keeps ConfigError's message.
 */
export function parseWrapperOptions(input: unknown): z.output<typeof wrapperOptionsSchema> {
  const raw = (input ?? {}) as Record<string, unknown>;
  const legacy = legacyOptionIssue(raw);
  if (legacy) throw withMessage(new ConfigError([legacy]), `Failed to initialize PolyMongoWrapper: ${legacy.message}`);
  const result = wrapperOptionsSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(configIssues(result.error));
  }
  const unknown = Object.keys(raw).filter((key) => !(key in wrapperOptionsSchema.shape));
  if (unknown.length > 0) {
    process.emitWarning(`PolyMongo compat: unknown option(s) ${unknown.join(', ')} ignored (as polymongo 1.3.0 does); check for a typo.`, {
      code: 'POLYMONGO_UNKNOWN_OPTION',
    });
  }
  return result.data;
}

export function parseScaleOptions(input: unknown): z.output<typeof scaleOptions> {
  const result = scaleOptions.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(configIssues(result.error).map((i) => ({ ...i, path: `scale.${i.path}` })));
  }
  return result.data;
}

/** 1.x scale options in PolyMongo 2 dedicated-pool terms. */
export function toDedicated(o: z.output<typeof scaleOptions>) {
  return {
    ...(o.mongoURI !== undefined ? { uri: o.mongoURI } : {}),
    ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
    ...(o.autoClose !== undefined ? { autoClose: o.autoClose } : {}),
    ...(o.ttl !== undefined ? { ttlMS: o.ttl } : {}),
    ...(o.coldStart !== undefined ? { coldStart: o.coldStart } : {}),
  };
}

/** Maps 1.x options onto PolyMongo 2 options (the logger is set up by the wrapper). */
export function toNativeOptions(o: z.output<typeof wrapperOptionsSchema>): NativeOptions {
  // In 1.x a number is the interval between reconnection attempts, in ms.
  const retry = typeof o.retry === 'number' ? { initialDelayMS: o.retry, maxDelayMS: Math.max(o.retry, o.retry * 5) } : o.retry;
  return {
    uri: o.mongoURI,
    // 1.3 ignores the URI's database for the default (its connection sets dbName: defaultDB ?? 'default').
    defaultTenant: o.defaultDB || 'default',
    pool: {
      ...(o.maxPoolSize !== undefined ? { maxPoolSize: o.maxPoolSize } : {}),
      ...(o.minFreeConnections !== undefined ? { minPoolSize: o.minFreeConnections } : {}),
      ...(o.idleTimeoutMS !== undefined ? { maxIdleTimeMS: o.idleTimeoutMS } : {}),
    },
    ...(o.coldStart !== undefined ? { coldStart: o.coldStart } : {}),
    // Without `retry` 1.3 did not reconnect: one connect attempt.
    retry: retry ?? { attempts: 1 },
    // 1.3's fixed driver timeouts (its constants SERVER_SELECTION_TIMEOUT, CONNECT_TIMEOUT, SOCKET_TIMEOUT).
    driverOptions: { serverSelectionTimeoutMS: 10_000, connectTimeoutMS: 10_000, socketTimeoutMS: 45_000 },
    dedicated: (o.dbSpecific ?? []).map((d) => ({
      tenants: d.dbName,
      ...toDedicated({ ...(d.options ?? {}), ...(d.mongoURI ? { mongoURI: d.mongoURI } : {}) }),
    })),
  };
}
