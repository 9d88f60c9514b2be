import type { PolyMongo } from '@polymongo/native';
import type { Document } from 'mongodb';
import type { z } from 'zod';
import { FleetSpecError } from '../errors.js';
import { compareIds } from '../runner/compareIds.js';

/** A Mongoose schema, structurally (mongoose is never imported at run time). */
export interface MongooseSchemaLike {
  paths: Record<string, { instance?: string; isRequired?: boolean }>;
  path(name: string): unknown;
}

export interface SchemaDiffOptions {
  collection: string;
  /** A zod schema, or a Mongoose schema (or a model's `.schema`). */
  schema: z.ZodType | MongooseSchemaLike;
  /** Documents sampled ($sample). Default 1,000. */
  sample?: number;
  /** Invalid documents listed with their issues. Default 10. */
  examples?: number;
}

export interface FieldDiff {
  path: string;
  /** Documents lacking the (required) field. */
  missing: number;
  /** Documents having the field though the schema does not name it. */
  extra: number;
  /** Documents whose value has another type than the schema's. */
  wrongType: number;
}

export interface SchemaDiffResult {
  checked: number;
  valid: number;
  invalid: number;
  fields: FieldDiff[];
  examples: Array<{ _id: unknown; issues: string[] }>;
}

type Issue = { path: string; kind: 'missing' | 'extra' | 'wrongType' | 'invalid'; message: string };

const BSON_NAMES = new Set(['ObjectId', 'ObjectID', 'Decimal128', 'Long', 'Int32', 'Double', 'Binary', 'Timestamp', 'UUID']);

function isPlainObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return false;
  return !BSON_NAMES.has((value as { _bsontype?: string })._bsontype ?? '');
}

function valueAt(doc: Document, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), doc);
}

// ---- zod ----

type ZodInternals = { _zod: { def: { type: string; innerType?: ZodInternals; shape?: Record<string, ZodInternals>; catchall?: unknown } } };

function unwrap(schema: ZodInternals): ZodInternals {
  let current = schema;
  for (let i = 0; i < 20 && current._zod.def.innerType; i++) current = current._zod.def.innerType;
  return current;
}

/** Keys present in the document but not in the (non-strict) zod object shapes, which zod would strip silently. */
function zodExtras(schema: ZodInternals, value: unknown, prefix: string, out: Issue[]): void {
  const def = unwrap(schema)._zod.def;
  if (def.type !== 'object' || !def.shape || !isPlainObject(value)) return;
  const catchall = def.catchall as ZodInternals | undefined;
  if (catchall && catchall._zod.def.type !== 'never') return; // a catchall accepts any key
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const known = def.shape[key];
    if (!known) {
      if (!(prefix === '' && key === '_id')) out.push({ path, kind: 'extra', message: `${path}: not in the schema` });
    } else zodExtras(known, child, path, out);
  }
}

function zodIssues(schema: z.ZodType, doc: Document): Issue[] {
  const out: Issue[] = [];
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') continue; // reported by zodExtras, with their full paths
      if (issue.code === 'invalid_type') {
        const missing = valueAt(doc, path) === undefined;
        out.push({ path, kind: missing ? 'missing' : 'wrongType', message: `${path}: ${missing ? 'missing' : issue.message}` });
      } else out.push({ path, kind: 'invalid', message: `${path}: ${issue.message}` });
    }
  }
  zodExtras(schema as unknown as ZodInternals, doc, '', out);
  return out;
}

// ---- mongoose ----

function matchesInstance(instance: string | undefined, value: unknown): boolean {
  const bson = (value as { _bsontype?: string } | null)?._bsontype;
  switch (instance) {
    case 'String':
      return typeof value === 'string';
    case 'Number':
    case 'Double':
    case 'Int32':
      return typeof value === 'number' || bson === 'Int32' || bson === 'Double' || bson === 'Long';
    case 'BigInt':
      return typeof value === 'bigint' || typeof value === 'number' || bson === 'Long';
    case 'Boolean':
      return typeof value === 'boolean';
    case 'Date':
      return value instanceof Date;
    case 'ObjectId':
    case 'ObjectID':
      return bson === 'ObjectId' || bson === 'ObjectID';
    case 'Decimal128':
      return bson === 'Decimal128';
    case 'Buffer':
    case 'UUID':
      return bson === 'Binary' || Buffer.isBuffer(value);
    case 'Array':
      return Array.isArray(value);
    case 'Embedded':
    case 'Map':
      return isPlainObject(value);
    default:
      return true; // Mixed and anything unknown
  }
}

