import { crc32c, putUvarint, uvarintSize } from '../encoding/index.js';

/**
 * encodeChunkedFrame returns one STREAMED_XOR_CHUNKS frame for a message: uvarint size, BE32
 * CRC-32C of the message, message (Prometheus's ChunkedWriter). Used by test servers.
 */
export function encodeChunkedFrame(msg: Uint8Array): Uint8Array {
  const hl = uvarintSize(msg.length);
  const out = new Uint8Array(hl + 4 + msg.length);
  putUvarint(out, 0, msg.length);
  const crc = crc32c(msg);
  out[hl] = crc >>> 24;
  out[hl + 1] = (crc >>> 16) & 0xff;
  out[hl + 2] = (crc >>> 8) & 0xff;
  out[hl + 3] = crc & 0xff;
  out.set(msg, hl + 4);
  return out;
}
