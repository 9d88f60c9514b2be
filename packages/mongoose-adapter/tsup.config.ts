import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'compat/index': 'src/compat/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
