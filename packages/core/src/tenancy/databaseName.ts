import { InvalidTenantError } from '../errors/errors.js';

/** How tenant ids that differ only in letter case are treated; see README "Tenant ids". */
export type TenantCasePolicy = 'reject' | 'lower' | 'preserve';

// MongoDB database names may not contain these characters on any platform.
const FORBIDDEN = /[/\\. "$*<>:|?\0]/;
// With the u flag a surrogate class matches only unpaired surrogates, which UTF-8 turns into U+FFFD: "a\ud800" and
// "a\udc00" would both name the database "a\ufffd".
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// Control characters (newline, tab, ESC...) forge log lines and terminal output; format characters (zero-width,
// bidi overrides, BOM) make different ids print the same.
const CONTROL = /[\p{Cc}\p{Cf}]/u;
// Space is already forbidden; other Unicode whitespace (NBSP, em space, line separator) would pass for it.
const WHITESPACE = /\p{White_Space}/u;
// Most ids are printable ASCII: then only FORBIDDEN can fail, and the Unicode classes above, whose first use builds
// Unicode tables (milliseconds at start-up), need not run.
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;
const RESERVED = new Set(['admin', 'local', 'config']);
const MAX_BYTES = 63;

/**
 * Throws InvalidTenantError unless `dbName` is a database name MongoDB accepts on every platform.
 * `casedPart` is the part of the name that comes from the tenant id (all of it unless a prefix is known): under the
 * `reject` policy it must be lower case, so no two accepted ids can name databases that differ only in case.
 */
export function assertDatabaseName(
  tenantId: string,
  dbName: string,
  allowReserved: boolean,
  casePolicy: TenantCasePolicy = 'reject',
  casedPart: string = dbName,
): void {
  if (dbName.length === 0)
    throw new InvalidTenantError('empty', `Tenant "${printable(tenantId)}" maps to an empty database name; use a non-empty tenant id.`);
  assertCharacters(tenantId, dbName);
  if (Buffer.byteLength(dbName, 'utf8') > MAX_BYTES) {
    throw new InvalidTenantError(
      'length',
      `Tenant "${printable(tenantId.slice(0, 80))}" maps to a database name longer than ${MAX_BYTES} bytes; use a shorter tenant id or prefix.`,
    );
  }
  if (casePolicy !== 'preserve' && casedPart !== casedPart.toLowerCase()) {
    throw new InvalidTenantError(
      'case',
      `Tenant "${printable(tenantId)}" maps to database "${printable(dbName)}", which has upper-case letters; MongoDB refuses ` +
        `databases whose names differ only in case (error 13297), so PolyMongo accepts lower-case names only. Use ` +
        `"${printable(tenantId.toLowerCase())}", or set tenantCase: 'lower' to treat ids case-insensitively, or 'preserve' if your ids never differ only in case.`,
    );
  }
  if (!allowReserved && RESERVED.has(dbName.toLowerCase())) {
    throw new InvalidTenantError(
      'reserved',
      `Tenant "${printable(tenantId)}" maps to the reserved database "${printable(dbName)}"; pick another id, or set allowReservedDatabases.`,
    );
  }
}

function assertCharacters(tenantId: string, dbName: string): void {
  const ascii = PRINTABLE_ASCII.test(dbName) && (tenantId === dbName || PRINTABLE_ASCII.test(tenantId));
  // The id itself is checked too: a naming function could drop what makes it unusable in logs or caches.
  for (const name of ascii ? [] : tenantId === dbName ? [dbName] : [tenantId, dbName]) {
    if (LONE_SURROGATE.test(name)) {
      throw new InvalidTenantError(
        'unicode',
        `Tenant "${printable(tenantId)}" is not well-formed Unicode (it has an unpaired UTF-16 surrogate, which MongoDB would store as U+FFFD); decode the id properly before using it.`,
      );
    }
    if (CONTROL.test(name)) {
      throw new InvalidTenantError(
        'control',
        `Tenant "${printable(tenantId)}" contains a control or invisible format character; tenant ids must be printable.`,
      );
    }
  }
  const bad = FORBIDDEN.exec(dbName) ?? (ascii ? null : WHITESPACE.exec(dbName));
  if (bad) {
    const shown = bad[0] === '\0' ? 'NUL' : bad[0] === ' ' ? 'space' : WHITESPACE.test(bad[0]) ? 'whitespace' : `"${bad[0]}"`;
    throw new InvalidTenantError(
      'characters',
      `Tenant "${printable(tenantId)}" maps to database "${printable(dbName)}", which contains ${shown}; database names cannot contain / \\ . " $ * < > : | ? whitespace or NUL.`,
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

// Shown in messages and logs: anything that is not printable becomes an escape, so an id cannot forge a log line.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uD800-\uDFFF]/gu;

function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
}

/** Why `name` cannot be a database name on any platform (characters, Unicode, length), or undefined when it can. */
export function databaseNameProblem(name: string): string | undefined {
  if (LONE_SURROGATE.test(name)) return 'is not well-formed Unicode';
  if (CONTROL.test(name)) return 'contains a control or invisible format character';
  const bad = FORBIDDEN.exec(name) ?? WHITESPACE.exec(name);
  if (bad)
    return `contains ${bad[0] === '\0' ? 'NUL' : WHITESPACE.test(bad[0]) ? 'whitespace' : `"${bad[0]}"`}, which database names cannot contain`;
  if (Buffer.byteLength(name, 'utf8') > MAX_BYTES) return `is longer than ${MAX_BYTES} bytes`;
  return undefined;
}
