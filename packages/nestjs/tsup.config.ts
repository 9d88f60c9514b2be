import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base';

// The package applies its decorators by hand and needs no design-time metadata; only the tests' controllers do
// (constructor injection), so the build uses a tsconfig without emitDecoratorMetadata.
export default defineConfig({ ...libraryBuild(['src/index.ts']), tsconfig: 'tsconfig.build.json' });
