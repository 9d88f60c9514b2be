/**
 * Counts operations and errors per tenant with bounded cardinality: the first `limit` tenants are tracked by
 * name, every other tenant is counted under `other`.
 */
export class OperationCounter {
  private readonly byTenant = new Map<string, { ops: number; errors: number }>();
  private readonly other = { ops: 0, errors: 0 };
  total = 0;
  errors = 0;

  constructor(private readonly limit: number) {}

  record(tenantId: string | undefined, failed: boolean): void {
    this.total += 1;
    if (failed) this.errors += 1;
    const key = tenantId ?? '(none)';
    let slot = this.byTenant.get(key);
    if (!slot) {
      if (this.byTenant.size >= this.limit) slot = this.other;
      else {
        slot = { ops: 0, errors: 0 };
        this.byTenant.set(key, slot);
      }
    }
    slot.ops += 1;
    if (failed) slot.errors += 1;
  }

  /** The `n` busiest tenants, busiest first, plus the rest as `other`. */
  top(n: number): { tenants: Array<{ tenant: string; ops: number; errors: number }>; other: { ops: number; errors: number } } {
    const sorted = [...this.byTenant].sort((a, b) => b[1].ops - a[1].ops);
    const rest = { ...this.other };
    for (const [, s] of sorted.slice(n)) {
      rest.ops += s.ops;
      rest.errors += s.errors;
    }
    return { tenants: sorted.slice(0, n).map(([tenant, s]) => ({ tenant, ...s })), other: rest };
  }
}
