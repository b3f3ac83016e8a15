export { TesseraError, isTesseraError } from './tessera-error.js';
