import { TesseraError } from '../../errors/index.js';

/** BlockErrorCode is the stable code of BlockError. */
export const BlockErrorCode = 'TESSERA_BLOCK_INVALID';

/**
 * BlockError reports a block directory that cannot be opened or written: a missing or invalid
 * meta.json, an unreadable file, a block that already exists… It names the file (and, when known,
 * the offset, else -1); decoding errors of the index or chunks are attached as cause.
 */
export class BlockError extends TesseraError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? BlockErrorCode, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
    this.offset = offset;
  }
}
