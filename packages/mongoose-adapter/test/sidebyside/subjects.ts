import { createRequire } from 'node:module';
import PolyMongoCompat from '@polymongo/mongoose/compat';
import mongoose from 'mongoose';

const require = createRequire(import.meta.url);

/** What a scenario needs from one implementation: its PolyMongo entry and the Mongoose its models are compiled with. */
export interface Subject {
  label: 'v1' | 'compat';
  PolyMongo: typeof PolyMongoCompat;
  mongoose: typeof mongoose;
}

/** The published polymongo@1.3.0 (CommonJS, on its own Mongoose 8 copy), seen through the compat entry's types. */
export function v1(): Subject {
  const PolyMongo = require('polymongo-v1') as typeof PolyMongoCompat;
  const ownMongoose = require(require.resolve('mongoose', { paths: [require.resolve('polymongo-v1')] })) as typeof mongoose;
  return { label: 'v1', PolyMongo, mongoose: ownMongoose };
}

export function compat(): Subject {
  return { label: 'compat', PolyMongo: PolyMongoCompat, mongoose };
}
