import { CrossClusterTransactionError, type Route } from '@polymongo/core';
import type { ClientSession } from 'mongodb';

/** A running `poly.withTransaction`: the pool its session belongs to, and the tenants it has pinned. */
export interface TransactionScope {
  readonly poolKey: string;
  readonly tenants: Set<string>;
  /** Pins a tenant for the rest of the transaction; the release runs when it ends. */
  pin(route: Route): void;
}

const scopes = new WeakMap<ClientSession, TransactionScope>();

export function registerTransaction(session: ClientSession, scope: TransactionScope): () => void {
  scopes.set(session, scope);
  return () => scopes.delete(session);
}

/**
 * The rule for a tenant used inside a transaction it did not list: on the same pool it joins (and is pinned until the
 * transaction ends); on another pool (another cluster, or a dedicated pool) it is CROSS_CLUSTER_TRANSACTION, thrown
 * here, before anything is sent.
 */
export function joinTransaction(session: ClientSession | undefined, route: Route): void {
  if (session === undefined) return;
  const scope = scopes.get(session);
  if (scope === undefined || scope.tenants.has(route.tenantId)) return;
  if (route.poolKey !== scope.poolKey) {
    throw new CrossClusterTransactionError([...scope.tenants, route.tenantId], [scope.poolKey, route.poolKey]);
  }
  scope.tenants.add(route.tenantId);
  scope.pin(route);
}

/** The driver's refusal of a session from another MongoClient: the cross-cluster case reached through a raw `Db`. */
export function isForeignSessionError(error: unknown): boolean {
  return (
    (error as { name?: unknown } | null)?.name === 'MongoInvalidArgumentError' &&
    /ClientSession must be from the same MongoClient/.test(String((error as Error).message))
  );
}
