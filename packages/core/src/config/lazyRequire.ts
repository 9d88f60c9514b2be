import { createRequire } from 'node:module';

// Defined in the CJS build (and by Node for CommonJS modules); undefined in the ESM build.
declare const __filename: string | undefined;

/**
 * A dependency loaded on first use rather than at import: zod (about 80 ms of CPU to import) is needed only for
 * options the quick path leaves to the schema, pino only once something is logged. Resolved from this file's location,
 * `__filename` in the CJS build, `import.meta.url` in the ESM build (where a bare `require` is a throwing shim).
 * Exported for PolyMongo's own packages (`@polymongo/fleet` loads zod this way): core depends on both, so they resolve.
 *
 * @internal
 */
export function requireLazily<T>(id: string): T {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  return createRequire(here)(id) as T;
}
