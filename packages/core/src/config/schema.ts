import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors/errors.js';
import { fairnessSchemas } from '../fairness/options.js';
import { requireLazily } from './lazyRequire.js';
import type { DedicatedOptions, LoggerLike, PolyMongoOptions } from './options.js';

export type { DedicatedOptions, LoggerLike, PolyMongoOptions } from './options.js';

import { type PoolSettings, PROFILES, type ProfileName } from './profiles.js';
import { quickParse } from './quick.js';
import { parseMongoUri } from './uri.js';

/**
 * Every options schema, built on first use: zod is loaded (and its schemas built) only when resolveConfig meets
 * options the quick path leaves to it, or dedicated pools are added at run time.
 */
function buildSchemas(z: Zod) {
  const { fairness, quotas } = fairnessSchemas(z);
  const uri = z.string().superRefine((value, ctx) => {
    const parsed = parseMongoUri(value);
    if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: `URI ${parsed}` });
  });

  const clusterId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'cluster ids are 1-64 letters, digits, _ or -');
  const positiveInt = z.number().int().min(1);
  const nonNegativeInt = z.number().int().min(0);

  const poolSchema = z
    .object({
      maxPoolSize: positiveInt.max(10_000).optional(),
      minPoolSize: nonNegativeInt.max(10_000).optional(),
      maxIdleTimeMS: nonNegativeInt.optional(),
    })
    .strict()
    .refine((p) => p.minPoolSize === undefined || p.maxPoolSize === undefined || p.minPoolSize <= p.maxPoolSize, {
      message: 'minPoolSize must not exceed maxPoolSize',
    });

  const dedicatedSchema = z
    .object({
      tenants: z.union([z.string(), z.array(z.string()).min(1)]),
      uri: uri.optional(),
      maxConnections: positiveInt.max(10_000).default(10),
      autoClose: z.boolean().default(false),
      ttlMS: positiveInt.default(300_000),
      maxIdleTimeMS: nonNegativeInt.optional(),
      coldStart: z.boolean().default(true),
    })
    .strict();

  const tenantDbSchema = z.union([
    z.literal('identity'),
    z.object({ prefix: z.string().max(62) }).strict(),
    z.custom<(tenantId: string) => string>((v) => typeof v === 'function', 'must be "identity", { prefix } or a function'),
  ]);

  const loggerSchema = z.union([
    z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }).strict(),
    z.custom<LoggerLike>(
      (v) =>
        typeof v === 'object' &&
        v !== null &&
        typeof (v as LoggerLike).child === 'function' &&
        typeof (v as LoggerLike).info === 'function',
      'must be a pino logger or { level }',
    ),
  ]);

  const optionsSchema = z
    .object({
      uri: uri.optional(),
      profile: z.enum(['default', 'serverless', 'high-throughput']).default('default'),
      defaultTenant: z.string().min(1).optional(),
      tenantDb: tenantDbSchema.default('identity'),
      tenantDbInverse: z
        .custom<(dbName: string) => string | undefined>(
          (v) => typeof v === 'function',
          'must be a function (dbName) => tenantId | undefined',
        )
        .optional(),
      clusters: z.record(clusterId, z.object({ uri, pool: poolSchema.optional() }).strict()).optional(),
      defaultCluster: clusterId.optional(),
      routing: z
        .object({
          tenants: z.record(z.string(), clusterId).optional(),
          prefixes: z.array(z.object({ prefix: z.string().min(1), cluster: clusterId }).strict()).optional(),
          hashRing: z
            .object({ clusters: z.array(clusterId).min(1), virtualNodes: positiveInt.max(10_000).default(160) })
            .strict()
            .optional(),
          overrides: z.record(z.string(), clusterId).optional(),
        })
        .strict()
        .optional(),
      pool: poolSchema.optional(),
      dedicated: z.array(dedicatedSchema).default([]),
      maxDedicatedPools: positiveInt.max(100_000).default(100),
      maxCachedTenants: positiveInt.max(10_000_000).default(10_000),
      coldStart: z.boolean().default(true),
      strictTenancy: z.boolean().default(false),
      allowReservedDatabases: z.boolean().default(false),
      tenantCase: z.enum(['reject', 'lower', 'preserve']).default('reject'),
      retry: z
        .object({
          attempts: positiveInt.max(1000).default(5),
          initialDelayMS: nonNegativeInt.max(600_000).default(100),
          maxDelayMS: nonNegativeInt.max(3_600_000).default(5_000),
        })
        .strict()
        .default({ attempts: 5, initialDelayMS: 100, maxDelayMS: 5_000 }),
      logger: loggerSchema.optional(),
      slowOperationMS: nonNegativeInt.optional(),
      monitorOperations: z.boolean().default(false),
      shutdown: z
        .object({
          signals: z.array(z.enum(['SIGINT', 'SIGTERM', 'SIGUSR2', 'SIGHUP'])).default(['SIGINT', 'SIGTERM']),
          timeoutMS: nonNegativeInt.default(10_000),
        })
        .strict()
        .optional(),
      topTenantsTracked: positiveInt.max(100_000).default(1_000),
      fairness: fairness.optional(),
      quotas: quotas.optional(),
      driverOptions: z.record(z.string(), z.unknown()).optional(),
    })
    .strict()
    .superRefine((o, ctx) => {
      if (!o.uri && (!o.clusters || Object.keys(o.clusters).length === 0)) {
        ctx.addIssue({ code: 'custom', path: ['uri'], message: 'required: give uri, or at least one entry in clusters' });
      }
      if (o.uri && o.clusters && 'default' in o.clusters) {
        ctx.addIssue({
          code: 'custom',
          path: ['clusters', 'default'],
          message: 'the "default" cluster is the one uri names; remove it from clusters or drop uri',
        });
      }
      if (o.tenantDbInverse && typeof o.tenantDb !== 'function') {
        ctx.addIssue({
          code: 'custom',
          path: ['tenantDbInverse'],
          message: 'only applies to a function tenantDb; identity and prefix naming are inverted by PolyMongo itself',
        });
      }
      const known = new Set([...(o.uri ? ['default'] : []), ...Object.keys(o.clusters ?? {})]);
      const check = (id: string, path: (string | number)[]) => {
        if (!known.has(id)) ctx.addIssue({ code: 'custom', path, message: `names cluster "${id}", which is not configured` });
      };
      if (o.defaultCluster) check(o.defaultCluster, ['defaultCluster']);
      for (const [t, c] of Object.entries(o.routing?.tenants ?? {})) check(c, ['routing', 'tenants', t]);
      for (const [t, c] of Object.entries(o.routing?.overrides ?? {})) check(c, ['routing', 'overrides', t]);
      for (const [i, p] of (o.routing?.prefixes ?? []).entries()) check(p.cluster, ['routing', 'prefixes', i, 'cluster']);
      for (const [i, c] of (o.routing?.hashRing?.clusters ?? []).entries()) check(c, ['routing', 'hashRing', 'clusters', i]);
    });
  return { optionsSchema, dedicatedSchema };
}

