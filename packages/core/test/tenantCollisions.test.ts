import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import type { PolyMongoOptions } from '../src/index.js';
import { FakePort } from './fakePort.js';

// Property: no two ids that PolyMongo accepts as different tenants may land in one database as the server sees it.
// The server stores names as UTF-8 (an unpaired surrogate becomes U+FFFD) and refuses a second database that differs
// only in case (error 13297); the key below is stricter still, folding case over all of Unicode.
function serverKey(dbName: string): string {
  return Buffer.from(dbName, 'utf8').toString('utf8').toLowerCase();
}

// Pieces chosen to collide: case pairs, lone surrogates and their replacement character, Kelvin sign vs k, dotted I,
// combining marks, homoglyphs, invisible and whitespace characters, a surrogate pair.
const PIECES = [
  'a',
  'A',
  'b',
  'B',
  'k',
  'K',
  '\u212a',
  'i',
  'I',
  '\u0130',
  '\u0131',
  'e',
  '\u00e9',
  '\u00c9',
  'e\u0301',
  '\u0301',
  '\u0430',
  '\u00df',
  '\u1e9e',
  '\ud800',
  '\udc00',
  '\ud83d',
  '\ufffd',
  '\ud83d\ude00',
  '\u200b',
  '\u00a0',
  '\u2003',
  '\t',
  '\n',
  '\u202e',
  '-',
  '_',
  '1',
];

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generatedIds(count: number, seed: number): string[] {
  const next = random(seed);
  const ids = new Set<string>();
  for (let i = 0; ids.size < count && i < count * 10; i++) {
    const length = 1 + Math.floor(next() * 4);
    let id = '';
    for (let j = 0; j < length; j++) id += PIECES[Math.floor(next() * PIECES.length)];
    ids.add(id);
  }
  return [...ids];
}

/** Accepted ids, and how many of them share a database with an id PolyMongo treats as another tenant. */
function collisions(options: Partial<PolyMongoOptions>, ids: string[]): { accepted: number; sharing: number } {
  const c = new PolyMongoCore({ uri: 'mongodb://127.0.0.1:27017', maxCachedTenants: 100_000, ...options }, new FakePort());
  const byKey = new Map<string, Set<string>>();
  let accepted = 0;
  for (const id of ids) {
    let route: ReturnType<typeof c.route>;
    try {
      route = c.route(id);
    } catch {
      continue;
    }
    accepted++;
    const key = serverKey(route.dbName);
    const tenants = byKey.get(key) ?? new Set();
    tenants.add(route.tenantId);
    byKey.set(key, tenants);
  }
  let sharing = 0;
  for (const tenants of byKey.values()) if (tenants.size > 1) sharing += tenants.size;
  return { accepted, sharing };
}

const ids = generatedIds(20_000, 10);

describe('tenant ids never share a database (generated ids)', () => {
  test.each<[string, Partial<PolyMongoOptions>]>([
    ['identity naming, default case policy', {}],
    ['prefix naming with an upper-case prefix', { tenantDb: { prefix: 'T_' } }],
    ['identity naming, tenantCase lower', { tenantCase: 'lower' }],
    ['prefix naming, tenantCase lower', { tenantDb: { prefix: 'Tenant_' }, tenantCase: 'lower' }],
  ])('%s: 0 accepted ids share a database', (_label, options) => {
    const { accepted, sharing } = collisions(options, ids);
    expect(accepted).toBeGreaterThan(1_000);
    expect(sharing).toBe(0);
  });

  test("tenantCase 'preserve' gives the case guarantee up, as documented", () => {
    expect(collisions({ tenantCase: 'preserve' }, ids).sharing).toBeGreaterThan(0);
  });

  test('the generator produces the collisions the rules exist for', () => {
    // Without any rule these ids would collide: the property above is not vacuous.
    const naive = new Map<string, number>();
    for (const id of ids) naive.set(serverKey(id), (naive.get(serverKey(id)) ?? 0) + 1);
    expect([...naive.values()].some((n) => n > 1)).toBe(true);
  });
});
