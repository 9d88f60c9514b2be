/** How a tenant id becomes a database name. */
export type TenantNaming = 'identity' | { prefix: string } | ((tenantId: string) => string);

export function namingFunction(naming: TenantNaming): (tenantId: string) => string {
  if (naming === 'identity') return (id) => id;
  if (typeof naming === 'function') return naming;
  const { prefix } = naming;
  return (id) => prefix + id;
}
