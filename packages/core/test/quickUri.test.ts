import { describe, expect, test } from 'vitest';
import { parse, parseSimple } from '../src/config/uri.js';

// parseMongoUri reads plain connection strings by hand (parseSimple) and leaves the rest to the driver's parser. These
// tests hold the hand-written path to the parser: for every URI it answers, it answers exactly as the parser does.

describe('plain connection strings', () => {
  test.each([
    'mongodb://127.0.0.1:27017',
    'mongodb://127.0.0.1:27017/',
    'mongodb://localhost/app',
    'mongodb://h1:1,h2:2,h3/app_db-2?replicaSet=rs0&w=majority',
    'mongodb://db.example.com:27017/?retryWrites=true&readPreferenceTags=dc:ny,rack:1&readPreferenceTags=dc:sf',
    'mongodb://h?appName=x',
  ])('reads %s as the parser does', (uri) => {
    const simple = parseSimple(uri);
    expect(simple).toBeDefined();
    expect(typeof simple).not.toBe('string');
    expect(simple).toStrictEqual(parse(uri));
  });

  test.each([
    ['a port out of range', 'mongodb://h:0'],
    ['a port above 65535', 'mongodb://h1:1,h2:70000'],
    ['an option given twice', 'mongodb://h/?w=1&W=2'],
    ['a database name too long', `mongodb://h/${'d'.repeat(70)}`],
  ])('refuses %s with the parser’s reason', (_label, uri) => {
    const simple = parseSimple(uri);
    expect(typeof simple).toBe('string');
    expect(simple).toBe(parse(uri));
  });

  test.each([
    'mongodb://user:pw@h/app',
    'mongodb+srv://cluster0.example.net/app',
    'MONGODB://h',
    ' mongodb://h',
    'mongodb://h/a%20b',
    'mongodb://[::1]:27017',
    'mongodb://h/?w=',
    'mongodb://h/app#x',
    'mongodb:///tmp/mongodb-27017.sock',
    'mongodb://h:123456',
    'mongodb://h:',
    'mongodb://h,',
    'mongodb://h/app?',
  ])('leaves %s to the parser', (uri) => {
    expect(parseSimple(uri)).toBeUndefined();
  });

  test('over generated connection strings, answers exactly as the parser does', () => {
    const hosts = ['h', 'h:1', 'h:65535', 'h:65536', 'h:0', 'a.b-c.d:27017', '10.0.0.1', 'x:00001', '-h', 'h.'];
    const paths = ['', '/', '/app', '/a-b_c', '/local', '/config', `/${'n'.repeat(63)}`, `/${'n'.repeat(64)}`, '/a.b', '/$x'];
    const queries = ['', '?w=1', '?w=1&w=2', '?appName=a.b&replicaSet=rs-0', '?a=1&A=2', '?x=:,', '?1a=2', '?w', '?w=1&'];
    let seed = 7;
    // mulberry32
    const next = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let answered = 0;
    for (let i = 0; i < 2_000; i++) {
      const list = Array.from({ length: 1 + next(3) }, () => hosts[next(hosts.length)]).join(',');
      const uri = `mongodb://${list}${paths[next(paths.length)]}${queries[next(queries.length)]}`;
      const simple = parseSimple(uri);
      if (simple === undefined) continue;
      answered += 1;
      expect(simple, uri).toStrictEqual(parse(uri));
    }
    expect(answered).toBeGreaterThan(500);
  });

  test('answers exactly the URIs of the plain shape (its grammar as a regular expression), character by character', () => {
    // The shape parseSimple reads, as the regular expression it used before it was written as a scanner.
    const SHAPE =
      /^mongodb:\/\/([A-Za-z0-9][A-Za-z0-9.-]*(?::\d{1,5})?(?:,[A-Za-z0-9][A-Za-z0-9.-]*(?::\d{1,5})?)*)(?:\/([A-Za-z0-9_-]*))?(?:\?([A-Za-z][A-Za-z0-9]*=[A-Za-z0-9_.:,-]+(?:&[A-Za-z][A-Za-z0-9]*=[A-Za-z0-9_.:,-]+)*))?$/;
    // Short strings over the characters that matter to the grammar, after the scheme (and a few without it).
    const alphabet = ['a', 'Z', '0', '9', '.', '-', '_', ':', ',', '/', '?', '=', '&', '@', '%', ' ', 'é'];
    let seed = 11;
    const next = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let matched = 0;
    for (let i = 0; i < 20_000; i++) {
      const tail = Array.from({ length: 1 + next(14) }, () => alphabet[next(alphabet.length)]).join('');
      const uri = `${next(50) === 0 ? 'mongodb:/' : 'mongodb://'}${next(3) === 0 ? 'h' : ''}${tail}`;
      const shape = SHAPE.exec(uri);
      const simple = parseSimple(uri);
      expect(simple === undefined, uri).toBe(shape === null);
      if (shape === null || typeof simple !== 'object') continue;
      matched += 1;
      expect(simple.hosts, uri).toBe(shape[1]);
      expect(simple.database, uri).toBe(shape[2] || undefined);
    }
    expect(matched).toBeGreaterThan(300);
  });
});
