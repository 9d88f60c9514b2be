import { type Document, Timestamp } from 'mongodb';
import { type Checked, check, isStandardSchema, type StandardSchemaV1, type ValidationIssue } from './StandardSchema.js';
import { ValidationError } from './ValidationError.js';

// Array positions in update paths: items.$.qty, items.$[].qty, items.$[elem].qty, items.3.qty.
const POSITIONAL = /^(\$|\$\[\]|\$\[[A-Za-z][A-Za-z0-9]*\]|\d+)$/;
const NUMERIC_BSON = new Set(['Long', 'Int32', 'Double', 'Decimal128']);
// Operators that only remove array elements: they cannot store a value of a wrong type (length rules are not checked).
const REMOVING = new Set(['$pull', '$pullAll', '$pop']);

/**
 * Checks every write of a repository against its schema (any Standard Schema validator): whole documents, each
 * update operator's fields, and the document an upsert would insert. Operators it cannot check are refused.
 */
export class WriteValidator {
  private partialSchema: StandardSchemaV1 | undefined | null = null;
  private readonly required = new Map<string, Promise<boolean>>();

  constructor(
    private readonly schema: StandardSchemaV1,
    private readonly collection: string,
  ) {}

  /** A whole document (insert, replacement): validated, and the schema's output returned, keeping `_id`. */
  async document(doc: unknown, operation: string): Promise<Document> {
    const result = await check(this.schema, doc);
    if (!result.ok) throw new ValidationError(this.collection, operation, result.issues);
    const data = result.value as Document;
    const id = (doc as Document | null)?._id;
    return id !== undefined && !('_id' in data) ? { _id: id, ...data } : data;
  }

  /** An update: each operator's fields validated; with `upsert`, also the document an insert would create. */
  async update(filter: Document, update: Document | Document[], upsert: boolean, operation: string): Promise<Document> {
    if (Array.isArray(update)) {
      this.refuse(operation, '(pipeline)', 'pipeline updates cannot be validated against the schema; use update operators');
    }
    const out: Document = {};
    const issues: ValidationIssue[] = [];
    const image = upsert ? imageOfFilter(filter) : undefined;
    for (const [op, fields] of Object.entries(update as Document)) {
      out[op] = fields;
      // Not an operator object: the driver refuses it with its own message.
      if (!op.startsWith('$') || fields === null || typeof fields !== 'object') continue;
      for (const [key, value] of Object.entries(fields as Document)) {
        const problems = await this.field(op, key, value, operation);
        for (const p of problems) issues.push({ path: p.path, message: `${op}: ${p.message}` });
        if (image) applyToImage(image, op, key, value);
      }
      if (op === '$set' || op === '$setOnInsert') out[op] = await this.transformed(fields as Document);
    }
    if (issues.length > 0) throw new ValidationError(this.collection, operation, issues);
    if (image) await this.upsertImage(image, out, operation);
    return out;
  }

  private async field(op: string, key: string, value: unknown, operation: string): Promise<ValidationIssue[]> {
    switch (op) {
      case '$set':
      case '$setOnInsert':
      case '$min':
      case '$max':
        return this.probe(key, value);
      case '$inc':
      case '$mul':
        if (!isNumber(value)) return [{ path: key.split('.'), message: `${op} needs a number` }];
        return this.probe(key, value);
      case '$bit': {
        const operand = value !== null && typeof value === 'object' ? Object.values(value)[0] : undefined;
        if (!isNumber(operand)) return [{ path: key.split('.'), message: '$bit needs { and | or | xor: <integer> }' }];
        return this.probe(key, operand);
      }
      case '$currentDate': {
        const type = (value as { $type?: unknown } | null)?.$type;
        return this.probe(key, type === 'timestamp' ? new Timestamp({ t: 0, i: 0 }) : new Date());
      }
      case '$unset':
        return (await this.isRequired(key)) ? [{ path: key.split('.'), message: 'is required by the schema and cannot be unset' }] : [];
      case '$push':
      case '$addToSet': {
        const each = (value as { $each?: unknown } | null)?.$each;
        return this.probe(key, Array.isArray(each) ? each : [value]);
      }
      default:
        if (REMOVING.has(op)) return [];
        return this.refuse(operation, op, `${op} cannot be validated against the schema; use $set, $unset or another validated operator`);
    }
  }

  /** Issues of the schema about `key` alone, found by validating a document holding only that value. */
  private async probe(key: string, value: unknown): Promise<ValidationIssue[]> {
    const target = key.split('.').map((s) => (POSITIONAL.test(s) ? '0' : s));
    const result = await check(this.schema, withPath({}, target, value));
    return result.ok ? [] : result.issues.filter((i) => related(i.path, target));
  }

  /** Whether the schema reports `key` as missing when the document (down to its parent) lacks it. */
  private isRequired(key: string): Promise<boolean> {
    let known = this.required.get(key);
    if (!known) {
      const target = key.split('.').map((s) => (POSITIONAL.test(s) ? '0' : s));
      const parent = target.slice(0, -1);
      const probe = parent.length === 0 ? {} : withPath({}, parent, target[target.length - 1] === '0' ? [] : {});
      known = check(this.schema, probe).then((r) => !r.ok && r.issues.some((i) => samePath(i.path, target)));
      this.required.set(key, known);
    }
    return known;
  }

