import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.base';

// cjsInterop: the compat entry has only a default export, so `require('@polymongo/mongoose/compat')` is the PolyMongo
// class itself (`module.exports = PolyMongo`), as `require('polymongo')` was in 1.x.
export default defineConfig({
  ...libraryBuild({ index: 'src/index.ts', 'compat/index': 'src/compat/index.ts' }),
  cjsInterop: true,
  splitting: true,
});
