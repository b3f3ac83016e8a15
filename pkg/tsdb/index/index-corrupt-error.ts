import { TesseraError } from '../../errors/index.js';

/** IndexCorruptErrorCode is the stable code of IndexCorruptError. */
export const IndexCorruptErrorCode = 'TESSERA_CORRUPT_INDEX';

/**
 * IndexCorruptError reports an index file that cannot be decoded: bad magic or version, a
 * checksum mismatch, a length pointing outside the file, an unknown symbol reference… It names the
 * file and the absolute offset where the problem was found.
 */
export class IndexCorruptError extends TesseraError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, message: string, options?: { cause?: unknown }) {
    super(IndexCorruptErrorCode, `read index ${file}: ${message}`, options);
    this.file = file;
    this.offset = offset;
  }
}