function leafPaths(value: Document, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(child) && Object.keys(child).length > 0) leafPaths(child, path, out);
    else out.push(path);
  }
}

function mongooseIssues(schema: MongooseSchemaLike, doc: Document): Issue[] {
  const out: Issue[] = [];
  const paths = Object.entries(schema.paths).filter(([p]) => p !== '_id' && p !== '__v');
  for (const [path, type] of paths) {
    const value = valueAt(doc, path);
    if (value === undefined || value === null) {
      if (type.isRequired) out.push({ path, kind: 'missing', message: `${path}: missing` });
    } else if (!matchesInstance(type.instance, value)) {
      out.push({ path, kind: 'wrongType', message: `${path}: expected ${type.instance}, got ${typeof value}` });
    }
  }
  const opaque = paths.filter(([, t]) => ['Mixed', 'Map', 'Array', 'Embedded'].includes(t.instance ?? '')).map(([p]) => p);
  const leaves: string[] = [];
  leafPaths(doc, '', leaves);
  for (const leaf of leaves) {
    if (leaf === '_id' || leaf === '__v') continue;
    const known = paths.some(([p]) => p === leaf || p.startsWith(`${leaf}.`)) || opaque.some((p) => leaf.startsWith(`${p}.`));
    if (!known) out.push({ path: leaf, kind: 'extra', message: `${leaf}: not in the schema` });
  }
  return out;
}

function isZod(schema: unknown): schema is z.ZodType {
  return typeof (schema as { safeParse?: unknown } | null)?.safeParse === 'function';
}

function isMongooseSchema(schema: unknown): schema is MongooseSchemaLike {
  const s = schema as MongooseSchemaLike | null;
  return typeof s?.paths === 'object' && s.paths !== null && typeof s.path === 'function';
}

/**
 * Samples a tenant's collection and reports, per field, how many documents lack it, carry it unexpectedly or hold
 * another type, with example `_id`s.
 */
export async function schemaDiff(poly: PolyMongo, tenant: string, options: SchemaDiffOptions): Promise<SchemaDiffResult> {
  const { collection, sample = 1000, examples: maxExamples = 10 } = options ?? ({} as never);
  const schema =
    (options?.schema as { schema?: unknown } | undefined)?.schema && !isZod(options.schema) && !isMongooseSchema(options.schema)
      ? (options.schema as unknown as { schema: unknown }).schema
      : options?.schema;
  if (typeof collection !== 'string' || collection.length === 0) throw new FleetSpecError('schemaDiff needs a collection name.');
  if (!Number.isInteger(sample) || sample < 1) throw new FleetSpecError('sample must be a whole number of documents, at least 1.');
  if (!isZod(schema) && !isMongooseSchema(schema))
    throw new FleetSpecError('schemaDiff needs a zod schema or a Mongoose schema (or model).');
  const check = isZod(schema) ? (doc: Document) => zodIssues(schema, doc) : (doc: Document) => mongooseIssues(schema, doc);
  const db = poly.db(tenant);
  const result: SchemaDiffResult = { checked: 0, valid: 0, invalid: 0, fields: [], examples: [] };
  const fields = new Map<string, FieldDiff>();
  const coll = db.collection(collection);
  // A collection no larger than the sample is read whole: exact, and cheaper than $sample's random sort.
  const cursor = (await coll.estimatedDocumentCount()) <= sample ? coll.find({}) : coll.aggregate([{ $sample: { size: sample } }]);
  try {
    for await (const doc of cursor) {
      result.checked++;
      const issues = check(doc);
      if (issues.length === 0) {
        result.valid++;
        continue;
      }
      result.invalid++;
      for (const issue of issues) {
        if (issue.kind === 'invalid') continue;
        const field = fields.get(issue.path) ?? { path: issue.path, missing: 0, extra: 0, wrongType: 0 };
        field[issue.kind]++;
        fields.set(issue.path, field);
      }
      if (result.examples.length < maxExamples) result.examples.push({ _id: doc._id, issues: issues.map((i) => i.message) });
    }
  } finally {
    await cursor.close();
  }
  result.fields = [...fields.values()].sort((a, b) => compareIds(a.path, b.path));
  return result;
}
