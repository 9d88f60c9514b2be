import type { Document } from 'bson';
import { Query } from 'mingo';
import { CommandError, ErrorCodes, WriteError } from './errors.js';
import { isNumeric, numericValue, promote, promoted } from './storage/bsonValues.js';
import type { Collection } from './storage/collection.js';

/**
 * Collection validators as mongod enforces them: `$jsonSchema` (MongoDB's draft-4 subset with `bsonType`) and query
 * operators, set by `create` or `collMod`, applied per `validationLevel` and `validationAction`.
 */

const SCHEMA_KEYWORDS = new Set([
  'bsonType',
  'type',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'items',
  'additionalItems',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'dependencies',
  'title',
  'description',
  'encrypt',
]);
const UNSUPPORTED_KEYWORDS = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id']);

const BSON_TYPE_ALIASES: Record<string, string[]> = { number: ['int', 'long', 'double', 'decimal'] };
const JSON_TYPES: Record<string, string[]> = {
  object: ['object'],
  array: ['array'],
  number: ['int', 'long', 'double', 'decimal'],
  boolean: ['bool'],
  string: ['string'],
  null: ['null'],
};

/** The BSON type name of a stored value, as `$type` and `bsonType` name it. */
export function bsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 'int' : 'double';
    case 'bigint':
      return 'long';
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  const t = (value as { _bsontype?: string })._bsontype;
  switch (t) {
    case undefined:
    case 'DBRef':
      return 'object';
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'BSONRegExp':
      return 'regex';
    case 'Code':
      return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
    case 'BSONSymbol':
      return 'symbol';
    default:
      return t.toLowerCase();
  }
}

/** Rejects a validator mongod would not accept, as `create` and `collMod` do. */
export function checkValidator(validator: unknown): void {
  if (validator === undefined) return;
  if (validator === null || typeof validator !== 'object' || Array.isArray(validator)) {
    throw new CommandError(ErrorCodes.TypeMismatch, "'validator' must be an object");
  }
  const schema = (validator as Document).$jsonSchema;
  if (schema !== undefined) checkSchema(schema);
  try {
    const { $jsonSchema: _s, ...rest } = validator as Document;
    new Query(promote(rest) as Document);
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, `Parsing of collection validator failed :: caused by :: ${(err as Error).message}`);
  }
}

function checkSchema(schema: unknown): void {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new CommandError(ErrorCodes.TypeMismatch, '$jsonSchema must be an object');
  }
  for (const [keyword, value] of Object.entries(schema as Document)) {
    if (UNSUPPORTED_KEYWORDS.has(keyword)) {
      throw new CommandError(ErrorCodes.FailedToParse, `$jsonSchema keyword '${keyword}' is not currently supported`);
    }
    if (!SCHEMA_KEYWORDS.has(keyword)) throw new CommandError(ErrorCodes.FailedToParse, `Unknown $jsonSchema keyword: ${keyword}`);
    if (keyword === 'properties' || keyword === 'patternProperties') for (const sub of Object.values(value as Document)) checkSchema(sub);
    if (keyword === 'items') for (const sub of Array.isArray(value) ? value : [value]) checkSchema(sub);
    if (keyword === 'allOf' || keyword === 'anyOf' || keyword === 'oneOf') for (const sub of value as unknown[]) checkSchema(sub);
    if (keyword === 'not' || ((keyword === 'additionalProperties' || keyword === 'additionalItems') && typeof value === 'object')) {
      checkSchema(value);
    }
  }
}

/** One rule a value broke, in the shape of mongod's `schemaRulesNotSatisfied` entries. */
type Failure = Document;

