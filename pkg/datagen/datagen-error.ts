import { TesseraError } from '../errors/index.js';

/** DATAGEN_BAD_OPTIONS is the code of a DataGenError for options out of range. */
export const DATAGEN_BAD_OPTIONS = 'TESSERA_DATAGEN_BAD_OPTIONS';

/** DataGenError reports data-generator options that cannot describe a data set. */
export class DataGenError extends TesseraError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(DATAGEN_BAD_OPTIONS, message, options);
  }
}

/** isDataGenError reports whether err is a DataGenError. */
export function isDataGenError(err: unknown): err is DataGenError {
  return err instanceof DataGenError;
}
