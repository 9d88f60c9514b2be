import { type Document, EJSON } from 'bson';

/** What an update changed, as a change stream's `updateDescription` reports it (mongod's v2 oplog diff). */
export interface UpdateDescription {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: Array<{ field: string; newSize: number }>;
  /** Paths whose dotted form is ambiguous (a field name with a dot, or a numeric field name), with their parts. */
  disambiguatedPaths: Record<string, Array<string | number>>;
}

type Part = string | number;

function isPlainObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return EJSON.stringify({ v: a } as Document, { relaxed: false }) === EJSON.stringify({ v: b } as Document, { relaxed: false });
}

/** Field-path granular difference between two versions of a document. */
export function describeUpdate(before: Document, after: Document): UpdateDescription {
  const description: UpdateDescription = { updatedFields: {}, removedFields: [], truncatedArrays: [], disambiguatedPaths: {} };
  const note = (parts: Part[]): string => {
    const path = parts.join('.');
    if (parts.some((p) => typeof p === 'string' && (p.includes('.') || /^\d+$/.test(p)))) description.disambiguatedPaths[path] = parts;
    return path;
  };
  const diffObject = (b: Document, a: Document, parts: Part[]) => {
    for (const [key, value] of Object.entries(a)) {
      const path = [...parts, key];
      if (!(key in b)) description.updatedFields[note(path)] = value;
      else diffValue(b[key], value, path);
    }
    for (const key of Object.keys(b)) if (!(key in a)) description.removedFields.push(note([...parts, key]));
  };
  const diffValue = (b: unknown, a: unknown, parts: Part[]) => {
    if (same(b, a)) return;
    if (isPlainObject(b) && isPlainObject(a)) return diffObject(b, a, parts);
    if (Array.isArray(b) && Array.isArray(a)) {
      if (a.length < b.length) description.truncatedArrays.push({ field: note(parts), newSize: a.length });
      for (let i = 0; i < a.length; i++) {
        if (i >= b.length) description.updatedFields[note([...parts, i])] = a[i];
        else diffValue(b[i], a[i], [...parts, i]);
      }
      return;
    }
    description.updatedFields[note(parts)] = a;
  };
  diffObject(before, after, []);
  return description;
}
