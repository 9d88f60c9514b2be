import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const pkgDir = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(pkgDir, '../../node_modules/typescript/bin/tsc');

beforeAll(() => {
  // These tests check what users load: the built files. `pnpm test` builds first; a bare vitest run builds here.
  if (!existsSync(join(pkgDir, 'dist/compat/index.cjs'))) execFileSync('pnpm', ['run', 'build'], { cwd: pkgDir, stdio: 'ignore' });
}, 120_000);

/** A throwaway project whose node_modules/@polymongo/mongoose is this package, as an install would lay it out. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-compat-'));
  mkdirSync(join(dir, 'node_modules/@polymongo'), { recursive: true });
  symlinkSync(pkgDir, join(dir, 'node_modules/@polymongo/mongoose'), 'dir');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function run(dir: string, file: string): string {
  return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' }).trim();
}

describe('the compat entry as 1.x apps load it', () => {
  test("require('@polymongo/mongoose/compat') is the PolyMongo object with createWrapper and .default", () => {
    const dir = project({
      'main.cjs': `const PolyMongo = require('@polymongo/mongoose/compat');
const w = PolyMongo.createWrapper({ mongoURI: 'mongodb://127.0.0.1:1', coldStart: true });
console.log(JSON.stringify({ createWrapper: typeof PolyMongo.createWrapper, same: PolyMongo.default === PolyMongo,
  instance: w instanceof PolyMongo, types: typeof PolyMongo.Types, state: w.getConnectionState() }));
w.forceCloseAll().then(() => process.exit(0));`,
    });
    expect(JSON.parse(run(dir, 'main.cjs'))).toEqual({
      createWrapper: 'function',
      same: true,
      instance: true,
      types: 'object',
      state: 'not initialized',
    });
  });

  test("import PolyMongo from '@polymongo/mongoose/compat' gives the same object in ESM", () => {
    const dir = project({
      'main.mjs': `import PolyMongo from '@polymongo/mongoose/compat';
import { createRequire } from 'node:module';
const fromRequire = createRequire(import.meta.url)('@polymongo/mongoose/compat');
console.log(typeof PolyMongo.createWrapper, typeof fromRequire.createWrapper);`,
    });
    expect(run(dir, 'main.mjs')).toBe('function function');
  });

  const source = (importLine: string) => `${importLine}
const wrapper = PolyMongo.createWrapper({ mongoURI: 'mongodb://127.0.0.1:27017', maxPoolSize: 10 });
const options: PolyMongo.Types.Options = { mongoURI: 'mongodb://127.0.0.1:27017' };
const state: string = wrapper.getConnectionState();
void [options, state];
`;
  const cases: Array<[string, Record<string, unknown>, Record<string, string>]> = [
    [
      'node10',
      { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
      {
        'a.ts': source("import PolyMongo from '@polymongo/mongoose/compat';"),
        'b.ts': source("import PolyMongo = require('@polymongo/mongoose/compat');"),
      },
    ],
    [
      'node16',
      { module: 'node16', moduleResolution: 'node16' },
      {
        'a.mts': source("import PolyMongo from '@polymongo/mongoose/compat';"),
        'b.cts': source("import PolyMongo = require('@polymongo/mongoose/compat');"),
      },
    ],
    [
      'bundler',
      { module: 'esnext', moduleResolution: 'bundler' },
      { 'a.ts': source("import PolyMongo from '@polymongo/mongoose/compat';") },
    ],
  ];
  test.each(cases)(
    'TypeScript resolves and type-checks it under moduleResolution %s',
    (_name, compilerOptions, files) => {
      const dir = project({
        ...files,
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            ...compilerOptions,
            strict: true,
            noEmit: true,
            skipLibCheck: _name !== 'bundler',
            target: 'es2022',
            types: ['node'],
            typeRoots: [join(pkgDir, '../../node_modules/@types')],
          },
          include: Object.keys(files),
        }),
      });
      expect(() => execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' })).not.toThrow();
    },
    120_000,
  );
});
