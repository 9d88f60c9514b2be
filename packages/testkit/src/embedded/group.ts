import { Decimal128, type Document, Double, EJSON, Int32 } from 'bson';
import { Aggregator } from 'mingo';
import { type Collation, keyStrings } from './collation.js';
import { withMingo } from './query.js';
import { compareValues, type StringKey } from './storage/bsonOrder.js';
import { arithmetic, isNumeric, numericValue, promote, promoted } from './storage/bsonValues.js';

/** Accumulators computed here with mongod's result types; a `$group` using any other runs on mingo instead. */
const TYPED_ACCUMULATORS = new Set(['$sum', '$avg', '$min', '$max', '$first', '$last', '$push', '$addToSet', '$count']);

/** Whether a `$group` stage can run here (every accumulator is one of the typed ones). */
export function isTypedGroup(spec: Document): boolean {
  return Object.entries(spec).every(([field, acc]) => {
    if (field === '_id') return true;
    const ops = acc !== null && typeof acc === 'object' ? Object.keys(acc) : [];
    return ops.length === 1 && TYPED_ACCUMULATORS.has(ops[0] as string);
  });
}

const MISSING = Symbol('missing');

/** `$a.b` without array traversal on the way: read from the stored document, with its exact BSON type. */
function storedFieldValue(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) return MISSING;
    if (current === null || typeof current !== 'object' || (current as { _bsontype?: string })._bsontype) return undefined;
    current = (current as Document)[part];
  }
  return current;
}

/**
 * Evaluates the `_id` and accumulator expressions of a `$group` for every document. Field paths are read from the
 * stored documents, so values keep their BSON types; other expressions are computed by mingo on numbers.
 */
function evaluate(docs: Document[], expressions: unknown[], variables: Document | undefined): unknown[][] {
  const isFieldPath = (e: unknown) => typeof e === 'string' && e.startsWith('$') && !e.startsWith('$$');
  // Constants (`_id: null`, `$sum: 1`) need no evaluation.
  const isConstant = (e: unknown) => e === null || (typeof e !== 'object' && !(typeof e === 'string' && e.startsWith('$'))) || isNumeric(e);
  const isStored = (e: unknown) => isFieldPath(e) || e === '$$ROOT' || e === '$$CURRENT' || isConstant(e);
  const computed = expressions.every(isStored)
    ? []
    : withMingo(() =>
        new Aggregator([{ $replaceWith: Object.fromEntries(expressions.map((e, i) => [`v${i}`, e])) }], {
          ...(variables ? { variables: promote(variables) as Document } : {}),
        }).run(docs.map(promoted)),
      );
  return docs.map((doc, d) =>
    expressions.map((e, i) => {
      if (e === '$$ROOT' || e === '$$CURRENT') return doc;
      if (isConstant(e)) return e;
      if (isFieldPath(e)) {
        const stored = storedFieldValue(doc, (e as string).slice(1));
        if (stored !== MISSING) return stored;
        return withMingo(() => new Aggregator([{ $replaceWith: { v: e } }]).run([promoted(doc)])[0]?.v);
      }
      return (computed[d] as Document | undefined)?.[`v${i}`];
    }),
  );
}

interface Accumulator {
  add(value: unknown): void;
  result(): unknown;
}

/** `$sum` with mongod's types: Int32 while it fits, then Long; Double or Decimal128 once one is summed. */
function sum(): Accumulator {
  let total: unknown = new Int32(0);
  return {
    add: (v) => {
      if (isNumeric(v)) total = arithmetic('$inc', total as Int32, typeof v === 'number' ? typedNumber(v) : v);
    },
    result: () => total,
  };
}

/** A plain number from a computed expression: whole numbers that fit are Int32, others Double (as BSON encodes them). */
function typedNumber(v: number): Int32 | Double {
  return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? new Int32(v) : new Double(v);
}

/** `$avg`: a Double (Decimal128 when a Decimal128 is averaged); null without numbers. */
function avg(): Accumulator {
  let total = 0;
  let count = 0;
  let decimal = false;
  return {
    add: (v) => {
      if (!isNumeric(v)) return;
      if ((v as { _bsontype?: string })._bsontype === 'Decimal128') decimal = true;
      total += numericValue(v);
      count += 1;
    },
    result: () => (count === 0 ? null : decimal ? Decimal128.fromString(String(total / count)) : new Double(total / count)),
  };
}

function extreme(direction: 1 | -1, key: StringKey | undefined): Accumulator {
  let best: unknown;
  let seen = false;
  return {
    add: (v) => {
      if (v === undefined || v === null) return;
      if (!seen || compareValues(v, best, key) * direction > 0) best = v;
      seen = true;
    },
    result: () => (seen ? best : null),
  };
}

function accumulator(op: string, key: StringKey | undefined, collation: Collation | undefined): Accumulator {
  switch (op) {
    case '$sum':
    case '$count':
      return sum();
    case '$avg':
      return avg();
    case '$min':
      return extreme(-1, key);
    case '$max':
      return extreme(1, key);
    case '$first': {
      let first: unknown = MISSING;
      return {
        add: (v) => {
          if (first === MISSING) first = v ?? null;
        },
        result: () => (first === MISSING ? null : first),
      };
    }
    case '$last': {
      let last: unknown = null;
      return {
        add: (v) => {
          last = v ?? null;
        },
        result: () => last,
      };
    }
    case '$push': {
      const values: unknown[] = [];
      return { add: (v) => void (v !== undefined && values.push(v)), result: () => values };
    }
    default: {
      const values = new Map<string, unknown>();
      return {
        add: (v) => {
          if (v === undefined) return;
          const k = groupKey(v, collation);
          if (!values.has(k)) values.set(k, v);
        },
        result: () => [...values.values()],
      };
    }
  }
}

/** Values equal for grouping (numbers across types, strings under the collation) share a key. */
function groupKey(value: unknown, collation: Collation | undefined): string {
  const plain = promote(value === undefined ? null : value);
  return EJSON.stringify([collation ? keyStrings(plain, collation) : plain] as unknown as Document, { relaxed: false });
}

/**
 * `$group` with mongod's result types and the pipeline's collation: groups by `_id` (strings equal under the
 * collation are one group, represented by the first value seen) and computes each accumulator.
 */
export function typedGroup(
  docs: Document[],
  spec: Document,
  variables: Document | undefined,
  collation: Collation | undefined,
  key: StringKey | undefined,
): Document[] {
  const fields = Object.keys(spec).filter((f) => f !== '_id');
  const ops = fields.map((f) => Object.keys(spec[f])[0] as string);
  const expressions = [spec._id ?? null, ...fields.map((f, i) => (ops[i] === '$count' ? 1 : spec[f][ops[i] as string]))];
  const values = evaluate(docs, expressions, variables);
  const groups = new Map<string, { id: unknown; accumulators: Accumulator[] }>();
  for (const row of values) {
    const id = row[0] === undefined ? null : row[0];
    const k = groupKey(id, collation);
    let group = groups.get(k);
    if (!group) {
      group = { id, accumulators: ops.map((op) => accumulator(op, key, collation)) };
      groups.set(k, group);
    }
    for (let i = 0; i < fields.length; i++) (group.accumulators[i] as Accumulator).add(row[i + 1]);
  }
  return [...groups.values()].map((g) => {
    const out: Document = { _id: g.id };
    fields.forEach((f, i) => {
      out[f] = (g.accumulators[i] as Accumulator).result();
    });
    return out;
  });
}
