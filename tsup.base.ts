import type { Options } from 'tsup';

/** The build every library package shares: ESM + CJS + .d.ts for Node 20, from the given entry points. */
export function libraryBuild(entry: Options['entry']): Options {
  return { entry, format: ['esm', 'cjs'], dts: true, clean: true, sourcemap: true, target: 'node20' };
}
