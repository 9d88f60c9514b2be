/**
 * @polymongo/nestjs: PolyMongo 2 as a NestJS module (`PolyMongoModule.forRoot` / `forRootAsync`), the client
 * injected with `@InjectPolyMongo()`, `TenantMiddleware` for the request's tenant, and an exception filter.
 */

export { PolyMongoExceptionFilter } from './PolyMongoExceptionFilter.js';
export {
  InjectPolyMongo,
  PolyMongoModule,
  type PolyMongoModuleAsyncOptions,
  type PolyMongoModuleExtras,
  type PolyMongoModuleOptions,
} from './PolyMongoModule.js';
export { TenantMiddleware } from './TenantMiddleware.js';
export { POLYMONGO } from './tokens.js';
