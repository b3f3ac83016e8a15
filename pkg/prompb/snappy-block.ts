import { compress, uncompress } from 'snappyjs';
import { PrompbError, PrompbErrorCode } from './errors.js';

/** MaxDecodedSize is the decoded-size limit Prometheus applies to remote-read bodies (32 MiB). */
export const MaxDecodedSize = 32 << 20;

/**
 * snappyBlockEncode compresses data in the snappy *block* format (Go's snappy.Encode), as used by
 * remote-read requests and SAMPLES responses (not the framing format of gRPC compression).
 */
export function snappyBlockEncode(data: Uint8Array): Uint8Array {
  return compress(toPlain(data));
}

/**
 * snappyBlockDecode decompresses a snappy block, refusing a declared decoded length above maxSize
 * (default: unlimited, pass MaxDecodedSize to apply Prometheus's limit).
 */
export function snappyBlockDecode(data: Uint8Array, maxSize?: number): Uint8Array {
  try {
    return maxSize === undefined ? uncompress(toPlain(data)) : uncompress(toPlain(data), maxSize);
  } catch (err) {
    throw new PrompbError(PrompbErrorCode.Snappy, `decompress snappy block of ${data.length} bytes: ${(err as Error).message}`, 0, { cause: err });
  }
}

// snappyjs returns a Buffer for a Buffer input; callers of this package get plain Uint8Arrays.
function toPlain(data: Uint8Array): Uint8Array {
  return Buffer.isBuffer(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data;
}
