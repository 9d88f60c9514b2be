/**
 * Orders ids (tenants, collections, fields) by UTF-16 code units, as MongoDB orders strings without a collation:
 * the same order on every machine, unlike `localeCompare` (which also costs about twice as much per comparison).
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
