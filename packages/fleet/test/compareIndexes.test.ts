import { Int32, Long } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { compareIndexes } from '../src/indexes/compareIndexes.js';
import { toShape } from '../src/indexes/indexSpec.js';

// compareIndexes compares keys field by field (no Extended JSON per tenant); these pin what that comparison means.
describe('compareIndexes', () => {
  const want = (description: Record<string, unknown>) => toShape(description, 'test');

  test('a collection with only _id_ (or nothing listed) misses every wanted index, and the result is a copy', () => {
    const expected = [want({ key: { a: 1 } }), want({ key: { body: 'text' } })];
    for (const listed of [[{ name: '_id_', key: { _id: 1 } }], []]) {
      const drift = compareIndexes(expected, listed);
      expect(drift).toEqual({ missing: expected, extra: [], different: [] });
      expect(drift.missing).not.toBe(expected);
    }
  });

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

  test("a text index with other key fields and name pairs with the collection's text index; a non-text index never does", () => {
    const listed = [
      { name: '_id_', key: { _id: 1 } },
      { name: 'org_1_title_text', key: { org: 1, _fts: 'text', _ftsx: 1 }, weights: { title: 1 }, default_language: 'english' },
      { name: 'at_1', key: { at: 1 } },
    ];
    const drift = compareIndexes([want({ key: { tenant: 1, body: 'text' } }), want({ key: { title: 1 } })], listed);
    expect(drift.different.map((d) => [d.name, d.expected.name, d.fields])).toEqual([
      ['org_1_title_text', 'tenant_1_body_text', ['key', 'weights']],
    ]);
    expect(drift.missing.map((m) => m.name)).toEqual(['title_1']);
    expect(drift.extra.map((e) => e.name)).toEqual(['at_1']);
    // Without a text index in the spec, the listed one stays extra.
    expect(compareIndexes([want({ key: { at: 1 } })], listed).extra.map((e) => e.name)).toEqual(['org_1_title_text']);
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

  // As mongod 7.0 lists a text index: key { ..._fts: 'text', _ftsx: 1... }, the text fields in weights.
  const listedText = (extra: Record<string, unknown> = {}) => ({
    v: new Int32(2),
    name: 'org_1_title_text_body_text_at_-1',
    key: { org: new Int32(1), _fts: 'text', _ftsx: new Int32(1), at: new Int32(-1) },
    weights: { title: new Int32(5), body: new Int32(1) },
    default_language: 'english',
    language_override: 'language',
    textIndexVersion: new Int32(3),
    ...extra,
  });
  const spec = { key: { org: 1, title: 'text', body: 'text', at: -1 }, weights: { title: 5 } };

  test('a compound text index with weights and default languages, as mongod lists it, is no drift', () => {
    expect(compareIndexes([want(spec)], [listedText()])).toEqual({ missing: [], extra: [], different: [] });
    expect(
      compareIndexes([want({ ...spec, default_language: 'english', language_override: 'language' })], [listedText()]).different,
    ).toEqual([]);
    // A field named only in `weights` is a text field too.
    expect(
      compareIndexes([want({ key: { org: 1, title: 'text', at: -1 }, weights: { title: 5, body: 1 } })], [listedText()]).different,
    ).toEqual([]);
  });

  test('a text index differing in weights, text fields, languages or key fields around the text part is different', () => {
    const fieldsOf = (description: Record<string, unknown>, listed = listedText()) =>
      compareIndexes([want({ name: listed.name, ...description })], [listed]).different.map((d) => d.fields);
    expect(fieldsOf({ ...spec, weights: { title: 2 } })).toEqual([['weights']]);
    expect(fieldsOf({ ...spec, key: { org: 1, title: 'text', at: -1 } })).toEqual([['weights']]);
    expect(fieldsOf({ ...spec, default_language: 'french' })).toEqual([['default_language']]);
    expect(fieldsOf(spec, listedText({ language_override: 'lang' }))).toEqual([['language_override']]);
    expect(fieldsOf({ ...spec, key: { title: 'text', body: 'text', at: -1 } })).toEqual([['key']]);
    expect(fieldsOf({ ...spec, key: { org: 1, title: 'text', body: 'text', at: 1 } })).toEqual([['key']]);
    expect(fieldsOf({ key: { org: 1, title: 1 } })).toEqual([['key']]);
  });

  test('a wildcard text index matches its listing', () => {
    const listed = { name: '$**_text', key: { _fts: 'text', _ftsx: 1 }, weights: { '$**': 1 }, default_language: 'english' };
    expect(compareIndexes([want({ key: { '$**': 'text' } })], [listed]).different).toEqual([]);
    expect(compareIndexes([want({ key: { title: 'text' }, name: '$**_text' })], [listed]).different.map((d) => d.fields)).toEqual([
      ['weights'],
    ]);
  });
});
