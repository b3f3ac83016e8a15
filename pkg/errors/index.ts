export { TesseraError, isTesseraError } from './tessera-error.js';
export { runInRequestScope, currentRequestScope } from './request-scope.js';
export type { RequestScope } from './request-scope.js';
