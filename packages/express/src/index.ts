/**
 * @polymongo/express: the request's tenant for the rest of the request (`tenantMiddleware`), and PolyMongo
 * errors answered as JSON with the right HTTP status (`errorHandler`). Express 4 and 5.
 */
export { type ErrorHandlerOptions, errorHandler } from './errorHandler.js';
export { type TenantMiddlewareOptions, tenantMiddleware } from './tenantMiddleware.js';
