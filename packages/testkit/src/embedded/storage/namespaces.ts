import { CommandError, ErrorCodes } from '../errors.js';

const INVALID_DB_CHARS = /[/\\. "$*<>:|?\0]/;

export function validateDatabaseName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new CommandError(ErrorCodes.InvalidNamespace, 'Invalid database name: empty');
  }
  if (INVALID_DB_CHARS.test(name) || Buffer.byteLength(name) >= 64) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid database name: '${name}'`);
  }
  return name;
}

export function validateCollectionName(db: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0') || name.startsWith('.')) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${String(name)}`);
  }
  if (name.includes('$')) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid collection name: ${db}.${name}`);
  }
  return name;
}
