import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@polymongo/core';
import type { DiscoverOption, IndexSpec, Migration, ValidatorSpec } from '@polymongo/fleet';
import type { NativeOptions } from '@polymongo/native';
import { UsageError } from '../UsageError.js';

/** The default export of `polymongo.config.(mjs|js|cjs|ts)`. */
export interface CliConfig {
  /** Overridden by `--uri` and MONGODB_URI. */
  uri?: string;
  /** How tenant ids map to database names. Default identity. */
  tenantDb?: NativeOptions['tenantDb'];
  /** Where tenants come from. Default `'databases'` (listDatabases). */
  discover?: DiscoverOption;
  /** For `indexes plan|sync`. */
  indexes?: IndexSpec;
  /** For `validators plan|sync`. */
  validators?: ValidatorSpec;
  /** For `migrate`: defineMigration results, or plain `{ id, up, down? }` objects. */
  migrations?: Array<Migration | { id: string; up: Migration['up']; down?: Migration['down'] }>;
  /** Further createPolyMongo options (pool, clusters, routing, driverOptions...). */
  client?: Omit<NativeOptions, 'uri' | 'tenantDb'>;
}

/** Types a config file. `export default defineConfig({ ... })`. */
export function defineConfig(config: CliConfig): CliConfig {
  return config;
}

const DEFAULT_NAMES = ['polymongo.config.mjs', 'polymongo.config.js', 'polymongo.config.cjs', 'polymongo.config.ts'];
const KNOWN_KEYS = new Set(['uri', 'tenantDb', 'discover', 'indexes', 'validators', 'migrations', 'client']);

/** Loads `--config FILE`, else the first default config file in `cwd`, else an empty config. */
export async function loadConfig(cwd: string, file: string | undefined): Promise<{ config: CliConfig; path: string | undefined }> {
  const path = file !== undefined ? resolve(cwd, file) : DEFAULT_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  if (path === undefined) return { config: {}, path: undefined };
  if (!existsSync(path)) throw new UsageError(`--config: no file at ${path}`);
  let loaded: unknown;
  try {
    if (path.endsWith('.ts') || path.endsWith('.mts') || path.endsWith('.cts')) {
      const { createJiti } = await import('jiti');
      loaded = await createJiti(import.meta.url).import(path, { default: true });
    } else {
      const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
      loaded = mod.default ?? mod;
    }
  } catch (error) {
    throw new UsageError(`${path} could not be loaded: ${(error as Error).message}`);
  }
  if (loaded === null || typeof loaded !== 'object') {
    throw new ConfigError([
      { path, message: 'its default export must be an object: { uri?, tenantDb?, discover?, indexes?, validators?, migrations? }' },
    ]);
  }
  const issues = Object.keys(loaded)
    .filter((k) => !KNOWN_KEYS.has(k))
    .map((k) => ({ path: k, message: `unknown key in ${path}; expected one of ${[...KNOWN_KEYS].join(', ')}` }));
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: loaded as CliConfig, path };
}