/** The rules of `schema` that `value` breaks (empty when it conforms). */
export function schemaFailures(schema: Document, value: unknown): Failure[] {
  const failures: Failure[] = [];
  const fail = (operatorName: string, details: Document = {}) =>
    failures.push({ operatorName, specifiedAs: { [operatorName]: schema[operatorName] }, ...details });
  const type = bsonTypeName(value);
  if (schema.bsonType !== undefined) {
    const wanted = (Array.isArray(schema.bsonType) ? schema.bsonType : [schema.bsonType]).flatMap(
      (t: string) => BSON_TYPE_ALIASES[t] ?? [t],
    );
    if (!wanted.includes(type)) fail('bsonType', { reason: 'type did not match', consideredValue: value, consideredType: type });
  }
  if (schema.type !== undefined) {
    const wanted = (Array.isArray(schema.type) ? schema.type : [schema.type]).flatMap((t: string) => JSON_TYPES[t] ?? []);
    if (!wanted.includes(type)) fail('type', { reason: 'type did not match', consideredValue: value, consideredType: type });
  }
  if (type === 'object') objectFailures(schema, value as Document, fail);
  if (type === 'array') arrayFailures(schema, value as unknown[], fail);
  if (isNumeric(value)) {
    const n = numericValue(value);
    const bound = (k: string) => numericValue(schema[k]);
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? n <= bound('minimum') : n < bound('minimum'))) {
      fail('minimum', { reason: 'comparison failed', consideredValue: value });
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? n >= bound('maximum') : n > bound('maximum'))) {
      fail('maximum', { reason: 'comparison failed', consideredValue: value });
    }
    if (schema.multipleOf !== undefined && n % bound('multipleOf') !== 0) fail('multipleOf', { consideredValue: value });
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < numericValue(schema.minLength)) fail('minLength', { consideredValue: value });
    if (schema.maxLength !== undefined && length > numericValue(schema.maxLength)) fail('maxLength', { consideredValue: value });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      fail('pattern', { reason: 'regular expression did not match', consideredValue: value });
    }
  }
  if (schema.enum !== undefined) {
    const key = JSON.stringify(promote(value));
    if (!(schema.enum as unknown[]).some((e) => JSON.stringify(promote(e)) === key)) {
      fail('enum', { reason: 'value was not found in enum', consideredValue: value });
    }
  }
  if (schema.allOf !== undefined && (schema.allOf as Document[]).some((s) => schemaFailures(s, value).length > 0)) fail('allOf');
  if (schema.anyOf !== undefined && !(schema.anyOf as Document[]).some((s) => schemaFailures(s, value).length === 0)) fail('anyOf');
  if (schema.oneOf !== undefined && (schema.oneOf as Document[]).filter((s) => schemaFailures(s, value).length === 0).length !== 1) {
    fail('oneOf');
  }
  if (schema.not !== undefined && schemaFailures(schema.not as Document, value).length === 0) fail('not');
  return failures;
}

function objectFailures(schema: Document, doc: Document, fail: (name: string, details?: Document) => void): void {
  if (Array.isArray(schema.required)) {
    const missing = (schema.required as string[]).filter((k) => !(k in doc));
    if (missing.length > 0) fail('required', { missingProperties: missing });
  }
  const keys = Object.keys(doc);
  if (schema.minProperties !== undefined && keys.length < numericValue(schema.minProperties)) fail('minProperties');
  if (schema.maxProperties !== undefined && keys.length > numericValue(schema.maxProperties)) fail('maxProperties');
  const properties = (schema.properties ?? {}) as Document;
  const notSatisfied: Document[] = [];
  for (const [name, sub] of Object.entries(properties)) {
    if (!(name in doc)) continue;
    const details = schemaFailures(sub as Document, doc[name]);
    if (details.length > 0) notSatisfied.push({ propertyName: name, details });
  }
  if (notSatisfied.length > 0) fail('properties', { propertiesNotSatisfied: notSatisfied });
  const patterns = Object.entries((schema.patternProperties ?? {}) as Document).map(([p, s]) => [new RegExp(p, 'u'), s] as const);
  for (const key of keys) {
    const matching = patterns.filter(([re]) => re.test(key));
    for (const [, sub] of matching) {
      if (schemaFailures(sub as Document, doc[key]).length > 0) fail('patternProperties', { propertyName: key });
    }
    if (key in properties || matching.length > 0 || schema.additionalProperties === undefined) continue;
    if (schema.additionalProperties === false) fail('additionalProperties', { additionalProperties: [key] });
    else if (typeof schema.additionalProperties === 'object' && schemaFailures(schema.additionalProperties, doc[key]).length > 0) {
      fail('additionalProperties', { additionalProperties: [key] });
    }
  }
  for (const [key, dependency] of Object.entries((schema.dependencies ?? {}) as Document)) {
    if (!(key in doc)) continue;
    const ok = Array.isArray(dependency) ? dependency.every((d: string) => d in doc) : schemaFailures(dependency, doc).length === 0;
    if (!ok) fail('dependencies', { propertyName: key });
  }
}

