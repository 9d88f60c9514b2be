import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<string>();

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
