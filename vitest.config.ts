import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, entry = 'index.ts') => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}`, import.meta.url));

// Tests import the workspace packages from source, so `vitest run` needs no build step.
const alias = {
  '@polymongo/core': src('core'),
  '@polymongo/native': src('native'),
  '@polymongo/mongoose/compat': src('mongoose-adapter', 'compat/index.ts'),
  '@polymongo/mongoose': src('mongoose-adapter'),
  '@polymongo/testkit': src('testkit'),
  '@polymongo/observability': src('observability'),
  '@polymongo/express': src('express'),
  '@polymongo/fastify': src('fastify'),
  '@polymongo/nestjs': src('nestjs'),
  '@polymongo/fleet': src('fleet'),
  '@polymongo/cli': src('cli'),
};

// The Mongoose adapter and the 1.x compat entry run once more with `mongoose` resolving to Mongoose 8 (the
// `mongoose8` alias devDependency, which brings the 6.x driver): both majors are supported peers.
const mongoose8 = fileURLToPath(new URL('./packages/mongoose-adapter/node_modules/mongoose8/index.js', import.meta.url));

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'default', include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'docs/test/**/*.test.ts'] },
      },
      {
        extends: true,
        resolve: { alias: [{ find: /^mongoose$/, replacement: mongoose8 }] },
        test: {
          name: 'mongoose8',
          include: ['packages/mongoose-adapter/test/**/*.test.ts'],
          // The 10,000-tenant scale test is about the adapter's caches, not the Mongoose major; it runs once.
          exclude: ['packages/mongoose-adapter/test/scale.test.ts'],
          typecheck: { enabled: false },
        },
      },
    ],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
    coverage: {
      provider: 'v8',
      include: ['packages/*/src/**/*.ts'],
      exclude: ['packages/*/src/**/*.d.ts'],
      reporter: ['json-summary'],
      reportsDirectory: 'coverage',
    },
    // Type tests (*.test-d.ts) are checked by tsc against the sources, like the aliases above.
    typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
  },
});