type Zod = typeof z;
type Schemas = ReturnType<typeof buildSchemas>;
let built: Schemas | undefined;
function schemas(): Schemas {
  built ??= buildSchemas(requireLazily<{ z: Zod }>('zod').z);
  return built;
}
type OptionsSchema = Schemas['optionsSchema'];
type DedicatedSchema = Schemas['dedicatedSchema'];

// The documented interfaces (options.ts) and the schemas must describe the same options: a compile-time check, both
// ways, so a field added to one and not the other fails the build. Nothing of it exists at run time.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type OptionsMatchSchema = [
  Holds<Same<PolyMongoOptions, z.input<OptionsSchema>>>,
  Holds<Same<DedicatedOptions, z.input<DedicatedSchema>>>,
  // Mutual assignability lets an optional field be missing on one side: the key sets must match too.
  Holds<Same<keyof PolyMongoOptions, keyof z.input<OptionsSchema>>>,
  Holds<Same<keyof DedicatedOptions, keyof z.input<DedicatedSchema>>>,
];
type ParsedOptions = z.output<OptionsSchema>;

export interface ClusterConfig {
  id: string;
  uri: string;
  pool: PoolSettings;
}

export interface DedicatedConfig {
  tenant: string;
  uri: string | undefined;
  maxConnections: number;
  autoClose: boolean;
  ttlMS: number;
  /** The driver's maxIdleTimeMS for this pool's connections (the 1.x roadmap's per-pool setting); default: the cluster's. */
  maxIdleTimeMS: number | undefined;
  coldStart: boolean;
}

