export { currentTenant, PolyMongoError, runWithTenant } from '@polymongo/native';
export { createMongooseAdapter, MongooseAdapter, type MongooseAdapterOptions } from './MongooseAdapter.js';
export type { AnyModel, WrappedModel } from './WrappedModel.js';
