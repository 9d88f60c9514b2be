/** The parts of a MongoDB connection string that PolyMongo needs. */
export interface ParsedUri {
  scheme: 'mongodb' | 'mongodb+srv';
  hosts: string;
  /** The database in the URI path, if any. */
  database: string | undefined;
  hasCredentials: boolean;
}

const URI_PATTERN = /^(mongodb(?:\+srv)?):\/\/(?:([^@/]*)@)?([^/?#]+)(?:\/([^?#]*))?(?:\?[^#]*)?$/;

/** Parses a `mongodb://` or `mongodb+srv://` URI; returns a reason string when it is not one. */
export function parseMongoUri(uri: string): ParsedUri | string {
  if (typeof uri !== 'string' || uri.length === 0) return 'must be a non-empty string';
  const match = URI_PATTERN.exec(uri.trim());
  if (!match) {
    return /^[a-z][a-z0-9+.-]*:/i.test(uri) && !/^mongodb(\+srv)?:\/\//i.test(uri)
      ? 'must start with mongodb:// or mongodb+srv://'
      : 'is not a valid MongoDB connection string (expected mongodb://host[:port][/database][?options])';
  }
  const [, scheme, credentials, hosts, path] = match;
  if (!hosts || /[\s]/.test(hosts)) return 'has no valid host';
  let database: string | undefined;
  try {
    database = path ? decodeURIComponent(path) : undefined;
  } catch {
    return 'has a database path that is not valid percent-encoding';
  }
  return { scheme: scheme as ParsedUri['scheme'], hosts, database: database || undefined, hasCredentials: credentials !== undefined };
}

/**
 * Hides the password in a connection string: `mongodb://user:***@host/db`. Use it on every URI you print.
 *
 * @example
 * redactUri('mongodb://app:hunter2@db.example.com/acme') // 'mongodb://app:***@db.example.com/acme'
 */
export function redactUri(uri: string): string {
  if (typeof uri !== 'string') return '[invalid uri]';
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_all, scheme: string, credentials: string) => {
    const colon = credentials.indexOf(':');
    return colon === -1 ? `${scheme}${credentials}@` : `${scheme}${credentials.slice(0, colon)}:***@`;
  });
}

/** Replaces every URI with credentials inside free text (error messages from drivers) by its redacted form. */
export function redactText(text: string): string {
  return text.replace(/mongodb(?:\+srv)?:\/\/[^\s"'<>]+/gi, (uri) => redactUri(uri));
}
