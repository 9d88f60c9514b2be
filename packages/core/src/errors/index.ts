export * from './errors.js';
export { type HttpErrorResponse, httpErrorOf } from './httpError.js';
