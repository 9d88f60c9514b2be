import { ConnectionString } from 'mongodb-connection-string-url';
import { databaseNameProblem } from '../tenancy/databaseName.js';

/** The parts of a MongoDB connection string that PolyMongo needs. */
export interface ParsedUri {
  scheme: 'mongodb' | 'mongodb+srv';
  hosts: string;
  /** The database in the URI path, if any. */
  database: string | undefined;
  hasCredentials: boolean;
}

// The parser's own messages, mapped to ours. Its messages may quote the username or the input, so none is passed on:
// whatever the connection string holds, a reason never contains any part of it beyond an option name.
const PARSER_REASONS: Array<[RegExp, string]> = [
  [/^Password contains unescaped/, 'has a password with unescaped characters (: / ? # [ ] @); percent-encode it with encodeURIComponent'],
  [/^Username contains unescaped/, 'has a username with unescaped characters (: / ? # [ ] @); percent-encode it with encodeURIComponent'],
  [/empty userinfo/, 'has an empty user name before "@"'],
  [/^Protocol and host list are required/, 'has no host (if the password contains @, / or :, percent-encode it)'],
  [/cannot have port number/, 'is mongodb+srv with a port; SRV names take no port: drop it, or use mongodb:// with host:port'],
  [/cannot have multiple service names/, 'is mongodb+srv with several hosts; SRV takes exactly one name'],
  [/^Invalid connection string/, 'is not a valid connection string (an unescaped @ in the password? percent-encode it)'],
];

// Construction parses the default URI twice (schema check, then its database): remember the last one.
let last: { uri: string; parsed: ParsedUri | string } | undefined;

/** Parses a `mongodb://` or `mongodb+srv://` URI with the driver's own parser; returns a reason string when it is not one. */
export function parseMongoUri(uri: string): ParsedUri | string {
  if (typeof uri !== 'string' || uri.length === 0) return 'must be a non-empty string';
  if (last?.uri === uri) return last.parsed;
  const parsed = parseSimple(uri) ?? parse(uri);
  last = { uri, parsed };
  return parsed;
}

/**
 * A connection string of the plain shape `mongodb://host[:port][,host[:port]...][/[database]][?name=value[&...]]`
 * (host names of letters, digits, "." and "-"; ports of 1-5 digits; database of letters, digits, "_" and "-"; option
 * values of letters, digits and "_.:,-"; no credentials, spaces or escapes), checked without the parser: the driver
 * parses it again when its client is built, and the first parse (whatwg-url warming up) is a large share of
 * construction. Gives exactly what parse() gives (a test compares them), or undefined for any other shape, which
 * parse() then reads. Scanned by hand: compiling a regular expression for it cost a cold start about 0.1 ms.
 */
export function parseSimple(uri: string): ParsedUri | string | undefined {
  const parts = scanSimple(uri);
  if (parts === undefined) return undefined;
  const [hosts, database, query] = parts;
  for (const [i, host] of hosts.split(',').entries()) {
    const problem = hostProblem(host);
    if (problem) return `${problem} (host ${i + 1} of ${hosts.split(',').length})`;
  }
  if (query !== undefined) {
    const problem = optionsProblem(query.split('&').map((pair) => pair.split('=') as [string, string]));
    if (problem) return problem;
  }
  if (database) {
    const problem = databaseNameProblem(database);
    if (problem) return `names a database in its path that ${problem}`;
  }
  return { scheme: 'mongodb', hosts, database: database || undefined, hasCredentials: false };
}

const SCHEME = 'mongodb://';

