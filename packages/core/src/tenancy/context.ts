import { AsyncLocalStorage } from 'node:async_hooks';

// One store per process, not per copy of this module: an app that loads PolyMongo through both `import` and
// `require` (two module instances) still sees one tenant context.
const STORAGE_KEY = Symbol.for('polymongo.tenantContext');
const scope = globalThis as { [STORAGE_KEY]?: AsyncLocalStorage<string> };
const storage: AsyncLocalStorage<string> = scope[STORAGE_KEY] ?? new AsyncLocalStorage<string>();
scope[STORAGE_KEY] = storage;

/**
 * Runs `fn` with `tenantId` as the current tenant; everything `fn` awaits, schedules or calls sees it through
 * `currentTenant()`. Runs nest: the innermost tenant wins.
 *
 * @example
 * app.use((req, res, next) => runWithTenant(req.header('x-tenant'), next));
 * // later, anywhere below: poly.db() is the request's tenant database
 */
export function runWithTenant<T>(tenantId: string, fn: () => T): T {
  return storage.run(tenantId, fn);
}

/** The tenant of the enclosing `runWithTenant`, or undefined outside one. */
export function currentTenant(): string | undefined {
  return storage.getStore();
}
