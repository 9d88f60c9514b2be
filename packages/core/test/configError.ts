import { ConfigError, resolveConfig } from '../src/index.js';

/** The ConfigError `resolveConfig(options)` throws; fails the test if it throws nothing or something else. */
export function configError(options: unknown): ConfigError {
  try {
    resolveConfig(options);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected ConfigError');
}
