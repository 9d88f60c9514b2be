import { InvalidTenantError } from '../errors/errors.js';

// MongoDB database names may not contain these characters on any platform.
const FORBIDDEN = /[/\\. "$*<>:|?\0]/;
const RESERVED = new Set(['admin', 'local', 'config']);
const MAX_BYTES = 63;

/** Throws InvalidTenantError unless `dbName` is a database name MongoDB accepts on every platform. */
export function assertDatabaseName(tenantId: string, dbName: string, allowReserved: boolean): void {
  if (dbName.length === 0)
    throw new InvalidTenantError('empty', `Tenant "${tenantId}" maps to an empty database name; use a non-empty tenant id.`);
  const bad = FORBIDDEN.exec(dbName);
  if (bad) {
    const shown = bad[0] === '\0' ? 'NUL' : bad[0] === ' ' ? 'space' : `"${bad[0]}"`;
    throw new InvalidTenantError(
      'characters',
      `Tenant "${printable(tenantId)}" maps to database "${printable(dbName)}", which contains ${shown}; database names cannot contain / \\ . " $ * < > : | ? space or NUL.`,
    );
  }
  if (Buffer.byteLength(dbName, 'utf8') > MAX_BYTES) {
    throw new InvalidTenantError(
      'length',
      `Tenant "${printable(tenantId).slice(0, 80)}" maps to a database name longer than ${MAX_BYTES} bytes; use a shorter tenant id or prefix.`,
    );
  }
  if (!allowReserved && RESERVED.has(dbName)) {
    throw new InvalidTenantError(
      'reserved',
      `Tenant "${tenantId}" maps to the reserved database "${dbName}"; pick another id, or set allowReservedDatabases.`,
    );
  }
}

/** Normalises what callers pass as a tenant: undefined for "none given", else a non-empty string. */
export function normalizeTenantId(tenant: unknown): string | undefined {
  if (tenant === undefined || tenant === null) return undefined;
  if (typeof tenant !== 'string') {
    throw new InvalidTenantError('type', `A tenant id must be a string, got ${Array.isArray(tenant) ? 'an array' : typeof tenant}.`);
  }
  if (tenant.length === 0)
    throw new InvalidTenantError('empty', 'A tenant id must not be empty; pass a tenant id, or null for the default tenant.');
  return tenant;
}

function printable(s: string): string {
  return s.replace(/\0/g, '\\0');
}
