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

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'docs/test/**/*.test.ts'],
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
