import { Int32 } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { compareIndexes } from '../src/indexes/compareIndexes.js';
import { toShape } from '../src/indexes/indexSpec.js';

// Review s4. Not new in 584bbed (the Extended JSON comparison it replaced had the same gap), but compareIndexes is
// what it rewrote: mongod lists a text index under its internal key { _fts: 'text', _ftsx: 1 }, the indexed fields
// being in `weights`. The embedded testkit server echoes the spec's key back, so only a unit test with the listIndexes
// entry a real mongod 7.0 returns shows it. Effect: `indexes.plan` reports every tenant's text index as different
// (field 'key') forever, and `sync({ replaceDifferent: true })` drops and rebuilds it on every run.
describe('review s4: text indexes as mongod lists them', () => {
  const want = (description: Record<string, unknown>) => toShape(description, 'test');

  test('a text index created from { title: "text" } is no drift', () => {
    const listed = [
      { v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' },
      {
        v: new Int32(2),
        key: { _fts: 'text', _ftsx: new Int32(1) },
        name: 'title_text',
        weights: { title: new Int32(1) },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: new Int32(3),
      },
    ];
    expect(compareIndexes([want({ key: { title: 'text' } })], listed)).toEqual({ missing: [], extra: [], different: [] });
  });

  test('a compound text index created from { org: 1, title: "text" } is no drift', () => {
    const listed = [
      {
        v: new Int32(2),
        key: { org: new Int32(1), _fts: 'text', _ftsx: new Int32(1) },
        name: 'org_1_title_text',
        weights: { title: new Int32(1) },
        default_language: 'english',
        language_override: 'language',
        textIndexVersion: new Int32(3),
      },
    ];
    expect(compareIndexes([want({ key: { org: 1, title: 'text' } })], listed)).toEqual({ missing: [], extra: [], different: [] });
  });
});