  /** `$set` values as the schema outputs them (defaults, transforms), when it can validate a partial document (zod). */
  private async transformed(fields: Document): Promise<Document> {
    const partial = this.partial();
    const top = Object.entries(fields).filter(([k]) => !k.includes('.'));
    if (!partial || top.length === 0) return fields;
    const result = await check(partial, Object.fromEntries(top));
    if (!result.ok) return fields;
    // Only the fields given: a partial schema may fill in defaults, which must not overwrite stored values.
    const value = result.value as Document;
    const out: Document = { ...fields };
    for (const [k] of top) if (k in value) out[k] = value[k];
    return out;
  }

  private partial(): StandardSchemaV1 | undefined {
    if (this.partialSchema === null) {
      const make = (this.schema as { partial?: unknown }).partial;
      const partial = typeof make === 'function' ? (make as () => unknown).call(this.schema) : undefined;
      this.partialSchema = isStandardSchema(partial) ? partial : undefined;
    }
    return this.partialSchema;
  }

  /** The document an upsert would insert must be valid; schema defaults for fields nothing sets go into `$setOnInsert`. */
  private async upsertImage(image: Document, out: Document, operation: string): Promise<void> {
    const result: Checked = await check(this.schema, image);
    if (!result.ok) throw new ValidationError(this.collection, `${operation} (the document an upsert would insert)`, result.issues);
    const touched = new Set(
      Object.values(out)
        .flatMap((fields) => (fields && typeof fields === 'object' ? Object.keys(fields) : []))
        .map((k) => k.split('.')[0]),
    );
    const defaults = Object.entries(result.value as Document).filter(([k]) => !(k in image) && !touched.has(k));
    if (defaults.length > 0) out.$setOnInsert = { ...(out.$setOnInsert ?? {}), ...Object.fromEntries(defaults) };
  }

  private refuse(operation: string, where: string, message: string): never {
    throw new ValidationError(this.collection, operation, [{ path: [where], message }]);
  }
}

function isNumber(value: unknown): boolean {
  return (
    typeof value === 'number' || typeof value === 'bigint' || NUMERIC_BSON.has(String((value as { _bsontype?: unknown } | null)?._bsontype))
  );
}

/** Sets `value` at `path` inside `doc`, creating objects (or arrays, before a position) on the way. */
function withPath(doc: Document, path: string[], value: unknown): Document {
  let node: Document = doc;
  for (const [i, segment] of path.entries()) {
    if (i === path.length - 1) {
      node[segment] = value;
      break;
    }
    const next = node[segment];
    if (next === null || typeof next !== 'object') node[segment] = path[i + 1] === '0' ? [] : {};
    node = node[segment] as Document;
  }
  return doc;
}

function related(issuePath: PropertyKey[], target: string[]): boolean {
  if (issuePath.length === 0) return false;
  const p = issuePath.map(String);
  const n = Math.min(p.length, target.length);
  for (let i = 0; i < n; i++) if (p[i] !== target[i]) return false;
  return true;
}

function samePath(issuePath: PropertyKey[], target: string[]): boolean {
  return issuePath.length === target.length && issuePath.every((k, i) => String(k) === target[i]);
}

function isOperatorObject(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || '_bsontype' in value) return false;
  return Object.keys(value).some((k) => k.startsWith('$'));
}

/** The fields an upsert takes from its filter: equalities, also inside $and and as $eq. */
function imageOfFilter(filter: Document): Document {
  const image: Document = {};
  const visit = (f: unknown) => {
    if (f === null || typeof f !== 'object') return;
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) value.forEach(visit);
      if (key.startsWith('$')) continue;
      if (!isOperatorObject(value)) withPath(image, key.split('.'), value);
      else if ('$eq' in value) withPath(image, key.split('.'), value.$eq);
    }
  };
  visit(filter);
  return image;
}

function applyToImage(image: Document, op: string, key: string, value: unknown): void {
  const path = key.split('.');
  switch (op) {
    case '$set':
    case '$setOnInsert':
    case '$inc':
    case '$min':
    case '$max':
      withPath(image, path, value);
      return;
    case '$mul':
      withPath(image, path, 0);
      return;
    case '$currentDate':
      withPath(image, path, (value as { $type?: unknown } | null)?.$type === 'timestamp' ? new Timestamp({ t: 0, i: 0 }) : new Date());
      return;
    case '$push':
    case '$addToSet': {
      const each = (value as { $each?: unknown } | null)?.$each;
      withPath(image, path, Array.isArray(each) ? each : [value]);
      return;
    }
    case '$unset': {
      let node: Document | undefined = image;
      for (const segment of path.slice(0, -1)) node = node?.[segment] as Document | undefined;
      if (node && typeof node === 'object') delete node[path[path.length - 1] as string];
      return;
    }
  }
}
