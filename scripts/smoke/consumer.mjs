// Consumer smoke test: installs the packed tarballs of every package into fresh npm projects, the way users
// install them, with the newest published mongodb and mongoose (and a Mongoose 8 project), then runs an ESM import,
// a CJS require, a real create + find through native, the Mongoose adapter and the 1.x compat entry against the
// embedded server, and TypeScript checks of the README examples under moduleResolution node10, node16 and bundler.
// Usage (after `pnpm build`): node scripts/smoke/consumer.mjs [--keep]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'polymongo-smoke-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const step = (label) => console.log(`\n== ${label}`);

step('pack');
const packed = {};
for (const dir of readdirSync(join(root, 'packages')).sort()) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const out = sh('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', dir))
    .trim()
    .split('\n')
    .pop();
  packed[pkg.name] = `file:${out.trim()}`;
  console.log(`${pkg.name} -> ${out.trim().split('/').pop()}`);
}

const projects = [
  {
    name: 'latest',
    deps: {
      mongodb: 'latest',
      mongoose: 'latest',
      express: '^5.1.0',
      fastify: '^5.6.0',
      '@nestjs/common': '^11.1.0',
      '@nestjs/core': '^11.1.0',
      'reflect-metadata': '^0.2.2',
      rxjs: '^7.8.1',
    },
    // Every other package too: each entry point is imported and required, and the CLI's binary runs.
    more: ['@polymongo/express', '@polymongo/fastify', '@polymongo/nestjs', '@polymongo/fleet', '@polymongo/cli'],
  },
  { name: 'mongoose8', deps: { mongodb: '^6.20.0', mongoose: '^8.19.0' } },
];
const failures = [];
for (const project of projects) {
  const dir = join(work, project.name);
  mkdirSync(dir);
  const wanted = [
    '@polymongo/core',
    '@polymongo/native',
    '@polymongo/mongoose',
    '@polymongo/testkit',
    '@polymongo/observability',
    ...(project.more ?? []),
  ];
  const dependencies = Object.fromEntries(wanted.map((n) => [n, packed[n]]));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: `smoke-${project.name}`,
        private: true,
        type: 'module',
        dependencies: { ...dependencies, ...project.deps, typescript: '~5.9.3', '@types/node': '^20.19.0' },
        // Tarballs name each other by version; point those names at the tarballs too.
        overrides: Object.fromEntries(Object.entries(packed).map(([n, spec]) => [n, spec])),
      },
      null,
      2,
    ),
  );
  cpSync(join(root, 'scripts/smoke/fixtures'), dir, { recursive: true });
  try {
    step(`${project.name}: npm install`);
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);
    const version = (name) => JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
    console.log(`mongoose ${version('mongoose')}, mongodb ${version('mongodb')}`);
    step(`${project.name}: ESM`);
    console.log(sh('node', ['esm.mjs'], dir).trim());
    step(`${project.name}: CJS`);
    console.log(sh('node', ['cjs.cjs'], dir).trim());
    if (project.more) {
      step(`${project.name}: every other package (ESM import, CJS require, the polymongo binary)`);
      console.log(sh('node', ['others.mjs'], dir).trim());
      console.log(sh('node', ['others.cjs'], dir).trim());
      const help = sh('npx', ['--no-install', 'polymongo', '--help'], dir);
      if (!help.includes('Usage: polymongo')) throw new Error(`polymongo --help printed:\n${help}`);
      console.log('polymongo --help ok');
    }
    for (const resolution of ['node10', 'node16', 'bundler']) {
      step(`${project.name}: tsc --moduleResolution ${resolution}`);
      const module = resolution === 'node10' ? 'commonjs' : resolution === 'node16' ? 'node16' : 'esnext';
      sh(
        'npx',
        [
          'tsc',
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          'false',
          // As most TypeScript projects set it; zod's own CommonJS declarations need it under node10.
          '--esModuleInterop',
          '--target',
          'es2022',
          '--module',
          module,
          '--moduleResolution',
          resolution,
          '--types',
          'node',
          resolution === 'node10' ? 'types-cjs.ts' : 'types.mts',
        ],
        dir,
      );
      console.log('ok');
    }
  } catch (error) {
    const detail = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim() || String(error);
    console.log(`FAILED:\n${detail.split('\n').slice(0, 40).join('\n')}`);
    failures.push(project.name);
  }
}
if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`\nkept ${work}`);
if (failures.length > 0) {
  console.error(`\nconsumer smoke test failed in: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('\nconsumer smoke test passed');
