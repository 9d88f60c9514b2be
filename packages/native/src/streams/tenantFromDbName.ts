import type { TenantNaming } from '@polymongo/core';

/** The tenant of a database name under identity or prefix naming; undefined when it cannot be told. */
export function tenantFromDbName(dbName: string, naming: TenantNaming): string | undefined {
  if (naming === 'identity') return dbName;
  if (typeof naming === 'object' && dbName.startsWith(naming.prefix)) return dbName.slice(naming.prefix.length);
  return undefined;
}