function arrayFailures(schema: Document, items: unknown[], fail: (name: string, details?: Document) => void): void {
  if (schema.minItems !== undefined && items.length < numericValue(schema.minItems)) fail('minItems');
  if (schema.maxItems !== undefined && items.length > numericValue(schema.maxItems)) fail('maxItems');
  if (schema.uniqueItems === true && new Set(items.map((i) => JSON.stringify(promote(i)))).size !== items.length) fail('uniqueItems');
  if (schema.items !== undefined) {
    if (Array.isArray(schema.items)) {
      (schema.items as Document[]).forEach((sub, i) => {
        if (i < items.length && schemaFailures(sub, items[i]).length > 0) fail('items', { itemIndex: i });
      });
      if (schema.additionalItems === false && items.length > schema.items.length) fail('additionalItems');
    } else {
      const bad = items.findIndex((item) => schemaFailures(schema.items, item).length > 0);
      if (bad >= 0) fail('items', { reason: 'At least one item did not match the sub-schema', itemIndex: bad });
    }
  }
}

/** Whether `doc` satisfies a collection validator; the failures describe why not, for `errInfo`. */
function check(validator: Document, doc: Document): Failure[] | undefined {
  const { $jsonSchema: schema, ...rest } = validator;
  if (schema !== undefined) {
    const failures = schemaFailures(schema as Document, doc);
    if (failures.length > 0) return failures;
  }
  if (Object.keys(rest).length > 0 && !new Query(promote(rest) as Document).test(promoted(doc))) return [];
  return undefined;
}

/**
 * Enforces the collection's validator on a document about to be written. `before` is the document being updated
 * (undefined for an insert): with `validationLevel: 'moderate'` an update of a document that was already invalid
 * is not checked.
 */
export function validateWrite(coll: Collection, before: Document | undefined, after: Document, bypass: boolean): void {
  const validator = coll.options.validator as Document | undefined;
  if (!validator || bypass) return;
  const level = coll.options.validationLevel ?? 'strict';
  if (level === 'off') return;
  const failures = check(validator, after);
  if (failures === undefined) return;
  if (level === 'moderate' && before !== undefined && check(validator, before) !== undefined) return;
  if (coll.options.validationAction === 'warn') return;
  const operatorName = validator.$jsonSchema !== undefined && failures.length > 0 ? '$jsonSchema' : '$and';
  const details =
    operatorName === '$jsonSchema' ? { operatorName, schemaRulesNotSatisfied: failures } : { operatorName, clausesNotSatisfied: [] };
  throw new WriteError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', {
    errInfo: { failingDocumentId: after._id, details },
  });
}

const VALIDATION_LEVELS = new Set(['off', 'strict', 'moderate']);
const VALIDATION_ACTIONS = new Set(['error', 'warn']);

/** Checks the validation options of `create` or `collMod` before they are stored. */
export function checkValidationOptions(options: Document): void {
  checkValidator(options.validator);
  if (options.validationLevel !== undefined && !VALIDATION_LEVELS.has(options.validationLevel)) {
    throw new CommandError(
      ErrorCodes.BadValue,
      `Enumeration value '${String(options.validationLevel)}' for field 'validationLevel' is not a valid value.`,
    );
  }
  if (options.validationAction !== undefined && !VALIDATION_ACTIONS.has(options.validationAction)) {
    throw new CommandError(
      ErrorCodes.BadValue,
      `Enumeration value '${String(options.validationAction)}' for field 'validationAction' is not a valid value.`,
    );
  }
}
