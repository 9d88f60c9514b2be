import { requireLazily } from '@polymongo/core';
import type { z } from 'zod';
import { FleetSpecError } from '../errors.js';

type Schema = Record<string, unknown>;

/** The $jsonSchema keywords MongoDB accepts (draft 4 without $ref, $schema, default, definitions, format, id). */
const KEYWORDS = new Set([
  'additionalItems',
  'additionalProperties',
  'allOf',
  'anyOf',
  'bsonType',
  'dependencies',
  'description',
  'enum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'items',
  'maximum',
  'maxItems',
  'maxLength',
  'maxProperties',
  'minimum',
  'minItems',
  'minLength',
  'minProperties',
  'multipleOf',
  'not',
  'oneOf',
  'pattern',
  'patternProperties',
  'properties',
  'required',
  'title',
  'uniqueItems',
]);

const BSON_TYPES: Record<string, string[]> = {
  string: ['string'],
  number: ['number'],
  integer: ['int', 'long'],
  boolean: ['bool'],
  object: ['object'],
  array: ['array'],
  null: ['null'],
};

function toBsonType(type: unknown): string | string[] {
  const types = (Array.isArray(type) ? type : [type]).flatMap((t) => BSON_TYPES[String(t)] ?? []);
  const unique = [...new Set(types)];
  return unique.length === 1 ? (unique[0] as string) : unique;
}

function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (node === null || typeof node !== 'object') return node;
  const input = node as Schema;
  if ('$ref' in input) {
    throw new FleetSpecError(
      'A recursive or shared zod schema ($ref) cannot become a MongoDB $jsonSchema; inline it or give the validator by hand.',
    );
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'type') {
      if (input.bsonType === undefined) out.bsonType = toBsonType(value);
    } else if (key === 'properties' || key === 'patternProperties' || key === 'dependencies') {
      out[key] = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, convert(v)]));
    } else if (KEYWORDS.has(key)) {
      out[key] = convert(value);
    }
  }
  return out;
}

/**
 * A MongoDB `$jsonSchema` from a zod object schema: `bsonType` instead of `type` (dates as `date`, integers as
 * int/long), no `$schema`, `format` or `default`, and `_id` allowed when the object is strict.
 */
export function zodToJsonSchema(schema: z.ZodType): Schema {
  // zod is loaded here, not when the fleet is imported: otherwise every process importing the fleet, also one that
  // never converts a schema, pays its 2.9 MB of heap and its import time (BENCHMARKS.md, "Fleet operations").
  const { toJSONSchema } = requireLazily<typeof import('zod')>('zod');
  const json = toJSONSchema(schema, {
    target: 'draft-4',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const type = (ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type;
      if (type === 'date') ctx.jsonSchema.bsonType = 'date';
      if (type === 'bigint') ctx.jsonSchema.bsonType = 'long';
    },
  });
  const converted = convert(json) as Schema;
  if (converted.additionalProperties === false) {
    const properties = (converted.properties ?? {}) as Schema;
    if (!('_id' in properties)) converted.properties = { _id: {}, ...properties };
  }
  return converted;
}
