import { ConfigError, configIssues, parseMongoUri } from '@polymongo/core';
import type { NativeOptions } from '@polymongo/native';
import { z } from 'zod';

const scaleOptions = z
  .object({
    mongoURI: z.string().optional(),
    maxConnections: z.number().int().min(1).optional(),
    autoClose: z.boolean().optional(),
    ttl: z.number().int().min(1).optional(),
    coldStart: z.boolean().optional(),
  })
  .strict();

const debugOptions = z.union([
  z.boolean(),
  z
    .object({
      log: z.boolean().optional(),
      logPath: z.string().optional(),
      logHandler: z.custom<(line: string) => void>((v) => typeof v === 'function', 'must be a function').optional(),
    })
    .strict(),
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
      .array(z.object({ dbName: z.string(), mongoURI: z.string().optional(), options: scaleOptions.optional() }).strict())
      .optional(),
  })
  .strict()
  .refine((o) => o.minFreeConnections === undefined || o.maxPoolSize === undefined || o.minFreeConnections <= o.maxPoolSize, {
    message: 'minFreeConnections cannot be greater than maxPoolSize',
    path: ['minFreeConnections'],
  });

export type WrapperOptions = z.input<typeof wrapperOptionsSchema>;
export type ScaleOptions = z.input<typeof scaleOptions>;

export function parseWrapperOptions(input: unknown): z.output<typeof wrapperOptionsSchema> {
  const result = wrapperOptionsSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ConfigError(configIssues(result.error));
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
    ...(retry ? { retry } : {}),
    dedicated: (o.dbSpecific ?? []).map((d) => ({
      tenants: d.dbName,
      ...toDedicated({ ...(d.options ?? {}), ...(d.mongoURI ? { mongoURI: d.mongoURI } : {}) }),
    })),
  };
}
