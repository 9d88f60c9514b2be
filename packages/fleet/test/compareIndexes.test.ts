import { Int32, Long } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { compareIndexes } from '../src/indexes/compareIndexes.js';
import { toShape } from '../src/indexes/indexSpec.js';

// compareIndexes compares keys field by field (no Extended JSON per tenant); these pin what that comparison means.
describe('compareIndexes', () => {
  const want = (description: Record<string, unknown>) => toShape(description, 'test');

  test('a listed key with Int32/Long/double directions in the same field order matches; no drift', () => {
    const drift = compareIndexes(
      [want({ key: { a: 1, b: -1 } }), want({ key: { sku: 1 }, unique: true })],
      [
        { name: '_id_', key: { _id: new Int32(1) } },
        { name: 'a_1_b_-1', key: { a: new Int32(1), b: Long.fromNumber(-1) } },
        { name: 'sku_1', key: { sku: 1.0 }, unique: true },
      ],
    );
    expect(drift).toEqual({ missing: [], extra: [], different: [] });
  });

  test('the same fields in another order are another index: missing one, extra the other', () => {
    const drift = compareIndexes([want({ key: { a: 1, b: 1 }, name: 'ab' })], [{ name: 'ba', key: { b: 1, a: 1 } }]);
    expect(drift.missing.map((m) => m.name)).toEqual(['ab']);
    expect(drift.extra.map((e) => e.name)).toEqual(['ba']);
  });

  test('an index found by name with another key, direction or partial filter is different, naming the fields', () => {
    const drift = compareIndexes(
      [want({ key: { a: 1 }, name: 'ix' }), want({ key: { c: 1 }, partialFilterExpression: { c: { $gt: 1 } } })],
      [
        { name: 'ix', key: { a: -1 } },
        { name: 'c_1', key: { c: 1 }, partialFilterExpression: { c: { $gt: 2 } } },
      ],
    );
    expect(drift.different.map((d) => [d.name, d.fields])).toEqual([
      ['ix', ['key']],
      ['c_1', ['partialFilterExpression']],
    ]);
    expect(drift.missing).toEqual([]);
    expect(drift.extra).toEqual([]);
  });

  test('a text index key (string direction) matches only the same string', () => {
    expect(compareIndexes([want({ key: { body: 'text' } })], [{ name: 'body_text', key: { body: 'text' } }]).different).toEqual([]);
    expect(compareIndexes([want({ key: { body: 'text' }, name: 'x' })], [{ name: 'x', key: { body: 1 } }]).different).toHaveLength(1);
  });
});