/** Options after validation, with defaults and the profile applied. */
export interface ResolvedConfig extends Omit<ParsedOptions, 'clusters' | 'dedicated' | 'pool'> {
  clusters: Map<string, ClusterConfig>;
  defaultCluster: string;
  pool: PoolSettings;
  dedicated: DedicatedConfig[];
  /** The database named in the default cluster's URI path, if any. */
  uriDatabase: string | undefined;
}

/** zod issues as ConfigError issues: one formatter for every options schema (unknown keys read "unknown option(s)"). */
export function toIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.code === 'unrecognized_keys' ? `unknown option(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message,
  }));
}

/** Validates dedicated-pool options given at run time, with the same rules as at construction. */
export function parseDedicatedOptions(options: unknown): z.output<DedicatedSchema> {
  const result = schemas().dedicatedSchema.safeParse(options);
  if (!result.success) throw new ConfigError(toIssues(result.error).map((i) => ({ ...i, path: `dedicated.${i.path}` })));
  return result.data;
}

export function expandDedicated(d: z.output<DedicatedSchema>): DedicatedConfig[] {
  const tenants = Array.isArray(d.tenants) ? d.tenants : [d.tenants];
  return tenants.map((tenant) => ({
    tenant,
    uri: d.uri,
    maxConnections: d.maxConnections,
    autoClose: d.autoClose,
    ttlMS: d.ttlMS,
    maxIdleTimeMS: d.maxIdleTimeMS,
    coldStart: d.coldStart,
  }));
}

/** The options as the schema parses them (every rule, every message); resolveConfig asks it unless quickParse answers. */
export function parseOptions(input: unknown): ParsedOptions {
  // Parsed once per client: zod's compiled fast path (jit) costs more to build than this one parse saves.
  const result = schemas().optionsSchema.safeParse(input ?? {}, { jitless: true });
  if (!result.success) throw new ConfigError(toIssues(result.error));
  return result.data;
}

/**
 * Validates options and applies defaults and the profile. Throws ConfigError listing every bad field.
 */
export function resolveConfig(input: unknown): ResolvedConfig {
  const o = (quickParse(input) as ParsedOptions | undefined) ?? parseOptions(input);
  const profile = PROFILES[o.profile as ProfileName];
  const pool: PoolSettings = o.pool ? { ...profile, ...stripUndefined(o.pool) } : { ...profile };
  const clusters = new Map<string, ClusterConfig>();
  if (o.uri) clusters.set('default', { id: 'default', uri: o.uri, pool });
  for (const [id, c] of Object.entries(o.clusters ?? {}))
    clusters.set(id, { id, uri: c.uri, pool: { ...pool, ...stripUndefined(c.pool ?? {}) } });
  const defaultCluster = o.defaultCluster ?? (o.uri ? 'default' : (clusters.keys().next().value as string));
  const defaultUri = clusters.get(defaultCluster)?.uri as string;
  const parsed = parseMongoUri(defaultUri);
  const { clusters: _c, dedicated, pool: _p, ...rest } = o;
  return {
    ...rest,
    clusters,
    defaultCluster,
    pool,
    dedicated: dedicated.flatMap(expandDedicated),
    uriDatabase: typeof parsed === 'string' ? undefined : parsed.database,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
