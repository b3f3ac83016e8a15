import { TesseraError } from '../errors/index.js';

/** PrompbErrorCode lists the stable codes of PrompbError. */
export const PrompbErrorCode = {
  /** A protobuf message is malformed (truncated field, bad wire type, varint overflow). */
  Decode: 'TESSERA_PROMPB_DECODE',
  /** A snappy block could not be decompressed. */
  Snappy: 'TESSERA_PROMPB_SNAPPY',
  /** A STREAMED_XOR_CHUNKS frame is corrupt (CRC mismatch), truncated or too large. */
  Frame: 'TESSERA_PROMPB_FRAME',
} as const;
export type PrompbErrorCode = (typeof PrompbErrorCode)[keyof typeof PrompbErrorCode];

/**
 * PrompbError is raised while decoding Prometheus remote-read payloads. `offset` is the byte
 * offset of the problem in the payload (for frame errors: in the whole response body).
 */
export class PrompbError extends TesseraError {
  readonly offset: number;
  constructor(code: PrompbErrorCode, message: string, offset: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.offset = offset;
  }
}
