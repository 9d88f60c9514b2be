import { describe, expect, test } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import { redactText, redactUri, resolveConfig } from '../src/index.js';
import { configError } from './configError.js';
import { FakePort } from './fakePort.js';

describe('connection strings are checked at construction', () => {
  const refused: Array<[string, string, RegExp]> = [
    ['a port that is not a number', 'mongodb://host:notaport/', /port that is not a number/],
    ['a port out of range', 'mongodb://host:99999/', /port out of range/],
    ['port zero', 'mongodb://host:0/', /port out of range/],
    ['a bad port on the second host', 'mongodb://a:27017,b:x/', /port that is not a number \(host 2 of 2\)/],
    ['credentials taken as the host', 'mongodb://user:pw@/db', /has no host/],
    ['mongodb+srv with a port', 'mongodb+srv://cluster0.example.net:27017/', /mongodb\+srv with a port/],
    ['mongodb+srv with two hosts', 'mongodb+srv://a.example.net,b.example.net/', /exactly one name/],
    ['an empty replicaSet', 'mongodb://host/?replicaSet=', /option "replicaSet" with no value/],
    ['an option given twice', 'mongodb://host/?appName=a&appName=b', /option "appName" more than once/],
    ['a database with a dot', 'mongodb://host/bad.db', /database in its path that contains "\."/],
    ['a database with a space', 'mongodb://host/bad%20db', /database in its path that contains whitespace/],
    ['an empty host in a list', 'mongodb://a,,b/', /empty host/],
  ];

  test.each(refused)('refuses %s with CONFIG_INVALID naming the field and reason', (_label, uri, reason) => {
    const err = configError({ uri });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.issues).toEqual([{ path: 'uri', message: expect.stringMatching(reason) }]);
  });

  test('a bad cluster URI names its cluster', () => {
    const err = configError({ clusters: { eu: { uri: 'mongodb://h:70000' } } });
    expect(err.issues).toEqual([{ path: 'clusters.eu.uri', message: expect.stringMatching(/port out of range/) }]);
  });

  test('a bad dedicated pool URI names its entry', () => {
    const err = configError({ uri: 'mongodb://h', dedicated: [{ tenants: 'a', uri: 'mongodb://h:port' }] });
    expect(err.issues.map((i) => i.path)).toEqual(['dedicated.0.uri']);
  });

  test('mongodb://host/bad.db is CONFIG_INVALID, not INVALID_TENANT, from the client constructor too', () => {
    expect(() => new PolyMongoCore({ uri: 'mongodb://127.0.0.1/bad.db' }, new FakePort())).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  test.each([
    'mongodb://h',
    'mongodb://h:27017,h2:27018/app?replicaSet=rs0&retryWrites=true',
    'mongodb://[::1]:27017/',
    'mongodb+srv://app:p%40ss@cluster0.example.net/app?retryWrites=true&w=majority',
    'mongodb://%2Ftmp%2Fmongodb-27017.sock/app',
    'mongodb://h/?readPreferenceTags=dc:ny&readPreferenceTags=',
    'mongodb://h:65535/admin',
  ])('accepts %s', (uri) => {
    expect(() => resolveConfig({ uri })).not.toThrow();
  });
});

describe('no message contains any part of a password', () => {
  // Unencoded passwords with the characters that break URI parsing, and an encoded one.
  // Random-looking, so a 3-character fragment of one cannot appear in a message by chance.
  const passwords = ['Xq7@Zk', 'Jv:9Wm', 'Rt/4Yp', 'Hb@8/Ns:Qd', 'Lm?3Fx', 'Gc#5Kw', 'Vz@Tn@Pq', 'Wd%40Kj%3AZh', 'Ey@Ub:', '@Oi2Sg'];
  const shapes = [
    (pw: string) => `mongodb://app:${pw}@db.example.com:27017/acme`,
    (pw: string) => `mongodb://app:${pw}@db.example.com/`,
    (pw: string) => `mongodb+srv://app:${pw}@cluster0.example.net/acme`,
    (pw: string) => `mongodb://app:${pw}@/acme`,
    (pw: string) => `mongodb://app:${pw}@db.example.com:99999/acme`,
    (pw: string) => `mongodb://app:${pw}@h/acme?replicaSet=`,
  ];

  // Every fragment of 3 or more characters of the password (a 3-character fragment of it is already a leak).
  const fragments = (pw: string) => {
    const out = new Set<string>();
    const variants = [pw, encodeURIComponent(pw), decodeSafe(pw)];
    for (const v of variants) for (let i = 0; i + 3 <= v.length; i++) out.add(v.slice(i, i + 3));
    // Fragments that are plain structure of the URI, not secret, would make the check meaningless.
    for (const common of ['app', 'acm', 'cme', 'exa', 'mon', 'ngo', 'god', 'odb']) out.delete(common);
    return [...out].filter((f) => /[a-z0-9]/i.test(f));
  };

  test.each(passwords)('password %s', (pw) => {
    for (const shape of shapes) {
      const uri = shape(pw);
      let message = '';
      try {
        new PolyMongoCore({ uri, logger: { level: 'silent' } }, new FakePort());
      } catch (err) {
        message = `${(err as Error).message} ${JSON.stringify(err)}`;
      }
      for (const f of fragments(pw)) expect(message, `${uri} leaked "${f}"`).not.toContain(f);
      for (const f of fragments(pw)) expect(redactUri(uri), `redactUri(${uri})`).not.toContain(f);
      for (const f of fragments(pw)) expect(redactText(`failed: ${uri} (x)`)).not.toContain(f);
    }
  });
});

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