/** [hosts, database, query] of a URI of the plain shape (see parseSimple), or undefined for any other. */
function scanSimple(uri: string): [string, string | undefined, string | undefined] | undefined {
  if (!uri.startsWith(SCHEME)) return undefined;
  const end = uri.length;
  let i = SCHEME.length;
  // host[:port], one or more, separated by ","
  for (;;) {
    if (!isAlnum(uri.charCodeAt(i))) return undefined;
    i += 1;
    while (i < end && (isAlnum(uri.charCodeAt(i)) || uri[i] === '.' || uri[i] === '-')) i += 1;
    if (uri[i] === ':') {
      const digits = ++i;
      while (i < end && isDigit(uri.charCodeAt(i))) i += 1;
      if (i === digits || i - digits > 5) return undefined;
    }
    if (uri[i] !== ',') break;
    i += 1;
  }
  const hosts = uri.slice(SCHEME.length, i);
  let database: string | undefined;
  if (uri[i] === '/') {
    const start = ++i;
    while (i < end && (isAlnum(uri.charCodeAt(i)) || uri[i] === '_' || uri[i] === '-')) i += 1;
    database = uri.slice(start, i);
  }
  let query: string | undefined;
  if (uri[i] === '?') {
    const start = ++i;
    // name=value, one or more, separated by "&"
    for (;;) {
      if (!isLetter(uri.charCodeAt(i))) return undefined;
      i += 1;
      while (i < end && isAlnum(uri.charCodeAt(i))) i += 1;
      if (uri[i] !== '=') return undefined;
      const value = ++i;
      while (i < end && (isAlnum(uri.charCodeAt(i)) || '_.:,-'.includes(uri[i] as string))) i += 1;
      if (i === value) return undefined;
      if (uri[i] !== '&') break;
      i += 1;
    }
    query = uri.slice(start, i);
  }
  return i === end ? [hosts, database, query] : undefined;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnum = (c: number): boolean => isDigit(c) || isLetter(c);

function allDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** Parses with mongodb-connection-string-url (the driver's parser): any URI, with the reasons it gives. */
export function parse(uri: string): ParsedUri | string {
  const trimmed = uri.trim();
  if (!/^mongodb(\+srv)?:\/\//i.test(trimmed)) return 'must start with mongodb:// or mongodb+srv://';
  let cs: ConnectionString;
  try {
    cs = new ConnectionString(trimmed);
  } catch (error) {
    // URIError: bad percent-encoding in the credentials; TypeError: whatwg-url refused the rest.
    if (error instanceof URIError) return 'has credentials that are not valid percent-encoding';
    const message = error instanceof Error ? error.message : '';
    for (const [pattern, reason] of PARSER_REASONS) if (pattern.test(message)) return reason;
    return 'is not a valid MongoDB connection string (expected mongodb://host[:port][/database][?options])';
  }
  if (!cs.isSRV) {
    for (const [i, host] of cs.hosts.entries()) {
      const problem = hostProblem(host);
      if (problem) return `${problem} (host ${i + 1} of ${cs.hosts.length})`;
    }
  }
  // No "?": no options, and the search-params iterator (slow to set up on first use) is not needed.
  const optionProblem = trimmed.includes('?') ? optionsProblem(cs.searchParams) : undefined;
  if (optionProblem) return optionProblem;
  let database: string | undefined;
  try {
    database = cs.pathname.length > 1 ? decodeURIComponent(cs.pathname.slice(1)) : undefined;
  } catch {
    return 'has a database path that is not valid percent-encoding';
  }
  if (database) {
    const problem = databaseNameProblem(database);
    if (problem) return `names a database in its path that ${problem}`;
  }
  return {
    scheme: cs.isSRV ? 'mongodb+srv' : 'mongodb',
    hosts: cs.hosts.join(','),
    database: database || undefined,
    hasCredentials: cs.username !== '',
  };
}

function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'has an empty host';
  if (host.endsWith('.sock')) return undefined;
  let port: string | undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end === -1) return 'has an IPv6 host without its closing "]"';
    const rest = host.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return 'has an IPv6 host followed by something other than :port';
    port = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = host.indexOf(':');
    if (colon === 0) return 'has a host with no name before its port';
    if (colon !== -1) port = host.slice(colon + 1);
  }
  if (port === undefined) return undefined;
  if (port.length === 0 || port.length > 5 || !allDigits(port)) return 'has a port that is not a number';
  const n = Number(port);
  if (n < 1 || n > 65535) return 'has a port out of range (1-65535)';
  return undefined;
}

const OPTION_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

function optionsProblem(params: Iterable<[string, string]>): string | undefined {
  const seen = new Set<string>();
  for (const [key, value] of params) {
    // Only a plain option name is ever quoted back.
    const name = OPTION_NAME.test(key) ? `option "${key}"` : 'an option';
    const lower = key.toLowerCase();
    if (seen.has(lower) && lower !== 'readpreferencetags') return `has ${name} more than once`;
    seen.add(lower);
    if (value === '' && lower !== 'readpreferencetags') return `has ${name} with no value; remove it or give it a value`;
  }
  return undefined;
}

/**
 * Hides the password in a connection string: `mongodb://user:***@host/db`. Use it on every URI you print.
 *
 * @example
 * redactUri('mongodb://app:hunter2@db.example.com/acme') // 'mongodb://app:***@db.example.com/acme'
 */
export function redactUri(uri: string): string {
  if (typeof uri !== 'string') return '[invalid uri]';
  // No "@", no credentials: nothing to hide (and the regular expression below need not be compiled).
  if (!uri.includes('@')) return uri;
  // Up to the last "@": an unencoded "@" or "/" in a password must not leave its tail behind (over-redacting is fine).
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)(\S*)@/i, (_all, scheme: string, credentials: string) => {
    const colon = credentials.indexOf(':');
    return colon === -1 ? `${scheme}${credentials}@` : `${scheme}${credentials.slice(0, colon)}:***@`;
  });
}

/** Replaces every URI with credentials inside free text (error messages from drivers) by its redacted form. */
export function redactText(text: string): string {
  return text.replace(/mongodb(?:\+srv)?:\/\/[^\s"'<>]+/gi, (uri) => redactUri(uri));
}
