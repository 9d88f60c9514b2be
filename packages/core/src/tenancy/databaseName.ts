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
 * Every check is one line here and the messages are built apart: this runs before a cold start's first operation.
 */
export function assertDatabaseName(
  tenantId: string,
  dbName: string,
  allowReserved: boolean,
  casePolicy: TenantCasePolicy = 'reject',
  casedPart: string = dbName,
): void {
  if (dbName.length === 0) throw invalid('empty', tenantId, dbName);
  assertCharacters(tenantId, dbName);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a name of up to 21 units is short enough without counting.
  if (dbName.length * 3 > MAX_BYTES && Buffer.byteLength(dbName, 'utf8') > MAX_BYTES) throw invalid('length', tenantId, dbName);
  if (casePolicy !== 'preserve' && casedPart !== casedPart.toLowerCase()) throw invalid('case', tenantId, dbName);
  if (!allowReserved && RESERVED.has(dbName.toLowerCase())) throw invalid('reserved', tenantId, dbName);
}

function assertCharacters(tenantId: string, dbName: string): void {
  const ascii = PRINTABLE_ASCII.test(dbName) && (tenantId === dbName || PRINTABLE_ASCII.test(tenantId));
  // The id itself is checked too: a naming function could drop what makes it unusable in logs or caches.
  if (!ascii) assertPrintableUnicode(tenantId, dbName);
  const bad = FORBIDDEN.exec(dbName) ?? (ascii ? null : WHITESPACE.exec(dbName));
  if (bad) throw invalid('characters', tenantId, dbName, bad[0]);
}

function assertPrintableUnicode(tenantId: string, dbName: string): void {
  for (const name of tenantId === dbName ? [dbName] : [tenantId, dbName]) {
    if (LONE_SURROGATE.test(name)) throw invalid('unicode', tenantId, dbName);
    if (CONTROL.test(name)) throw invalid('control', tenantId, dbName);
  }
}

/** The error of a failed check, with a message that says what to do. */
function invalid(
  reason: 'empty' | 'length' | 'case' | 'reserved' | 'characters' | 'unicode' | 'control',
  tenantId: string,
  dbName: string,
  character = '',
): InvalidTenantError {
  const id = printable(reason === 'length' ? tenantId.slice(0, 80) : tenantId);
  switch (reason) {
    case 'empty':
      return new InvalidTenantError('empty', `Tenant "${id}" maps to an empty database name; use a non-empty tenant id.`);
    case 'length':
      return new InvalidTenantError(
        'length',
        `Tenant "${id}" maps to a database name longer than ${MAX_BYTES} bytes; use a shorter tenant id or prefix.`,
      );
    case 'case':
      return new InvalidTenantError(
        'case',
        `Tenant "${id}" maps to database "${printable(dbName)}", which has upper-case letters; MongoDB refuses ` +
          `databases whose names differ only in case (error 13297), so PolyMongo accepts lower-case names only. Use ` +
          `"${printable(tenantId.toLowerCase())}", or set tenantCase: 'lower' to treat ids case-insensitively, or 'preserve' if your ids never differ only in case.`,
      );
    case 'reserved':
      return new InvalidTenantError(
        'reserved',
        `Tenant "${id}" maps to the reserved database "${printable(dbName)}"; pick another id, or set allowReservedDatabases.`,
      );
    case 'unicode':
      return new InvalidTenantError(
        'unicode',
        `Tenant "${id}" is not well-formed Unicode (it has an unpaired UTF-16 surrogate, which MongoDB would store as U+FFFD); decode the id properly before using it.`,
      );
    case 'control':
      return new InvalidTenantError(
        'control',
        `Tenant "${id}" contains a control or invisible format character; tenant ids must be printable.`,
      );
    case 'characters': {
      const shown = character === '\0' ? 'NUL' : character === ' ' ? 'space' : WHITESPACE.test(character) ? 'whitespace' : `"${character}"`;
      return new InvalidTenantError(
        'characters',
        `Tenant "${id}" maps to database "${printable(dbName)}", which contains ${shown}; database names cannot contain / \\ . " $ * < > : | ? whitespace or NUL.`,
      );
    }
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
