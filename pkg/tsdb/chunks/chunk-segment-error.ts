import { TesseraError } from '../../errors/index.js';

/** CHUNK_SEGMENT_CORRUPT is the code of errors about malformed chunk segment files. */
export const CHUNK_SEGMENT_CORRUPT = 'TESSERA_CHUNK_SEGMENT_CORRUPT';

/**
 * ChunkSegmentError reports a malformed chunk segment file or a bad chunk reference; `file` and
 * `offset` tell where (offset -1 when not applicable).
 */
export class ChunkSegmentError extends TesseraError {
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? CHUNK_SEGMENT_CORRUPT, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.file = file;
    this.offset = offset;
  }
}
